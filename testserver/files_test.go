package testserver

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

// TestDatabaseFilesPrivate: the database holds the signing key and generated secrets in
// clear, so its directory is 0700 and the database, WAL and shared-memory files 0600, also
// for a database created world-readable by an older version.
func TestDatabaseFilesPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "new", "dcrctl")
	db := filepath.Join(dir, "serve.db")
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) fs.FileMode {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	for _, path := range []string{db, old} {
		cfg := DefaultConfig()
		cfg.DBPath = path
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// A write, so that the WAL and shared-memory files exist.
		if err := s.store.update(t.Context(), func(tx txn) error { return tx.putMeta("probe", []byte("x")) }); err != nil {
			t.Fatal(err)
		}
		got := []fs.FileMode{mode(path), mode(path + "-wal"), mode(path + "-shm")}
		if want := []fs.FileMode{0o600, 0o600, 0o600}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: modes of db, wal, shm = %v, want %v", filepath.Base(path), got, want)
		}
		s.Close()
	}
	if got := mode(dir); got != 0o700 {
		t.Errorf("database directory mode %v, want 0700", got)
	}
}
