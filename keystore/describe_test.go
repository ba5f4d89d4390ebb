package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestDescribe: the file store says where its index and plaintext secrets are and that it
// answers; a corrupt index or secrets file is reported as a CorruptError; memory answers.
func TestDescribe(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	s, err := Open(KindFile, Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sample("a", 1)); err != nil {
		t.Fatal(err)
	}
	got := s.(Describer).Describe(ctx)
	want := Description{Kind: KindFile, ConfigDir: dir, Index: filepath.Join(dir, indexFile), Secrets: filepath.Join(dir, "plaintext", plaintextFile)}
	if got != want {
		t.Errorf("Describe = %+v, want %+v", got, want)
	}
	for _, broken := range []string{filepath.Join(dir, "plaintext", plaintextFile), filepath.Join(dir, indexFile)} {
		if err := os.WriteFile(broken, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		var ce *CorruptError
		if d := s.(Describer).Describe(ctx); !errors.As(d.Err, &ce) || ce.Path != broken {
			t.Errorf("%s corrupt: Err = %v, want a CorruptError naming it", broken, d.Err)
		}
	}
	if d := NewMemory().Describe(ctx); d.Kind != KindMemory || d.Err != nil {
		t.Errorf("memory: %+v", d)
	}
}
