package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// vault is where an indexed store keeps secrets: the OS keyring or the plaintext file. It
// holds small named entries; the indexed store splits a credential's secrets into entries
// of at most maxChunk bytes. The caller holds the index lock around every call.
type vault interface {
	maxChunk() int // bytes per entry
	maxTotal() int // bytes per credential
	set(ctx context.Context, account, data string) error
	get(ctx context.Context, account string) (string, error) // errEntryMissing if absent
	del(ctx context.Context, account string) error           // nil if absent
	describe(account string) string                          // where the entry is, for messages
}

// errEntryMissing is what a vault's get returns for an absent entry.
var errEntryMissing = errors.New("entry missing")

// indexedStore is the "os" and "file" Store: the index file for everything but secrets, a
// vault for the secrets.
type indexedStore struct {
	kind        string
	dir         string // holds index.json and index.lock
	vault       vault
	lockTimeout time.Duration
	onLockWait  func(path string, timeout time.Duration)
	now         func() time.Time // nil: time.Now
}

var _ Store = (*indexedStore)(nil)

func (s *indexedStore) indexPath() string { return filepath.Join(s.dir, indexFile) }

func (s *indexedStore) clock() time.Time {
	if s.now != nil {
		return s.now().UTC()
	}
	return time.Now().UTC()
}

// lock creates the configuration directory if needed and takes the index lock.
func (s *indexedStore) lock(ctx context.Context, exclusive bool) (func(), error) {
	if err := ensurePrivateDir(s.dir, false); err != nil {
		return nil, err
	}
	return lockPath(ctx, filepath.Join(s.dir, lockFile), exclusive, s.lockTimeout, s.onLockWait)
}

// Put stores c, replacing the credential of the same name. The secrets are replaced so that
// every crash point leaves a complete set stored — the old one or the new one:
//
//  1. The index is rewritten with the new generation's entries listed as garbage (write
//     ahead). Crash here: nothing else changed.
//  2. The new entries are written to the vault under fresh names ("<id>.<gen+1>.<i>"); the
//     old ones are untouched. Crash or error here: the index still points to the old,
//     complete secrets; the partial new entries are listed as garbage.
//  3. The index is rewritten to point to the new generation and to list the old one as
//     garbage. This rename is the commit point. Crash before it: as in 2; after it: the new
//     secrets are complete and referenced.
//  4. The garbage of this keystore (the old generation, and leftovers of earlier crashes) is
//     deleted, and the index rewritten without it. Crash or error here: the entries stay
//     listed as garbage and the next Put or Delete deletes them.
func (s *indexedStore) Put(ctx context.Context, c Credential) error {
	if err := validName(c.Name); err != nil {
		return fmt.Errorf("keystore: put: %w", err)
	}
	if err := s.put(ctx, c); err != nil {
		return fmt.Errorf("keystore: put %q: %w", c.Name, err)
	}
	return nil
}

func (s *indexedStore) put(ctx context.Context, c Credential) error {
	reg, err := stripSecrets(c.Registration)
	if err != nil {
		return err
	}
	c.Registration, c.LastRequest = reg, compactJSON(c.LastRequest)
	var chunks []string
	size := 0
	if b := blobOf(c); !b.empty() {
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if size = len(data); size > s.vault.maxTotal() {
			return &TooBigError{Size: size, Max: s.vault.maxTotal()}
		}
		chunks = splitChunks(string(data), s.vault.maxChunk())
	}

	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		return err
	}
	e := entryOf(c)
	e.Keystore = s.kind
	e.UpdatedAt = s.clock()
	var old *secretRef
	if i := idx.find(c.Name); i >= 0 {
		prev := idx.Credentials[i]
		if prev.Keystore != s.kind {
			return &WrongKeystoreError{Name: c.Name, Has: prev.Keystore, Opened: s.kind}
		}
		e.ID, old = prev.ID, prev.Secrets
	} else {
		e.ID = newID()
	}

	if len(chunks) > 0 {
		ref := secretRef{Keystore: s.kind, ID: e.ID, Gen: idx.nextGen(e.ID), Chunks: len(chunks), Size: size}
		idx.Garbage = append(idx.Garbage, ref) // step 1
		if err := writeIndex(s.indexPath(), idx); err != nil {
			return err
		}
		for i, ch := range chunks { // step 2
			if err := s.vault.set(ctx, ref.account(i), ch); err != nil {
				return err
			}
		}
		idx.dropGarbage(ref)
		e.Secrets = &ref
	}
	if old != nil {
		idx.Garbage = append(idx.Garbage, *old)
	}
	if i := idx.find(c.Name); i >= 0 {
		idx.Credentials[i] = e
	} else {
		idx.Credentials = append(idx.Credentials, e)
	}
	if err := writeIndex(s.indexPath(), idx); err != nil { // step 3: commit
		return err
	}
	// Step 4. The credential is stored; a failure to delete old entries is not the caller's
	// problem: they stay listed as garbage for the next change.
	before := len(idx.Garbage)
	s.sweep(ctx, &idx)
	if len(idx.Garbage) != before {
		writeIndex(s.indexPath(), idx)
	}
	return nil
}

// sweep deletes the garbage entries kept in this store's vault, removing each from idx as it
// goes; it stops at the first failure (a dead keyring would otherwise cost one timeout per
// entry). Entries of another keystore are left for a store of that kind.
func (s *indexedStore) sweep(ctx context.Context, idx *index) error {
	live := map[secretRef]bool{}
	for _, e := range idx.Credentials {
		if e.Secrets != nil {
			live[*e.Secrets] = true
		}
	}
	for _, g := range slices.Clone(idx.Garbage) {
		if g.Keystore != s.kind {
			continue
		}
		if !live[g] { // never true by construction (nextGen); checked anyway
			for i := g.Chunks - 1; i >= 0; i-- {
				if err := s.vault.del(ctx, g.account(i)); err != nil {
					return err
				}
			}
		}
		idx.dropGarbage(g)
	}
	return nil
}

// Get returns the credential called name with its secrets read from the vault.
func (s *indexedStore) Get(ctx context.Context, name string) (Credential, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return Credential{}, fmt.Errorf("keystore: get %q: %w", name, err)
	}
	return c, nil
}

func (s *indexedStore) get(ctx context.Context, name string) (Credential, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return Credential{}, err
	}
	defer unlock()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		return Credential{}, err
	}
	i := idx.find(name)
	if i < 0 {
		return Credential{}, ErrNotFound
	}
	e := idx.Credentials[i]
	c := e.credential()
	if e.Secrets == nil {
		return c, nil
	}
	if e.Keystore != s.kind {
		return Credential{}, &WrongKeystoreError{Name: name, Has: e.Keystore, Opened: s.kind}
	}
	var sb strings.Builder
	for i := range e.Secrets.Chunks {
		part, err := s.vault.get(ctx, e.Secrets.account(i))
		if errors.Is(err, errEntryMissing) {
			return Credential{}, fmt.Errorf("%s is missing: %w", s.vault.describe(e.Secrets.account(i)), ErrSecretsMissing)
		}
		if err != nil {
			return Credential{}, err
		}
		sb.WriteString(part)
	}
	var b secretBlob
	if sb.Len() != e.Secrets.Size || json.Unmarshal([]byte(sb.String()), &b) != nil {
		// The parse error is not wrapped: its text could quote a piece of a secret.
		return Credential{}, fmt.Errorf("the entries %s… do not hold the %d bytes of JSON the index expects: %w",
			s.vault.describe(e.Secrets.account(0)), e.Secrets.Size, ErrSecretsMissing)
	}
	b.apply(&c)
	return c, nil
}

// Delete removes the credential called name from the index, then deletes its secrets. If
// that deletion fails (a locked or hung keyring), the credential is gone from the index all
// the same, its entries stay listed as garbage for the next Put or Delete, and the error
// says so.
func (s *indexedStore) Delete(ctx context.Context, name string) error {
	if err := s.delete(ctx, name); err != nil {
		return err
	}
	return nil
}

func (s *indexedStore) delete(ctx context.Context, name string) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		return err
	}
	i := idx.find(name)
	if i < 0 {
		return ErrNotFound
	}
	e := idx.Credentials[i]
	if e.Keystore != s.kind {
		return &WrongKeystoreError{Name: name, Has: e.Keystore, Opened: s.kind}
	}
	idx.Credentials = slices.Delete(idx.Credentials, i, i+1)
	if e.Secrets != nil {
		idx.Garbage = append(idx.Garbage, *e.Secrets)
	}
	if err := writeIndex(s.indexPath(), idx); err != nil {
		return err
	}
	serr := s.sweep(ctx, &idx)
	if err := writeIndex(s.indexPath(), idx); err != nil && serr == nil {
		serr = err
	}
	if serr != nil {
		return fmt.Errorf("removed from the index, but its secrets are still stored "+
			"(they are deleted on the next change): %w", serr)
	}
	return nil
}

// List returns every credential from the index, sorted by name, without secrets. It never
// calls the vault.
func (s *indexedStore) List(ctx context.Context) ([]Credential, error) {
	list, err := s.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("keystore: list: %w", err)
	}
	return list, nil
}

func (s *indexedStore) list(ctx context.Context) ([]Credential, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		return nil, err
	}
	out := make([]Credential, 0, len(idx.Credentials))
	for _, e := range idx.Credentials {
		out = append(out, e.credential())
	}
	slices.SortFunc(out, func(a, b Credential) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
