package keystore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store holds instance credentials by name. Implementations are safe for concurrent use;
// the "os" and "file" stores are also safe for several processes at once.
type Store interface {
	// Put stores c under c.Name, replacing any credential of that name. On replacement the
	// old secrets stay stored until the new ones are, so a failure leaves one or the other.
	Put(ctx context.Context, c Credential) error
	// Get returns the credential called name with its secrets, or an error matching
	// ErrNotFound.
	Get(ctx context.Context, name string) (Credential, error)
	// Delete removes the credential called name and its secrets, or returns an error
	// matching ErrNotFound.
	Delete(ctx context.Context, name string) error
	// List returns every credential, sorted by name, with the secret fields empty. It never
	// touches the secret store, so it never raises a keyring prompt.
	List(ctx context.Context) ([]Credential, error)
}

// The kinds of store that Open accepts.
const (
	KindOS     = "os"     // the OS keyring; the default
	KindFile   = "file"   // an insecure plaintext file, only when asked for by name
	KindMemory = "memory" // in memory, for tests
)

// EnvKeyringTimeout names the environment variable that overrides the default keyring
// timeouts: a Go duration such as "30s", applied to reads and writes alike.
const EnvKeyringTimeout = "DCRCTL_KEYRING_TIMEOUT"

// Default time limits. go-keyring itself has none: a Secret Service that cannot start blocks
// for about two minutes, one that hangs blocks forever.
const (
	DefaultReadTimeout  = 3 * time.Second
	DefaultWriteTimeout = 20 * time.Second // writes may show an unlock prompt to a human
	DefaultLockTimeout  = 60 * time.Second // longer than another process's keyring writes
)

// Options configures Open. The zero value uses the user's directories and the defaults.
type Options struct {
	// ConfigDir holds the index and its lock file; "" means os.UserConfigDir()/dcrctl
	// ($XDG_CONFIG_HOME/dcrctl on Linux). Created with mode 0700.
	ConfigDir string
	// FileDir holds the "file" store's plaintext secrets; "" means ConfigDir/plaintext. It
	// is created with mode 0700; an existing one open to other users is refused.
	FileDir string
	// Service is the keyring service name the "os" store files its entries under; "" means
	// "dcrctl". It must not contain ':' or '/', which some keyrings treat as a URL.
	Service string
	// ReadTimeout and WriteTimeout bound each keyring call; 0 means the duration in
	// $DCRCTL_KEYRING_TIMEOUT, else DefaultReadTimeout and DefaultWriteTimeout.
	ReadTimeout, WriteTimeout time.Duration
	// LockTimeout bounds the wait for another process's lock on the index; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// OnLockWait, if set, is called once when a lock (the index's, or a credential's) is
	// held by another process, before the bounded wait for it: a program can say at once
	// why it pauses.
	OnLockWait func(path string, timeout time.Duration)
}

// DefaultService is the keyring service name used when Options.Service is empty.
const DefaultService = "dcrctl"

// Open returns the store of the given kind: "os" (also ""), "file" or "memory". Opening does
// not touch the keyring; a missing or locked keyring is reported by the first call that
// needs a secret. There is never a fallback from one kind to another.
func Open(kind string, opts Options) (Store, error) {
	if kind == KindMemory {
		return NewMemory(), nil
	}
	if kind != "" && kind != KindOS && kind != KindFile {
		return nil, fmt.Errorf("keystore: unknown keystore %q: use %q, %q or %q", kind, KindOS, KindFile, KindMemory)
	}
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	var v vault
	if kind == KindFile {
		v = &fileVault{path: filepath.Join(o.FileDir, plaintextFile), dir: o.FileDir}
	} else {
		kind = KindOS
		v = newOSVault(o)
	}
	return &indexedStore{kind: kind, dir: o.ConfigDir, vault: v, lockTimeout: o.LockTimeout, onLockWait: o.OnLockWait}, nil
}

// resolve fills in the defaults.
func (o Options) resolve() (Options, error) {
	if o.ConfigDir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return o, fmt.Errorf("keystore: no configuration directory: %w: set XDG_CONFIG_HOME or HOME", err)
		}
		o.ConfigDir = filepath.Join(base, "dcrctl")
	}
	if o.FileDir == "" {
		o.FileDir = filepath.Join(o.ConfigDir, "plaintext")
	}
	if o.Service == "" {
		o.Service = DefaultService
	}
	if strings.ContainsAny(o.Service, ":/") || strings.TrimSpace(o.Service) == "" {
		return o, fmt.Errorf("keystore: keyring service name %q: use a plain name without ':' or '/'", o.Service)
	}
	if o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.LockTimeout < 0 {
		return o, fmt.Errorf("keystore: negative timeout in Options: use 0 for the default")
	}
	if o.ReadTimeout == 0 || o.WriteTimeout == 0 {
		if s := os.Getenv(EnvKeyringTimeout); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("keystore: %s=%q: use a positive duration such as 30s", EnvKeyringTimeout, s)
			}
			if o.ReadTimeout == 0 {
				o.ReadTimeout = d
			}
			if o.WriteTimeout == 0 {
				o.WriteTimeout = d
			}
		}
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	return o, nil
}
