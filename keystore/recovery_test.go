package keystore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteRecovery(t *testing.T) {
	tests := []struct {
		name     string
		credName string
		prefix   string // of the file name
	}{
		{"plain name", "app", "app-"},
		{"path traversal", "../../etc/passwd", "_.._etc_passwd-"},
		{"unicode and spaces", "mon app é", "mon_app__-"},
		{"only dots", "..", "credential-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "recovery")
			c := sample(tc.credName, 1)
			path, err := WriteRecovery(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != dir || !strings.HasPrefix(filepath.Base(path), tc.prefix) || !strings.HasSuffix(path, ".json") {
				t.Errorf("path %s, want %s/%s….json", path, dir, tc.prefix)
			}
			got, err := ReadRecovery(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := credDiff(got, c); d != "" {
				t.Errorf("ReadRecovery: %s", d)
			}
			if runtime.GOOS != "windows" {
				fi, _ := os.Stat(path)
				di, _ := os.Stat(dir)
				if fi.Mode() != 0o600 || di.Mode() != fs.ModeDir|0o700 {
					t.Errorf("modes: file %v, dir %v; want 0600 and 0700", fi.Mode(), di.Mode())
				}
			}
			// A second write never overwrites the first.
			path2, err := WriteRecovery(dir, c)
			if err != nil || path2 == path {
				t.Errorf("second WriteRecovery = %s, %v; want a new file", path2, err)
			}
		})
	}
}

func TestReadRecoveryCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":   "{",
		"no name":    `{"credential":{"client_id":"x"}}`,
		"wrong type": `{"credential":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.json")
			os.WriteFile(path, []byte(content), 0o600)
			_, err := ReadRecovery(path)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Errorf("ReadRecovery: %v, want *CorruptError", err)
			}
		})
	}
	if _, err := ReadRecovery(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadRecovery of a missing file: %v, want fs.ErrNotExist", err)
	}
}
