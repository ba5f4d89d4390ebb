package testserver

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzJSONStrings: on any valid JSON value (valid UTF-8 or not), jsonString and jsonStrings decode exactly what
// encoding/json does.
func FuzzJSONStrings(f *testing.F) {
	for _, s := range []string{`"a"`, `"a\"b"`, `["x", "y" ]`, `[]`, `[ "a",null]`, `["a",1]`, `[["a"]]`, `"é\u00e9"`, `null`, `{"a":"b"}`, `[ "a" , "b\\c" ]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		var s string
		serr := json.Unmarshal(in, &s)
		if got, ok := jsonString(in); ok != (serr == nil) || ok && got != s {
			t.Fatalf("jsonString(%q) = %q, %v; encoding/json %q, %v", in, got, ok, s, serr)
		}
		var a []string
		aerr := json.Unmarshal(in, &a)
		if got, ok := jsonStrings(in); ok != (aerr == nil) || ok && !slices.Equal(got, a) {
			t.Fatalf("jsonStrings(%q) = %q, %v; encoding/json %q, %v", in, got, ok, a, aerr)
		}
	})
}

// FuzzObjectMembers: on any valid JSON object, decodeObject's members are exactly what
// encoding/json finds (a name sent twice: the last value).
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "a":"x\"y" } `, `{"":null,"t":true,"n":-1.5e3}`, `{"a\u00e9":{"b":[]}}`, `{"x":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(in) || json.Unmarshal(in, &want) != nil || want == nil {
			return
		}
		got := objectMembers(in)
		if len(got) != len(want) {
			t.Fatalf("objectMembers(%q) = %q; encoding/json %q", in, got, want)
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Fatalf("objectMembers(%q)[%q] = %q; encoding/json %q", in, k, got[k], v)
			}
		}
	})
}
