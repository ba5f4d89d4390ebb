package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
)

// reuse returns the stored access token while it is valid and has the scopes asked for, or
// a refreshed one; nil when neither works, or with --force-login. how says which it was.
func (opts *loginOptions) reuse(ctx context.Context, cred keystore.Credential, reg *client.Registration, issuer string, meta *client.ServerMetadata) (*flows.Token, string, error) {
	if opts.ForceLogin {
		return nil, "", nil
	}
	now := time.Now
	if opts.now != nil {
		now = opts.now
	}
	have := strings.Fields(cred.TokenScope)
	covered := !slices.ContainsFunc(opts.Scopes, func(s string) bool { return !slices.Contains(have, s) })
	if cred.AccessToken != "" && covered && !cred.TokenExpiry.IsZero() && now().Add(time.Minute).Before(cred.TokenExpiry) {
		return &flows.Token{AccessToken: cred.AccessToken, TokenType: "Bearer", Scope: cred.TokenScope, Expiry: cred.TokenExpiry,
			ExpiresIn: int64(cred.TokenExpiry.Sub(now()).Seconds()), RefreshToken: cred.RefreshToken}, "reused the access token of the last login (valid until " + cred.TokenExpiry.Local().Format(time.TimeOnly) + "; --force-login gets a new one)", nil
	}
	if cred.RefreshToken == "" {
		return nil, "", nil
	}
	tok, err := flows.Refresh{Issuer: issuer, TokenURL: meta.TokenEndpoint, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		AuthMethod: reg.TokenEndpointAuthMethod, RefreshToken: cred.RefreshToken, Scopes: opts.Scopes, Resource: opts.Resource, HTTPClient: opts.G.httpClient()}.Token(ctx)
	var pe *flows.Error
	switch {
	case err == nil:
		if tok.RefreshToken == "" {
			tok.RefreshToken = cred.RefreshToken // not rotated: the old one stays valid
		}
		return tok, "refreshed the access token with the stored refresh token (--force-login logs in again)", nil
	case errors.As(err, &pe) && (pe.Code == "invalid_grant" || pe.Code == "invalid_scope"):
		fmt.Fprintf(opts.G.IO.ErrOut, "the stored refresh token was refused (%s): logging in again\n", pe.Code)
		return nil, "", nil
	}
	return nil, "", err
}

// save stores what the login got with the credential, so that the next one can reuse it.
func (opts *loginOptions) save(ctx context.Context, tok *flows.Token) error {
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	return r.SaveTokens(ctx, opts.Name, registrar.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry, Scope: tok.Scope})
}
