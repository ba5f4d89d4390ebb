package keystore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// lockPath takes a lock on the file at path (created if missing, never renamed or removed),
// shared for readers and exclusive for writers, and returns the function that releases it.
// It polls without blocking so that the wait is bounded by timeout and by ctx: another
// process holds the lock at most for its own keyring calls, which are bounded too. onWait,
// if set, is told once that the lock is held elsewhere.
func lockPath(ctx context.Context, path string, exclusive bool, timeout time.Duration, onWait func(string, time.Duration)) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	wait := 2 * time.Millisecond
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if onWait != nil {
			onWait(path, timeout)
			onWait = nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, &TimeoutError{Op: "lock", After: timeout, Path: path}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// writeFileAtomic replaces path with data: a temporary file of mode 0600 in the same
// directory, written, fsynced, renamed over path, then the directory fsynced, so that a
// reader (or a crash) sees either the old file or the new one, never a mix.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot open a directory for syncing, and
// its rename is durable once MoveFileEx returns.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ensurePrivateDir creates dir with mode 0700 if it is missing. With strict set, it refuses
// an existing directory that other users can read or enter (not checked on Windows, whose
// permissions are ACLs that Go's mode bits do not describe).
func ensurePrivateDir(dir string, strict bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !strict || runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("directory %s has mode %#o, open to other users: run chmod 700 %s, or choose another directory",
			dir, fi.Mode().Perm(), dir)
	}
	return nil
}
