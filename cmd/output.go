package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client"
)

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table lays out key/value rows in two aligned columns; empty values are skipped.
type table struct{ rows [][2]string }

func (t *table) row(k, v string) {
	if v != "" {
		t.rows = append(t.rows, [2]string{k, v})
	}
}

// members adds a row per metadata member, sorted by name; strings bare, the rest as JSON.
func (t *table) members(md client.Metadata) error {
	b, err := json.Marshal(md)
	if err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var s string
		if err := json.Unmarshal(members[k], &s); err != nil {
			s = string(members[k])
		}
		t.row(k, s)
	}
	return nil
}

func (t *table) String() string {
	width := 0
	for _, r := range t.rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range t.rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, r[0], r[1])
	}
	return b.String()
}

// writeYAMLFromJSON converts a JSON document to block-style YAML, keeping member order.
func writeYAMLFromJSON(w io.Writer, doc []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return err
	}
	var unflow func(*yaml.Node)
	unflow = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle) != 0 {
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			unflow(c)
		}
	}
	unflow(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// writeData prints v as JSON, YAML, or with table for the table format.
func writeData(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "json":
		return writeJSON(w, v)
	case "yaml":
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return writeYAMLFromJSON(w, b)
	}
	return table(w)
}
