package declare

import _ "embed"

//go:embed schema.json
var schema []byte

//go:embed example.yaml
var example []byte

// Schema returns the JSON Schema (draft 2020-12) of a desired-state file.
func Schema() []byte { return append([]byte(nil), schema...) }

// Example returns an annotated example of a desired-state file (YAML), the one dcrctl apply
// --explain prints. It parses, and against dcrctl serve's default configuration it applies.
func Example() []byte { return append([]byte(nil), example...) }
