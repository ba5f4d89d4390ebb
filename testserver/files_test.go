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

// TestWriteCertFile: the self-signed certificate goes next to the database (directory 0700,
// file 0600, also over an older 0644 file), or to a temporary file that remove deletes.
func TestWriteCertFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	db := filepath.Join(t.TempDir(), "d", "serve.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(filepath.Dir(db), "serve-cert.pem"), []byte("old"), 0o644)
	p, remove, err := WriteCertFile(db, []byte("pem"))
	if err != nil {
		t.Fatal(err)
	}
	remove()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := os.ReadFile(p)
	tmp, removeTmp, err := WriteCertFile("", []byte("pem"))
	if err != nil {
		t.Fatal(err)
	}
	tfi, err := os.Stat(tmp)
	if err != nil {
		t.Fatal(err)
	}
	removeTmp()
	_, gone := os.Stat(tmp)
	got := []any{p == filepath.Join(filepath.Dir(db), "serve-cert.pem"), fi.Mode().Perm(), string(content), tfi.Mode().Perm(), os.IsNotExist(gone)}
	if want := []any{true, fs.FileMode(0o600), "pem", fs.FileMode(0o600), true}; !reflect.DeepEqual(got, want) {
		t.Errorf("[next to db, mode, content, temp mode, temp removed] = %v, want %v", got, want)
	}
}
