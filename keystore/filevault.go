package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// fileVault is the "file" store's secrets: a plaintext JSON file of mode 0600 in a directory
// of mode 0700. It is insecure by design — anyone who can read the file as the user, or a
// backup of it, has the secrets — and is used only when chosen by name.
type fileVault struct {
	path, dir string
}

// plaintext is the content of the plaintext secrets file.
type plaintext struct {
	Warning string            `json:"warning"`
	Version int               `json:"version"`
	Entries map[string]string `json:"entries"`
}

const plaintextWarning = "dcrctl --keystore file: these secrets are stored in plaintext; keep this file private"

func (v *fileVault) maxChunk() int               { return 1 << 20 }
func (v *fileVault) maxTotal() int               { return 1 << 20 }
func (v *fileVault) describe(acct string) string { return fmt.Sprintf("entry %q of %s", acct, v.path) }

func (v *fileVault) load() (plaintext, error) {
	p := plaintext{Version: 1, Entries: map[string]string{}}
	data, err := os.ReadFile(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		// A json.SyntaxError names an offset and one character, never a whole value.
		return p, &CorruptError{Path: v.path, Err: err}
	}
	if p.Entries == nil {
		p.Entries = map[string]string{}
	}
	return p, nil
}

func (v *fileVault) save(p plaintext) error {
	if err := ensurePrivateDir(v.dir, true); err != nil {
		return err
	}
	p.Warning, p.Version = plaintextWarning, 1
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(v.path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", v.path, err)
	}
	return nil
}

func (v *fileVault) set(ctx context.Context, acct, data string) error {
	p, err := v.load()
	if err != nil {
		return err
	}
	p.Entries[acct] = data
	return v.save(p)
}

func (v *fileVault) get(ctx context.Context, acct string) (string, error) {
	p, err := v.load()
	if err != nil {
		return "", err
	}
	s, ok := p.Entries[acct]
	if !ok {
		return "", errEntryMissing
	}
	return s, nil
}

func (v *fileVault) del(ctx context.Context, acct string) error {
	p, err := v.load()
	if err != nil {
		return err
	}
	if _, ok := p.Entries[acct]; !ok {
		return nil
	}
	delete(p.Entries, acct)
	return v.save(p)
}
