package keystore

import (
	"context"
	"errors"
	"fmt"
)

// ErrExists is returned by Rename when a credential of the new name is stored already.
var ErrExists = errors.New("a credential of that name is stored already")

// Renamer is implemented by stores that rename a credential in one step, without reading or
// rewriting its secrets. The "os" and "file" stores rename the index entry only: the
// secret-store entries are keyed by the entry's stable id, so no keyring prompt is raised.
type Renamer interface {
	// Rename gives the credential called oldName the name newName. It returns an error
	// matching ErrNotFound when oldName is not stored, and one matching ErrExists when newName
	// is.
	Rename(ctx context.Context, oldName, newName string) error
}

var (
	_ Renamer = (*indexedStore)(nil)
	_ Renamer = (*Memory)(nil)
)

// Rename renames the index entry: one atomic rewrite of the index under its lock.
func (s *indexedStore) Rename(ctx context.Context, oldName, newName string) error {
	if err := validName(newName); err != nil {
		return fmt.Errorf("keystore: rename: %w", err)
	}
	if err := s.rename(ctx, oldName, newName); err != nil {
		return fmt.Errorf("keystore: rename %q to %q: %w", oldName, newName, err)
	}
	return nil
}

func (s *indexedStore) rename(ctx context.Context, oldName, newName string) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		return err
	}
	i := idx.find(oldName)
	switch {
	case i < 0:
		return ErrNotFound
	case idx.find(newName) >= 0:
		return ErrExists
	case idx.Credentials[i].Keystore != s.kind:
		return &WrongKeystoreError{Name: oldName, Has: idx.Credentials[i].Keystore, Opened: s.kind}
	}
	idx.Credentials[i].Name = newName
	idx.Credentials[i].UpdatedAt = s.clock()
	return writeIndex(s.indexPath(), idx)
}

// Rename renames the credential called oldName.
func (m *Memory) Rename(ctx context.Context, oldName, newName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validName(newName); err != nil {
		return fmt.Errorf("keystore: rename: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[oldName]
	_, taken := m.creds[newName]
	switch {
	case !ok:
		return fmt.Errorf("keystore: rename %q: %w", oldName, ErrNotFound)
	case taken:
		return fmt.Errorf("keystore: rename %q to %q: %w", oldName, newName, ErrExists)
	}
	delete(m.creds, oldName)
	c.Name = newName
	m.creds[newName] = c
	return nil
}
