package registrar

import (
	"context"
	"fmt"
	"time"
)

// Tokens are what a login as the registered client got: kept with the credential so that
// the next login can reuse the access token while it is valid, or refresh it.
type Tokens struct {
	AccessToken  string
	RefreshToken string // "" keeps the stored one (a server need not rotate it, RFC 6749 §6)
	Expiry       time.Time
	Scope        string
}

// SaveTokens stores t with the credential called name, under its lock, keeping everything
// else as stored.
func (r *Registrar) SaveTokens(ctx context.Context, name string, t Tokens) error {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := r.store.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("registrar: save the tokens of %q: %w", name, err)
	}
	c.AccessToken, c.TokenExpiry, c.TokenScope = t.AccessToken, t.Expiry, t.Scope
	if t.RefreshToken != "" {
		c.RefreshToken = t.RefreshToken
	}
	if err := r.store.Put(ctx, c); err != nil {
		return &StoreError{Op: "save tokens", Name: name, ClientID: c.ClientID, Err: err}
	}
	return nil
}
