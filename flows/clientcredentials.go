package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// DefaultScopes are requested when a flow's Scopes is nil: the scope that grants access to a
// registration endpoint.
var DefaultScopes = []string{"dcr"}

// requestedScopes returns the scopes a flow asks for: DefaultScopes when scopes is nil, none
// at all for a non-nil empty slice. Without a scope parameter the server applies its default
// (RFC 6749 §3.3), which is what logging in as a registered instance wants.
func requestedScopes(scopes []string) []string {
	if scopes == nil {
		return DefaultScopes
	}
	return scopes
}

// ClientCredentials gets a token with the client credentials grant (RFC 6749 §4.4).
// Its zero value needs at least Issuer (or TokenURL), ClientID and ClientSecret.
type ClientCredentials struct {
	// Issuer is discovered for the token endpoint when TokenURL is empty.
	Issuer   string
	TokenURL string

	ClientID     string
	ClientSecret string
	// AuthMethod is the client's token_endpoint_auth_method: client_secret_basic,
	// client_secret_post or none. Empty means client_secret_basic (RFC 7591 §2's default),
	// or client_secret_post if the server's metadata lists only that one.
	AuthMethod string
	// Scopes requested; nil means [DefaultScopes], an empty non-nil slice requests none.
	Scopes []string
	// Resource, if set, is the resource indicator (RFC 8707) sent with the authorization and
	// token requests: the token is for that resource (an MCP server, say).
	Resource string

	// HTTPClient makes every request; nil means [client.NewHTTPClient]'s. A client without a
	// CheckRedirect of its own gets [client.CheckRedirect]'s policy (on a copy).
	HTTPClient *http.Client
	// Now is the clock for Token.Expiry; nil means time.Now.
	Now func() time.Time
}

// Token requests a token. Server errors are *Error values naming the fix, e.g. for
// invalid_client "the client id or secret is wrong".
func (c ClientCredentials) Token(ctx context.Context) (*Token, error) {
	const op = "client credentials"
	if c.ClientID == "" {
		return nil, fmt.Errorf("flows: %s: no client id: give the client's id (--client-id)", op)
	}
	// RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
	// clients."
	if c.ClientSecret == "" {
		return nil, fmt.Errorf("flows: %s: no client secret: the client credentials grant is only for confidential clients (RFC 6749 §4.4); supply the client's secret (file, environment or stdin)", op)
	}
	ep, err := resolve(ctx, c.HTTPClient, op, c.Issuer, endpoints{token: c.TokenURL}, "token_endpoint")
	if err != nil {
		return nil, err
	}
	style, _, err := authStyle(c.AuthMethod, c.ClientSecret, ep.authMethod)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}
	scopes := requestedScopes(c.Scopes)
	cfg := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     ep.token,
		Scopes:       scopes,
		AuthStyle:    style,
	}
	if c.Resource != "" {
		cfg.EndpointParams = url.Values{"resource": {c.Resource}} // RFC 8707 §2.2
	}
	ot, err := cfg.Token(withHTTPClient(ctx, c.HTTPClient))
	if err != nil {
		return nil, tokenError(op, err)
	}
	t, err := fromOAuth2(ot, scopes, now(c.Now))
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}
	if err := checkIDToken(ctx, httpClient(c.HTTPClient), op, t, ep, c.ClientID, ""); err != nil {
		return nil, err
	}
	return t, nil
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}
