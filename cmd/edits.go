package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// readFileOrStdin reads FILE, or standard input for "-", through a size limit.
func readFileOrStdin(ios *IOStreams, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = ios.In
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("-f: %v: check the path", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > 1<<20 {
		return nil, usageErrorf("-f %s: larger than 1 MiB: is it the right file?", name)
	}
	return b, nil
}

// metadataEdits are -f, --set and --unset.
type metadataEdits struct {
	File  string
	Set   []string
	Unset []string
}

func (e metadataEdits) empty() bool { return e.File == "" && len(e.Set) == 0 && len(e.Unset) == 0 }

// apply merges the edits over base (a JSON object's members): the file's members first, then
// every --set (the value is JSON when it parses as JSON, else a string), then every --unset.
// It warns on ios when a secret is set on the command line.
func (e metadataEdits) apply(ios *IOStreams, base map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	if base == nil {
		base = map[string]json.RawMessage{}
	}
	if e.File != "" {
		b, err := readFileOrStdin(ios, e.File)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			return nil, usageErrorf("-f %s: not a JSON object of client metadata (%v): fix the file, e.g. {\"client_name\": \"Shop\", \"grant_types\": [\"client_credentials\"]}", e.File, err)
		}
		for k, v := range m {
			base[k] = v
		}
	}
	for _, s := range e.Set {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--set %q: use --set key=value, e.g. --set client_name=Shop or --set 'grant_types=[\"client_credentials\"]'", s)
		}
		if client.IsSecretMember(k) {
			warnSecretOnArgv(ios, "--set "+k, "put it in a file given with -f instead")
		}
		if json.Valid([]byte(v)) {
			base[k] = json.RawMessage(v)
		} else {
			q, _ := json.Marshal(v)
			base[k] = q
		}
	}
	for _, k := range e.Unset {
		if k == "" {
			return nil, usageErrorf("--unset needs a member name, e.g. --unset logo_uri")
		}
		delete(base, k)
	}
	return base, nil
}

// toMetadata decodes members into client.Metadata, which keeps unknown members in Extra.
func toMetadata(members map[string]json.RawMessage) (client.Metadata, error) {
	var md client.Metadata
	b, err := json.Marshal(members)
	if err != nil {
		return md, usageErrorf("client metadata: %v", err)
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return md, usageErrorf("client metadata: %v: fix the value's type (e.g. grant_types is a JSON array)", err)
	}
	return md, nil
}

// membersOf returns md's members as a map.
func membersOf(md client.Metadata) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	return m, json.Unmarshal(b, &m)
}
