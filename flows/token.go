package flows

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is an access token response (RFC 6749 §5.1) with the fields dcrctl uses. The
// String and GoString methods never show AccessToken, RefreshToken or IDToken.
type Token struct {
	AccessToken  string
	TokenType    string // "Bearer" (RFC 6750) for every server dcrctl knows
	RefreshToken string // "" when none was issued
	// IDToken is the OpenID Connect id_token, when issued. It has been verified (OpenID
	// Connect Core §3.1.3.7: signature against the issuer's jwks_uri, iss, aud, exp, and the
	// nonce a browser login sent); a token response whose ID token does not verify is an
	// error wrapping ErrIDToken.
	IDToken string
	// Scope is the scope granted. RFC 6749 §5.1: the server may omit it when it is identical
	// to the scope requested; Scope is then the requested scope.
	Scope string
	// ExpiresIn is the lifetime in seconds as the server sent it (0 = not sent), and Expiry
	// the time it ends (zero = unknown).
	ExpiresIn int64
	Expiry    time.Time
}

// HasScope reports whether s is one of the space-separated scopes in t.Scope.
func (t Token) HasScope(s string) bool {
	return slices.Contains(strings.Fields(t.Scope), s)
}

// String describes the token without its secrets.
func (t Token) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flows.Token{TokenType: %q, Scope: %q, ExpiresIn: %d", t.TokenType, t.Scope, t.ExpiresIn)
	if !t.Expiry.IsZero() {
		fmt.Fprintf(&b, ", Expiry: %s", t.Expiry.UTC().Format(time.RFC3339))
	}
	for _, f := range []struct{ name, v string }{
		{"AccessToken", t.AccessToken}, {"RefreshToken", t.RefreshToken}, {"IDToken", t.IDToken},
	} {
		if f.v != "" {
			fmt.Fprintf(&b, ", %s: [redacted]", f.name)
		}
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v does not print secrets either.
func (t Token) GoString() string { return t.String() }

// errNoAccessToken is returned when a success response carries no access_token
// (RFC 6749 §5.1: access_token is REQUIRED).
var errNoAccessToken = errors.New("the token response has no access_token (RFC 6749 §5.1 requires one): the server is not a conforming OAuth 2.0 server")

// fromOAuth2 converts an x/oauth2 token, taking the extra fields from the raw response.
func fromOAuth2(t *oauth2.Token, requested []string, now time.Time) (*Token, error) {
	if t.AccessToken == "" {
		return nil, errNoAccessToken
	}
	out := &Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
		ExpiresIn:    t.ExpiresIn,
	}
	if s, ok := t.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scope = s
	}
	if out.ExpiresIn == 0 {
		// clientcredentials does not copy expires_in into the token; take it from the raw
		// response (a number, or a string as some servers send it).
		switch v := t.Extra("expires_in").(type) {
		case float64:
			if v > 0 && v < math.MaxInt32 {
				out.ExpiresIn = int64(v)
			}
		case string:
			if n, err := strconv.ParseInt(v, 10, 32); err == nil && n > 0 {
				out.ExpiresIn = n
			}
		}
	}
	if out.ExpiresIn > 0 {
		// Recomputed with the flow's clock, so that an injected clock is honoured.
		out.Expiry = now.Add(time.Duration(out.ExpiresIn) * time.Second)
	}
	fillDefaults(out, requested)
	return out, nil
}

// fillDefaults applies RFC 6749 §5.1's defaults: a missing scope is the requested scope.
func fillDefaults(t *Token, requested []string) {
	if t.Scope == "" {
		t.Scope = strings.Join(requested, " ")
	}
}
