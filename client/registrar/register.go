package registrar

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// RegisterRequest describes one registration (RFC 7591 §3.1).
type RegisterRequest struct {
	// Name is the local name of the new credential; "" derives one with DefaultName from
	// NameBase, else the template, else the client name.
	Name     string
	NameBase string
	// Issuer is recorded with the credential.
	Issuer string
	// Endpoint is the registration_endpoint.
	Endpoint string
	// InitialAccessToken is sent as a Bearer token; "" for open registration.
	InitialAccessToken string
	// Template, when set, registers an instance of that template ({"software_id": Template}).
	Template string
	// Metadata is the client metadata; with Template, the members sent beside software_id.
	Metadata client.Metadata
	// Endpoints are the token, authorization and device authorization endpoints given
	// explicitly (a server whose discovery lacks them): recorded with the credential, so
	// that a later login uses them too. Registration is Endpoint above.
	Endpoints client.Endpoints
	// Resource is the protected resource the client is registered for (RFC 9728), recorded
	// with the credential.
	Resource string
}

// Check makes sure a credential called name (when not "") could be stored: the name is free
// and the store is reachable, unlocked and writable — it stores and removes a probe entry
// with a secret, which may raise an unlock prompt. Call it before spending a single-use
// initial access token: a registration that cannot be stored is rolled back, and the token
// is gone. With a nil Store, Check does nothing.
func (r *Registrar) Check(ctx context.Context, name string) error {
	if r.store == nil {
		return nil
	}
	if name != "" {
		if err := r.checkFree(ctx, name); err != nil {
			return err
		}
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	probe := keystore.Credential{Name: "probe-" + hex.EncodeToString(b), ClientID: "probe", ClientSecret: "probe"}
	if err := r.store.Put(ctx, probe); err != nil {
		return fmt.Errorf("registrar: the keystore cannot store a credential: %w", err)
	}
	if err := r.store.Delete(context.WithoutCancel(ctx), probe.Name); err != nil {
		return fmt.Errorf("registrar: the keystore stored a probe credential %q but cannot remove it: %w", probe.Name, err)
	}
	return nil
}

// checkFree returns a NameTakenError when name is stored.
func (r *Registrar) checkFree(ctx context.Context, name string) error {
	list, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Name == name {
			return &NameTakenError{Name: name}
		}
	}
	return nil
}

// Register registers a client (RFC 7591) and stores its credential before returning. When
// the server registered the client but the response is incomplete, the credential is stored
// and returned together with the error. When the store fails, the registration is rolled
// back or saved to a recovery file, and the error is a *StoreError (with a nil Store nothing
// is stored and Result.Credential is what would have been).
func (r *Registrar) Register(ctx context.Context, req RegisterRequest) (*Result, error) {
	if req.Name != "" && !ValidName(req.Name) {
		return nil, fmt.Errorf("registrar: credential name %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", req.Name)
	}
	taken := map[string]bool{}
	if r.store != nil {
		if req.Name != "" {
			unlock, err := r.lock(ctx, req.Name)
			if err != nil {
				return nil, err
			}
			defer unlock()
		}
		list, err := r.store.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			taken[c.Name] = true
		}
		if taken[req.Name] {
			return nil, &NameTakenError{Name: req.Name}
		}
	}
	var reg *client.Registration
	var err error
	if req.Template != "" {
		reg, err = r.client.RegisterTemplate(ctx, req.Endpoint, req.InitialAccessToken, req.Template, req.Metadata)
	} else {
		reg, err = r.client.Register(ctx, req.Endpoint, req.InitialAccessToken, req.Metadata)
	}
	if reg == nil {
		return nil, err
	}
	incomplete := err // the server acted: keep what it created, then report
	name := req.Name
	if name == "" {
		base := req.NameBase
		if base == "" {
			base = req.Template
		}
		name = DefaultName(base, reg, taken)
	}
	cred, err := CredentialFrom(name, req.Issuer, req.Template, reg)
	if err != nil {
		return nil, err
	}
	cred.TokenEndpoint, cred.AuthorizationEndpoint = req.Endpoints.Token, req.Endpoints.Authorization
	cred.DeviceAuthorizationEndpoint = req.Endpoints.DeviceAuthorization
	cred.Resource = req.Resource
	res := &Result{Credential: cred, Registration: reg, Changes: Compare(req.requested(), reg.Metadata)}
	res.Credential.LastRequest = lastRequestOf(req.requested(), res.Changes)
	cred = res.Credential
	if r.store == nil {
		return res, incomplete
	}
	if err := r.store.Put(ctx, cred); err != nil {
		return res, r.rollback(ctx, reg, cred, err)
	}
	return res, incomplete
}

// requested is the metadata the request asked for, software_id included for a template.
func (req RegisterRequest) requested() client.Metadata {
	md := req.Metadata
	if req.Template != "" {
		md.SoftwareID = req.Template
	}
	return md
}

// rollback keeps the "nothing lost" promise after a registration the store could not take:
// a recovery file first, then an RFC 7592 §2.3 delete ("A successful delete action will
// invalidate the client_id, client_secret, and registration access token for this client").
func (r *Registrar) rollback(ctx context.Context, reg *client.Registration, cred keystore.Credential, storeErr error) error {
	se := &StoreError{Op: "register", Name: cred.Name, ClientID: reg.ClientID, Err: storeErr}
	path, werr := keystore.WriteRecovery(r.recoveryDir(), cred)
	// The caller's deadline may be what made the store fail: the rollback gets its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if reg.RegistrationAccessToken == "" || reg.RegistrationClientURI == "" {
		se.RollbackErr = errors.New("the server issued no registration access token, so the registration cannot be deleted")
	} else {
		se.RollbackErr = r.client.Delete(rctx, reg)
	}
	switch {
	case se.RollbackErr == nil:
		se.RolledBack = true
		if werr == nil {
			_ = os.Remove(path)
		}
	case werr == nil:
		se.RecoveryFile = path
	default:
		se.RecoveryErr = werr
	}
	return se
}
