package keystore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
)

// Locker is implemented by stores that can serialise the operations on one credential. A
// caller that reads a credential, calls the server and stores the answer (an RFC 7592 read
// or update, which may rotate the secrets) holds the lock across the whole sequence, so that
// a second caller never works from a registration access token the first one is replacing.
//
// The "os" and "file" stores lock across processes with a lock file per credential name in
// the configuration directory's "locks" directory (mode 0700); Memory locks within the
// process. The lock is advisory: it binds only callers that take it.
type Locker interface {
	// Lock takes the lock on the credential called name, waiting at most the store's lock
	// timeout (or until ctx ends), and returns the function that releases it. It does not
	// require the credential to exist.
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

var (
	_ Locker = (*indexedStore)(nil)
	_ Locker = (*Memory)(nil)
	_ Locker = (*NameLocks)(nil)
)

// locksDir is the directory of the per-credential lock files, beside the index.
const locksDir = "locks"

// Lock takes the cross-process lock on the credential called name.
func (s *indexedStore) Lock(ctx context.Context, name string) (func(), error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("keystore: lock: %w", err)
	}
	dir := filepath.Join(s.dir, locksDir)
	if err := ensurePrivateDir(s.dir, false); err != nil {
		return nil, fmt.Errorf("keystore: lock %q: %w", name, err)
	}
	if err := ensurePrivateDir(dir, false); err != nil {
		return nil, fmt.Errorf("keystore: lock %q: %w", name, err)
	}
	unlock, err := lockPath(ctx, filepath.Join(dir, fileSafe(name)+".lock"), true, s.lockTimeout, s.onLockWait)
	if err != nil {
		return nil, fmt.Errorf("keystore: lock %q: %w", name, err)
	}
	return unlock, nil
}

// NameLocks is an in-process lock per credential name, a Locker for stores that have none of
// their own (it binds only callers within this process). The zero value is ready to use.
type NameLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Lock takes the lock on name, waiting until it is free or ctx ends.
func (l *NameLocks) Lock(ctx context.Context, name string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]chan struct{}{}
	}
	ch, ok := l.locks[name]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[name] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-ch }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("keystore: lock %q: %w", name, ctx.Err())
	}
}
