package cmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// openStore opens the keystore chosen by --keystore (os or file).
func (g *GlobalOptions) openStore() (keystore.Store, error) {
	return g.openStoreKind(g.Keystore)
}

func (g *GlobalOptions) openStoreKind(kind string) (keystore.Store, error) {
	if kind == keystoreNone {
		return nil, usageErrorf("--keystore none keeps no credentials: this command needs a stored one; use --keystore os or file")
	}
	return keystore.Open(kind, keystore.Options{ConfigDir: g.settings.ConfigDir, OnLockWait: func(path string, d time.Duration) {
		fmt.Fprintf(g.IO.ErrOut, "another dcrctl is using the keystore (it holds %s): waiting up to %s\n", path, d)
	}})
}

// storeAccess finds a stored credential and the store that holds its secrets.
type storeAccess struct {
	g     *GlobalOptions
	store keystore.Store // nil: open from g
}

// get returns the credential called name with its secrets, and the store that holds them.
// Without an explicit --keystore, a credential kept in the other keystore is found there.
func (a storeAccess) get(ctx context.Context, name string) (keystore.Credential, keystore.Store, error) {
	st := a.store
	if st == nil {
		var err error
		if st, err = a.g.openStore(); err != nil {
			return keystore.Credential{}, nil, err
		}
	}
	c, err := st.Get(ctx, name)
	var wk *keystore.WrongKeystoreError
	if a.store == nil && errors.As(err, &wk) && !a.g.settings.KeystoreExplicit {
		if st, err = a.g.openStoreKind(wk.Has); err != nil {
			return keystore.Credential{}, nil, err
		}
		c, err = st.Get(ctx, name)
	}
	return c, st, err
}

// find returns the store that holds the credential called name, from the index alone (no
// secret is read, so no keyring prompt): without an explicit --keystore, a credential kept in
// the other keystore is found there. A name not in the index is left to the store to report.
func (a storeAccess) find(ctx context.Context, name string) (keystore.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	st, err := a.g.openStore()
	if err != nil || a.g.settings.KeystoreExplicit {
		return st, err
	}
	list, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if c.Name == name && c.Keystore != "" && c.Keystore != a.g.Keystore {
			return a.g.openStoreKind(c.Keystore)
		}
	}
	return st, nil
}

// registrar joins the SDK and st (nil: store nothing) into the registration lifecycle.
func (g *GlobalOptions) registrar(st keystore.Store) *registrar.Registrar {
	return registrar.New(g.sdk(), st, registrar.Options{RecoveryDir: g.recoveryDir()})
}

// recoveryDir is where recovery files go: the configuration directory's "recovery".
func (g *GlobalOptions) recoveryDir() string { return filepath.Join(g.settings.ConfigDir, "recovery") }
