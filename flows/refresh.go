package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Refresh exchanges a refresh token for a new access token (RFC 6749 §6). The server may
// rotate the refresh token: the returned Token's RefreshToken is then the new one, and ""
// means the old one stays valid.
type Refresh struct {
	// Issuer is discovered for the token endpoint when TokenURL is empty.
	Issuer   string
	TokenURL string

	ClientID     string
	ClientSecret string // "" for a public client
	// AuthMethod is as in [ClientCredentials].
	AuthMethod   string
	RefreshToken string
	// Scopes requested; nil or empty asks for the scope originally granted (RFC 6749 §6:
	// scope is OPTIONAL and may not exceed it).
	Scopes []string
	// Resource, if set, is the resource indicator (RFC 8707) sent with the authorization and
	// token requests: the token is for that resource (an MCP server, say).
	Resource string

	// HTTPClient makes every request; nil means [client.NewHTTPClient]'s.
	HTTPClient *http.Client
	// Now is the clock for Token.Expiry; nil means time.Now.
	Now func() time.Time
}

// Token requests the new token. A refresh token the server no longer accepts is an *Error
// with Code invalid_grant: log in again.
func (r Refresh) Token(ctx context.Context) (*Token, error) {
	const op = "refresh"
	if r.ClientID == "" || r.RefreshToken == "" {
		return nil, fmt.Errorf("flows: %s: a client id and a refresh token are needed", op)
	}
	ep, err := resolve(ctx, r.HTTPClient, op, r.Issuer, endpoints{token: r.TokenURL}, "token_endpoint")
	if err != nil {
		return nil, err
	}
	_, method, err := authStyle(r.AuthMethod, r.ClientSecret, ep.authMethod)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}
	if len(r.Scopes) > 0 {
		form.Set("scope", strings.Join(r.Scopes, " "))
	}
	if r.Resource != "" {
		form.Set("resource", r.Resource)
	}
	var tr tokenResponse
	if err := postForm(ctx, httpClient(r.HTTPClient), op, ep.token, clientAuth{r.ClientID, r.ClientSecret, method}, form, &tr); err != nil {
		return nil, err
	}
	t, err := tr.token(r.Scopes, now(r.Now))
	if err != nil {
		return nil, err
	}
	if err := checkIDToken(ctx, httpClient(r.HTTPClient), op, t, ep, r.ClientID, ""); err != nil {
		return nil, err
	}
	return t, nil
}
