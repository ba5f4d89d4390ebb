package keystore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// File names in the configuration directory.
const (
	indexFile     = "index.json"   // non-secret data, one entry per credential
	lockFile      = "index.lock"   // the lock that serialises writers
	plaintextFile = "secrets.json" // the "file" store's secrets, in Options.FileDir
)

// indexVersion is the format version written to the index; newer ones are refused.
const indexVersion = 1

// index is the content of index.json. It never holds a secret: its entry type has no secret
// field, so one cannot be written by mistake.
type index struct {
	Version     int          `json:"version"`
	Credentials []indexEntry `json:"credentials"`
	// Garbage lists secret-store entries that are no longer (or not yet) referenced by a
	// credential and must be deleted. It is written before the entries are created and
	// before they are deleted, so a crash never leaves an entry that nothing points to.
	Garbage []secretRef `json:"garbage,omitempty"`
}

// indexEntry is a credential without its secrets, plus where those are.
type indexEntry struct {
	Name                  string          `json:"name"`
	ID                    string          `json:"id"`       // stable: keys the secret-store entries, survives a rename
	Keystore              string          `json:"keystore"` // the kind of store holding the secrets: "os" or "file"
	Issuer                string          `json:"issuer,omitempty"`
	ClientID              string          `json:"client_id,omitempty"`
	RegistrationClientURI string          `json:"registration_client_uri,omitempty"`
	Template              string          `json:"template,omitempty"`
	GrantTypes            []string        `json:"grant_types,omitempty"`
	RedirectURIs          []string        `json:"redirect_uris,omitempty"`
	IssuedAt              time.Time       `json:"issued_at,omitzero"`
	SecretExpiresAt       time.Time       `json:"secret_expires_at,omitzero"`
	TokenExpiry           time.Time       `json:"token_expiry,omitzero"`
	TokenScope            string          `json:"token_scope,omitempty"`
	Endpoints             *endpoints      `json:"endpoints,omitempty"`
	Resource              string          `json:"resource,omitempty"`
	UpdatedAt             time.Time       `json:"updated_at,omitzero"`
	Registration          json.RawMessage `json:"registration,omitempty"`
	LastRequest           json.RawMessage `json:"last_request,omitempty"`
	Secrets               *secretRef      `json:"secrets,omitempty"` // nil: the credential has no secrets
}

// secretRef names one generation of a credential's secrets in a secret store: Chunks entries
// whose accounts are "<id>.<gen>.<i>", together Size bytes of JSON.
type secretRef struct {
	Keystore string `json:"keystore"`
	ID       string `json:"id"`
	Gen      int    `json:"gen"`
	Chunks   int    `json:"chunks"`
	Size     int    `json:"size"`
}

// account is the keyring account (go-keyring's "user") of chunk i.
func (r secretRef) account(i int) string { return fmt.Sprintf("%s.%d.%d", r.ID, r.Gen, i) }

func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand: Read panics rather than return an error)
	return hex.EncodeToString(b[:])
}

// readIndex reads path; a missing file is an empty index.
func readIndex(path string) (index, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return index{Version: indexVersion}, nil
	}
	if err != nil {
		return index{}, fmt.Errorf("read index: %w", err)
	}
	var idx index
	if err := json.Unmarshal(data, &idx); err != nil {
		return index{}, &CorruptError{Path: path, Err: err}
	}
	if idx.Version > indexVersion {
		return index{}, fmt.Errorf("%s has format version %d, written by a newer dcrctl: upgrade dcrctl", path, idx.Version)
	}
	if err := idx.check(); err != nil {
		return index{}, &CorruptError{Path: path, Err: err}
	}
	return idx, nil
}

// check rejects an index that parses but cannot be right.
func (idx index) check() error {
	if idx.Version < 1 {
		return fmt.Errorf("format version %d", idx.Version)
	}
	seen := map[string]bool{}
	for i, e := range idx.Credentials {
		switch {
		case validName(e.Name) != nil:
			return fmt.Errorf("entry %d: bad name: %v", i, validName(e.Name))
		case seen[e.Name]:
			return fmt.Errorf("entry %d: name %q appears twice", i, e.Name)
		case e.ID == "" || strings.ContainsAny(e.ID, ".:/"):
			return fmt.Errorf("entry %d (%q): bad id %q", i, e.Name, e.ID)
		case e.Secrets != nil && (e.Secrets.ID != e.ID || e.Secrets.Chunks < 1 || e.Secrets.Gen < 1):
			return fmt.Errorf("entry %d (%q): bad secrets reference", i, e.Name)
		}
		seen[e.Name] = true
	}
	return nil
}

func writeIndex(path string, idx index) error {
	idx.Version = indexVersion
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

func (idx *index) find(name string) int {
	return slices.IndexFunc(idx.Credentials, func(e indexEntry) bool { return e.Name == name })
}

func (idx *index) dropGarbage(r secretRef) {
	idx.Garbage = slices.DeleteFunc(idx.Garbage, func(g secretRef) bool { return g == r })
}

// nextGen returns a generation number for id that no live or pending entry uses, so that
// sweeping garbage can never delete live secrets.
func (idx *index) nextGen(id string) int {
	gen := 0
	for _, e := range idx.Credentials {
		if e.Secrets != nil && e.Secrets.ID == id {
			gen = max(gen, e.Secrets.Gen)
		}
	}
	for _, g := range idx.Garbage {
		if g.ID == id {
			gen = max(gen, g.Gen)
		}
	}
	return gen + 1
}

func (e indexEntry) credential() Credential {
	c := Credential{
		Name: e.Name, Issuer: e.Issuer, ClientID: e.ClientID,
		RegistrationClientURI: e.RegistrationClientURI, Template: e.Template,
		GrantTypes: e.GrantTypes, RedirectURIs: e.RedirectURIs,
		IssuedAt: e.IssuedAt, SecretExpiresAt: e.SecretExpiresAt, Registration: compactJSON(e.Registration),
		TokenExpiry: e.TokenExpiry, TokenScope: e.TokenScope, Resource: e.Resource, Keystore: e.Keystore,
		LastRequest: compactJSON(e.LastRequest),
	}
	if e.Endpoints != nil {
		c.TokenEndpoint, c.AuthorizationEndpoint, c.DeviceAuthorizationEndpoint = e.Endpoints.Token, e.Endpoints.Authorization, e.Endpoints.DeviceAuthorization
	}
	return c.clone()
}

func entryOf(c Credential) indexEntry {
	c = c.clone()
	return indexEntry{
		Name: c.Name, Issuer: c.Issuer, ClientID: c.ClientID,
		RegistrationClientURI: c.RegistrationClientURI, Template: c.Template,
		GrantTypes: c.GrantTypes, RedirectURIs: c.RedirectURIs,
		IssuedAt: c.IssuedAt, SecretExpiresAt: c.SecretExpiresAt, Registration: c.Registration,
		TokenExpiry: c.TokenExpiry, TokenScope: c.TokenScope, Endpoints: endpointsOf(c), Resource: c.Resource,
		LastRequest: c.LastRequest,
	}
}

// endpoints are a credential's explicit endpoints in the index.
type endpoints struct {
	Token               string `json:"token,omitempty"`
	Authorization       string `json:"authorization,omitempty"`
	DeviceAuthorization string `json:"device_authorization,omitempty"`
}

func endpointsOf(c Credential) *endpoints {
	e := endpoints{c.TokenEndpoint, c.AuthorizationEndpoint, c.DeviceAuthorizationEndpoint}
	if e == (endpoints{}) {
		return nil
	}
	return &e
}
