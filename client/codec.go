package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// This file holds the JSON machinery shared by Metadata, Registration and ServerMetadata:
// a typed struct for the members the SDK knows, plus maps for everything else, so that any
// JSON object survives decode → encode with its unknown members untouched.

// jsonNames returns the JSON member names of struct type t's tagged fields.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// splitObject decodes data, which must be a JSON object, and splits its members into those
// named in known and the rest. Members named in skip are dropped, and so is every member
// whose value is null: null means absent, in every document this package reads (servers
// such as Ory Hydra send "redirect_uris": null and null for every unset vendor member).
func splitObject(data []byte, known, skip map[string]bool) (knownMembers, rest map[string]json.RawMessage, err error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, nil, err
	}
	if all == nil {
		return nil, nil, fmt.Errorf("want a JSON object, got null")
	}
	knownMembers = map[string]json.RawMessage{}
	for k, v := range all {
		switch {
		case skip[k], isNull(v):
		case known[k]:
			knownMembers[k] = v
		default:
			if rest == nil {
				rest = map[string]json.RawMessage{}
			}
			rest[k] = v
		}
	}
	return knownMembers, rest, nil
}

// isNull reports whether v is the JSON literal null.
func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// decodeKnown decodes members (exact names only, so encoding/json's case-insensitive
// matching cannot capture an unknown member) into the struct pointed to by dst. On failure
// it reports which member had the wrong type.
func decodeKnown(members map[string]json.RawMessage, dst any) error {
	keys := slices.Sorted(mapKeys(members))
	var obj bytes.Buffer
	obj.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			obj.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		obj.Write(key)
		obj.WriteByte(':')
		obj.Write(members[k])
	}
	obj.WriteByte('}')
	if json.Unmarshal(obj.Bytes(), dst) == nil {
		return nil
	}
	for _, k := range keys {
		key, _ := json.Marshal(k)
		one := slices.Concat([]byte("{"), key, []byte(":"), members[k], []byte("}"))
		if err := json.Unmarshal(one, dst); err != nil {
			return fmt.Errorf("member %q: %w", k, typeErr(err))
		}
	}
	return nil
}

func typeErr(err error) error {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Errorf("got a JSON %s, want %s", te.Value, te.Type)
	}
	return err
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// objectWriter builds a JSON object member by member, in order.
type objectWriter struct {
	buf  bytes.Buffer
	seen map[string]bool
}

func (w *objectWriter) raw(key string, val []byte) error {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[key] {
		return fmt.Errorf("member %q given twice", key)
	}
	w.seen[key] = true
	var v bytes.Buffer
	if err := json.Compact(&v, val); err != nil {
		return fmt.Errorf("member %q: invalid JSON: %w", key, err)
	}
	if w.buf.Len() == 0 {
		w.buf.WriteByte('{')
	} else {
		w.buf.WriteByte(',')
	}
	k, _ := marshal(key)
	w.buf.Write(k)
	w.buf.WriteByte(':')
	w.buf.Write(v.Bytes())
	return nil
}

// object appends every member of the JSON object obj, in its order.
func (w *objectWriter) object(obj []byte) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := w.raw(t.(string), v); err != nil {
			return err
		}
	}
	return nil
}

// trusted appends the members of obj, a JSON object produced by marshal from a struct whose
// member names are names; it skips re-parsing obj and marks every name as used.
func (w *objectWriter) trusted(obj []byte, names map[string]bool) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	for k := range names {
		w.seen[k] = true
	}
	inner := bytes.TrimSpace(obj)
	inner = bytes.TrimSpace(inner[1 : len(inner)-1])
	if len(inner) == 0 {
		return
	}
	if w.buf.Len() == 0 {
		w.buf.WriteByte('{')
	} else {
		w.buf.WriteByte(',')
	}
	w.buf.Write(inner)
}

// sorted appends the members of m in key order.
func (w *objectWriter) sorted(m map[string]json.RawMessage) error {
	for _, k := range slices.Sorted(mapKeys(m)) {
		if err := w.raw(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (w *objectWriter) bytes() []byte {
	if w.buf.Len() == 0 {
		return []byte("{}")
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes()
}

// marshal is json.Marshal without HTML escaping, so URLs stay readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// typeNames caches jsonNames per type.
var typeNames sync.Map // reflect.Type → map[string]bool

func namesOf(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if m, ok := typeNames.Load(t); ok {
		return m.(map[string]bool)
	}
	m := jsonNames(t)
	typeNames.Store(t, m)
	return m
}
