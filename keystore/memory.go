package keystore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Memory is a Store in memory, for tests. It is safe for concurrent use and, unlike
// go-keyring's MockInit, shares no global state: every Memory is independent.
type Memory struct {
	mu    sync.Mutex
	creds map[string]Credential
	locks NameLocks
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{creds: map[string]Credential{}} }

// Lock takes the in-process lock on the credential called name (see Locker).
func (m *Memory) Lock(ctx context.Context, name string) (func(), error) {
	return m.locks.Lock(ctx, name)
}

// Put stores a copy of c.
func (m *Memory) Put(ctx context.Context, c Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validName(c.Name); err != nil {
		return fmt.Errorf("keystore: put: %w", err)
	}
	reg, err := stripSecrets(c.Registration)
	if err != nil {
		return fmt.Errorf("keystore: put %q: %w", c.Name, err)
	}
	c = c.clone()
	c.Registration, c.LastRequest, c.Keystore = reg, compactJSON(c.LastRequest), KindMemory
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.creds == nil {
		m.creds = map[string]Credential{}
	}
	m.creds[c.Name] = c
	return nil
}

// Get returns a copy of the credential called name.
func (m *Memory) Get(ctx context.Context, name string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[name]
	if !ok {
		return Credential{}, fmt.Errorf("keystore: get %q: %w", name, ErrNotFound)
	}
	return c.clone(), nil
}

// Delete removes the credential called name.
func (m *Memory) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.creds[name]; !ok {
		return fmt.Errorf("keystore: delete %q: %w", name, ErrNotFound)
	}
	delete(m.creds, name)
	return nil
}

// List returns every credential without its secrets, sorted by name.
func (m *Memory) List(ctx context.Context) ([]Credential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Credential, 0, len(m.creds))
	for _, c := range m.creds {
		out = append(out, c.withoutSecrets())
	}
	slices.SortFunc(out, func(a, b Credential) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
