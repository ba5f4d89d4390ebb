package keystore

import (
	"context"
	"errors"
	"fmt"
)

// Description says where a store keeps credentials and whether its secret store answers.
type Description struct {
	// Kind is "os", "file" or "memory".
	Kind string
	// ConfigDir holds the index and the lock files; Index is the index file. Both "" for
	// memory.
	ConfigDir, Index string
	// Secrets says where the secrets are: the OS keyring's service name, or the plaintext
	// file's path.
	Secrets string
	// Err is nil when the index can be read and the secret store answers a read; otherwise
	// it says why not (an *UnavailableError for a missing keyring, a *LockedError, a
	// timeout matching context.DeadlineExceeded, a *CorruptError).
	Err error
}

// Describer is implemented by the stores Open returns.
type Describer interface {
	// Describe reads the index and asks the secret store for an entry that does not exist:
	// no secret is read, and a keyring does not raise an unlock prompt.
	Describe(ctx context.Context) Description
}

var (
	_ Describer = (*indexedStore)(nil)
	_ Describer = (*Memory)(nil)
)

// statusProbe is the account Describe asks the secret store for; it never exists.
const statusProbe = "dcrctl-status-probe"

// Describe describes the "os" or "file" store.
func (s *indexedStore) Describe(ctx context.Context) Description {
	d := Description{Kind: s.kind, ConfigDir: s.dir, Index: s.indexPath()}
	switch v := s.vault.(type) {
	case *fileVault:
		d.Secrets = v.path
	case *osVault:
		d.Secrets = fmt.Sprintf("the OS keyring, service %q", v.service)
	}
	d.Err = s.probe(ctx)
	return d
}

func (s *indexedStore) probe(ctx context.Context) error {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	defer unlock()
	if _, err := readIndex(s.indexPath()); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if _, err := s.vault.get(ctx, statusProbe); err != nil && !errors.Is(err, errEntryMissing) {
		return fmt.Errorf("keystore: %w", err)
	}
	return nil
}

// Describe describes the memory store, which always answers.
func (m *Memory) Describe(ctx context.Context) Description {
	return Description{Kind: KindMemory, Secrets: "this process's memory", Err: ctx.Err()}
}
