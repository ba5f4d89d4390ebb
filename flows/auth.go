package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"golang.org/x/oauth2"

	"github.com/dcrctl/dcrctl/client"
)

// Client authentication methods at the token endpoint (RFC 7591 §2,
// token_endpoint_auth_method) that this package supports.
const (
	AuthClientSecretBasic = "client_secret_basic" // HTTP Basic, id and secret form-encoded first (RFC 6749 §2.3.1)
	AuthClientSecretPost  = "client_secret_post"  // client_id and client_secret in the form body (RFC 6749 §2.3.1)
	AuthNone              = "none"                // a public client: client_id in the body, no secret (RFC 7591 §2)
)

// authStyle picks the x/oauth2 auth style for a token_endpoint_auth_method, explicitly:
// x/oauth2's auto-detection resends the request another way after any error, which hides the
// first error and sends the secret twice.
//
// An empty method means: "none" without a secret; otherwise RFC 7591 §2's default,
// client_secret_basic — unless the server's metadata lists methods and client_secret_basic is
// not among them while client_secret_post is.
func authStyle(method, secret string, supported []string) (oauth2.AuthStyle, string, error) {
	if method == "" {
		switch {
		case secret == "":
			method = AuthNone
		case len(supported) > 0 && !slices.Contains(supported, AuthClientSecretBasic) && slices.Contains(supported, AuthClientSecretPost):
			method = AuthClientSecretPost
		default:
			method = AuthClientSecretBasic
		}
	}
	switch method {
	case AuthClientSecretBasic:
		if secret == "" {
			return 0, "", fmt.Errorf("token_endpoint_auth_method %s needs a client secret: supply one (file, environment or stdin), or use --auth-method none for a public client", method)
		}
		return oauth2.AuthStyleInHeader, method, nil
	case AuthClientSecretPost:
		if secret == "" {
			return 0, "", fmt.Errorf("token_endpoint_auth_method %s needs a client secret: supply one (file, environment or stdin), or use --auth-method none for a public client", method)
		}
		return oauth2.AuthStyleInParams, method, nil
	case AuthNone:
		if secret != "" {
			return 0, "", errors.New("token_endpoint_auth_method none is for public clients, but a client secret was supplied: drop the secret or choose client_secret_basic or client_secret_post")
		}
		// With an empty secret, AuthStyleInParams sends client_id alone in the body.
		return oauth2.AuthStyleInParams, method, nil
	}
	return 0, "", fmt.Errorf("token_endpoint_auth_method %q is not supported by dcrctl: use client_secret_basic, client_secret_post or none", method)
}

// httpClient is the client for a flow's requests: the caller's, or package client's default
// (timeouts and the one redirect policy, client.CheckRedirect). A caller's client without a
// CheckRedirect of its own gets that policy too, so that a 307 from a token endpoint never
// re-sends a client_secret_post body, or a code and PKCE verifier, to another place.
func httpClient(c *http.Client) *http.Client {
	return client.WithRedirectPolicy(c)
}

// withHTTPClient hands the client to x/oauth2, which takes it from the context.
func withHTTPClient(ctx context.Context, c *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, httpClient(c))
}

// tokenError turns x/oauth2's errors into this package's: a *oauth2.RetrieveError becomes an
// *Error (its body is dropped: it may echo what was sent), wrapped as "flows: op: …";
// anything else is wrapped too.
func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Op: op, Code: oneLine(re.ErrorCode, 64), Description: oneLine(re.ErrorDescription, 300), URI: oneLine(re.ErrorURI, 300)}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
		}
		return fmt.Errorf("flows: %s: %w", op, e)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("flows: %s: %w", op, err)
	}
	return fmt.Errorf("flows: %s: the token request failed: %w", op, err)
}

// maxBody bounds every response body this package reads itself.
const maxBody = 1 << 20

// drain reads what is left of a body, bounded, so the connection can be reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, maxBody))
	_ = r.Close()
}
