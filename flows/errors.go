package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is an OAuth 2.0 error response: from the token endpoint (RFC 6749 §5.2, RFC 8628
// §3.5), from the device authorization endpoint (RFC 8628 §3.2), or from the authorization
// endpoint through the redirect (RFC 6749 §4.1.2.1). Match it with errors.As, or test for a
// code with errors.Is(err, &flows.Error{Code: "invalid_client"}).
type Error struct {
	// Op is the step that failed: "client credentials", "login", "code exchange",
	// "device authorization" or "device token".
	Op string
	// StatusCode is the HTTP status of the response; 0 for an error that came back
	// through the browser redirect.
	StatusCode int
	// Code is the RFC 6749 "error" value, e.g. "invalid_client".
	Code string
	// Description and URI are the optional "error_description" and "error_uri".
	Description string
	URI         string
}

// Error names the code, the server's description and what to do about it. It never
// contains the request's secrets.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flows: %s: ", e.Op)
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, "the server answered %s", e.Code)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "the server answered HTTP %d without an OAuth error code", e.StatusCode)
	default:
		b.WriteString("the server answered with an error")
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (%s)", oneLine(e.Description, 300))
	}
	if fix := e.Fix(); fix != "" {
		b.WriteString(": ")
		b.WriteString(fix)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " (see %s)", oneLine(e.URI, 300))
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Code (and the same Op when the
// target names one), so that errors.Is(err, &Error{Code: "access_denied"}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Op == "" || t.Op == e.Op)
}

// Fix says, in a few words, what the user can do about the error.
func (e *Error) Fix() string {
	switch e.Code {
	case "invalid_client":
		return "the client id or secret is wrong, or the client uses another authentication method: check --client-id, the secret and --auth-method"
	case "unauthorized_client":
		return "this client is not allowed to use this grant type: register or configure the client for it"
	case "invalid_scope":
		return "the client may not request the scope it asked for, such as dcr: ask the server's administrator to allow it, or request another with --scope"
	case "invalid_grant":
		if e.Op == "code exchange" {
			return "the authorization code was rejected (expired, already used, or the PKCE verifier or redirect URI did not match): log in again"
		}
		return "the grant was rejected: check the credentials and try again"
	case "access_denied":
		return "the login or approval was refused: log in again and approve the request"
	case "expired_token":
		return "the device code expired before it was approved: start again and approve sooner"
	case "login_required", "interaction_required", "consent_required", "account_selection_required":
		return "the server needs you to log in interactively: run again without prompt=none"
	case "unsupported_grant_type":
		return "the server does not support this grant type: use another of --client-credentials, --login or --device"
	case "unsupported_response_type":
		return "the server does not allow the authorization code flow for this client"
	case "invalid_request":
		return "the server rejected the request as malformed: check the client's redirect URIs, PKCE support and the scope"
	case "temporarily_unavailable", "server_error":
		return "the server failed: try again later"
	}
	return ""
}

// ErrStateMismatch is returned by [BrowserLogin.Token] when the redirect carries a state that
// is not the one this login sent (RFC 6749 §10.12): a stale browser tab from an earlier login,
// or a forged request. The code in such a redirect is never redeemed.
var ErrStateMismatch = errors.New("flows: login: the state in the browser's redirect does not match this login (a stale tab from an earlier login, or a forged request): start the login again")

// ErrIssuerMismatch is returned by [BrowserLogin.Token] when the redirect carries an iss
// parameter other than the issuer this login started at (RFC 9207 §2.4, a mix-up defence).
var ErrIssuerMismatch = errors.New("flows: login: the redirect came from another issuer than the one this login started at (RFC 9207 mix-up defence): check --issuer")

// ErrNoBrowser is returned by [Browser.Open] when no browser can be opened here: over SSH,
// or on a Unix desktop without DISPLAY or WAYLAND_DISPLAY, with neither DCRCTL_BROWSER nor
// BROWSER naming a program.
var ErrNoBrowser = errors.New("flows: open browser: no browser can be opened here (SSH session or no display): open the URL yourself, or set DCRCTL_BROWSER or BROWSER to a browser command")

// TimeoutError is returned when a login or device approval is not finished in time.
// It matches context.DeadlineExceeded with errors.Is.
type TimeoutError struct {
	Op    string        // "login" or "device"
	After time.Duration // the time limit that ran out, 0 if it was the device code's expiry
}

// Error says what ran out and how to do better.
func (e *TimeoutError) Error() string {
	if e.Op == "device" {
		return "flows: device: the device code expired before it was approved: start again and approve it sooner"
	}
	return fmt.Sprintf("flows: %s: not completed within %s: finish the login in the browser sooner, or allow more time", e.Op, e.After)
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// oneLine shortens server-supplied text for an error message: one line, at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
