package keystore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzStripSecrets: whatever the registration response, what reaches the index is valid
// JSON without a top-level secret member, and every other member is kept.
func FuzzStripSecrets(f *testing.F) {
	f.Add([]byte(`{"client_id":"a","client_secret":"s","x":{"client_secret":1}}`))
	f.Add([]byte(`{"registration_access_token":"t","refresh_token":"r"}`))
	f.Add([]byte(` {"a" : [1, 2, {"b": null}], "a": "dup"} `))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := stripSecrets(raw)
		if err != nil || out == nil {
			return
		}
		var in, got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output is not a JSON object: %v", err)
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatalf("accepted input that is not a JSON object: %v", err)
		}
		for k, v := range in {
			_, kept := got[k]
			switch {
			case slices.Contains(secretMembers, k) && kept:
				t.Errorf("secret member %q kept", k)
			case !slices.Contains(secretMembers, k) && !kept:
				t.Errorf("member %q lost", k)
			case kept:
				var a, b bytes.Buffer
				json.Compact(&a, v)
				json.Compact(&b, got[k])
				if a.String() != b.String() {
					t.Errorf("member %q changed", k)
				}
			}
		}
	})
}

// FuzzReadIndex: any index file either reads, and then survives a write and a read
// unchanged, or gives an error — never a panic.
func FuzzReadIndex(f *testing.F) {
	f.Add([]byte(`{"version":1,"credentials":[{"name":"a","id":"01","keystore":"os","secrets":{"keystore":"os","id":"01","gen":1,"chunks":1,"size":9}}]}`))
	f.Add([]byte(`{"version":1,"credentials":[],"garbage":[{"keystore":"file","id":"x","gen":2,"chunks":1}]}`))
	f.Add([]byte(`{"version":1,"credentials":[{"name":"a","id":"1","keystore":"os","registration":{"a":1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), indexFile)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		idx, err := readIndex(path)
		if err != nil {
			return
		}
		if err := writeIndex(path, idx); err != nil {
			t.Fatal(err)
		}
		again, err := readIndex(path)
		if err != nil {
			t.Fatalf("an index we wrote does not read back: %v", err)
		}
		a, _ := json.Marshal(idx)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Errorf("round trip changed the index:\n%s\n%s", a, b)
		}
	})
}
