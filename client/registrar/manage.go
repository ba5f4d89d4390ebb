package registrar

import (
	"context"
	"fmt"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// Load returns the stored credential called name and the registration it describes, without
// calling the server.
func (r *Registrar) Load(ctx context.Context, name string) (keystore.Credential, *client.Registration, error) {
	cred, err := r.store.Get(ctx, name)
	if err != nil {
		return cred, nil, err
	}
	reg, err := RegistrationFrom(cred)
	return cred, reg, err
}

// loadManaged loads the credential and requires RFC 7592 management for it.
func (r *Registrar) loadManaged(ctx context.Context, op, name string) (keystore.Credential, *client.Registration, error) {
	cred, reg, err := r.Load(ctx, name)
	if err != nil {
		return cred, nil, err
	}
	if reg.RegistrationClientURI == "" || reg.RegistrationAccessToken == "" {
		return cred, nil, &NotManagedError{Name: name, ClientID: cred.ClientID, Op: op}
	}
	return cred, reg, nil
}

// Read reads the registration called name from the server (RFC 7592 §2.1) and stores what
// comes back — the server may have rotated the registration access token and the client
// secret — before returning. An incomplete but decoded response is stored and returned with
// its error. If the store fails, the error is a *StoreError and the result, returned with
// it, holds the new credential.
func (r *Registrar) Read(ctx context.Context, name string) (*Result, error) {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cred, reg, err := r.loadManaged(ctx, "read", name)
	if err != nil {
		return nil, err
	}
	return r.read(ctx, cred, reg)
}

// read is Read under the lock.
func (r *Registrar) read(ctx context.Context, cred keystore.Credential, reg *client.Registration) (*Result, error) {
	cur, err := r.client.Read(ctx, reg)
	if cur == nil {
		return nil, err
	}
	res, perr := r.persist(ctx, "read", cred, cur)
	if perr != nil {
		return res, perr
	}
	return res, err
}

// persist stores what a read or update returned, keeping the local bookkeeping of old. If the
// store fails, the new credential goes to a recovery file (the old token may already be
// invalid) and the error is a *StoreError.
func (r *Registrar) persist(ctx context.Context, op string, old keystore.Credential, reg *client.Registration) (*Result, error) {
	nc, err := CredentialFrom(old.Name, old.Issuer, old.Template, reg)
	if err != nil {
		return nil, err
	}
	c := carry(nc, old)
	res := &Result{Credential: c, Registration: reg}
	if err := r.store.Put(ctx, c); err != nil {
		se := &StoreError{Op: op, Name: old.Name, ClientID: reg.ClientID, Err: err}
		if path, werr := keystore.WriteRecovery(r.recoveryDir(), c); werr != nil {
			se.RecoveryErr = werr
		} else {
			se.RecoveryFile = path
		}
		return res, se
	}
	c.Keystore = old.Keystore
	res.Credential = c
	return res, nil
}

// Edit changes the current metadata of a registration for Update. It gets a copy and
// returns the metadata to send; an error stops the update and is returned as is.
type Edit func(current client.Metadata) (client.Metadata, error)

// Update changes the registration called name (RFC 7592 §2.2). Under the credential's lock
// it reads the current registration from the server (and stores any rotation), applies edit
// to its metadata, sends the result as the full replacement §2.2 requires, and stores the
// answer before returning. Result.Changes lists the members that the server did not take as
// sent. Store failures are handled as in Read.
func (r *Registrar) Update(ctx context.Context, name string, edit Edit) (*Result, error) {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cred, reg, err := r.loadManaged(ctx, "update", name)
	if err != nil {
		return nil, err
	}
	cur, err := r.read(ctx, cred, reg)
	if err != nil {
		return cur, err
	}
	md, err := edit(cloneMetadata(cur.Registration.Metadata))
	if err != nil {
		return nil, err
	}
	upd, err := r.client.Update(ctx, cur.Registration, md)
	if upd == nil {
		return nil, err
	}
	changes := Compare(md, upd.Metadata)
	sent := cur.Credential
	sent.LastRequest = lastRequestOf(md, changes)
	res, perr := r.persist(ctx, "update", sent, upd)
	if res != nil {
		res.Changes = changes
	}
	if perr != nil {
		return res, perr
	}
	return res, err
}

// Delete deprovisions the client called name at the server (RFC 7592 §2.3) and removes its
// credential. opts are passed to client.Delete. If the server deleted the client but the
// store cannot forget it, the error is a *ForgetError.
func (r *Registrar) Delete(ctx context.Context, name string, opts ...client.DeleteOption) (keystore.Credential, error) {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return keystore.Credential{}, err
	}
	defer unlock()
	cred, reg, err := r.loadManaged(ctx, "delete", name)
	if err != nil {
		return cred, err
	}
	if err := r.client.Delete(ctx, reg, opts...); err != nil {
		return cred, err
	}
	if err := r.store.Delete(ctx, name); err != nil {
		return cred, &ForgetError{Name: name, ClientID: cred.ClientID, Err: err}
	}
	return cred, nil
}

// Import stores cred, from a recovery file say. A credential of the same name is replaced
// only when it is the same client at the same issuer: a recovery file written after a failed
// store holds the newer secrets of that client. Otherwise a taken name is refused
// (*NameTakenError), and so is a client stored already under another name
// (*ClientIDTakenError): two names sharing one registration access token break at the first
// rotation.
func (r *Registrar) Import(ctx context.Context, cred keystore.Credential) error {
	if !ValidName(cred.Name) {
		return fmt.Errorf("registrar: credential name %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", cred.Name)
	}
	unlock, err := r.lock(ctx, cred.Name)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	same := func(c keystore.Credential) bool {
		return cred.ClientID != "" && c.ClientID == cred.ClientID && c.Issuer == cred.Issuer
	}
	for _, c := range list {
		switch {
		case c.Name == cred.Name && !same(c):
			return &NameTakenError{Name: cred.Name}
		case c.Name != cred.Name && same(c):
			return &ClientIDTakenError{ClientID: cred.ClientID, Issuer: cred.Issuer, Existing: c.Name}
		}
	}
	return r.store.Put(ctx, cred)
}
