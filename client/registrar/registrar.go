package registrar

import (
	"context"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// Options configures a Registrar. The zero value is usable.
type Options struct {
	// RecoveryDir is where recovery files are written (mode 0600 in a 0700 directory); ""
	// means keystore.WriteRecovery's default, the "recovery" directory in the user's
	// configuration directory.
	RecoveryDir string
}

// Registrar performs the registration lifecycle on named credentials. It is safe for
// concurrent use.
type Registrar struct {
	client *client.Client
	store  keystore.Store
	opts   Options
	local  keystore.NameLocks // used when the store is not a keystore.Locker
}

// New returns a Registrar that talks to servers through c and keeps credentials in s.
// c may be nil for the default client.Client.
func New(c *client.Client, s keystore.Store, opts Options) *Registrar {
	if c == nil {
		c = &client.Client{}
	}
	return &Registrar{client: c, store: s, opts: opts}
}

// Store returns the store the Registrar keeps credentials in.
func (r *Registrar) Store() keystore.Store { return r.store }

// Result is what an operation leaves behind.
type Result struct {
	// Credential is the credential as stored now, secrets included (for Register with a nil
	// Store: as it would have been stored).
	Credential keystore.Credential
	// Registration is the server's latest answer, secrets included.
	Registration *client.Registration
	// Changes lists the members of the request that the server ignored or changed
	// (Register and Update); nil when it took the request as sent.
	Changes []Change
}

// Name returns the credential's name.
func (r *Result) Name() string { return r.Credential.Name }

// lock takes the per-credential lock: the store's when it is a keystore.Locker, else one
// within this Registrar.
func (r *Registrar) lock(ctx context.Context, name string) (func(), error) {
	if l, ok := r.store.(keystore.Locker); ok {
		return l.Lock(ctx, name)
	}
	return r.local.Lock(ctx, name)
}

// recoveryDir returns where recovery files go.
func (r *Registrar) recoveryDir() string { return r.opts.RecoveryDir }
