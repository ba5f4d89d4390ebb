package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
)

// Error is an OAuth 2.0 error response: from the token endpoint (RFC 6749 §5.2, RFC 8628
// §3.5), from the device authorization endpoint (RFC 8628 §3.2), or from the authorization
// endpoint through the redirect (RFC 6749 §4.1.2.1, StatusCode 0). It is package client's
// protocol error, so that one errors.As catches the errors of both packages; its Op is
// "client credentials", "login", "code exchange", "device authorization" or "device token".
// Test for a code with errors.Is(err, &flows.Error{Code: "invalid_client"}).
type Error = client.Error

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

// ErrIssuerMissing is returned by [BrowserLogin.Token] when the server advertises
// authorization_response_iss_parameter_supported but its redirect carries no iss (RFC 9207
// §2.4): a mix-up attack, or a misconfigured server.
var ErrIssuerMissing = errors.New("flows: login: the server says its authorization responses carry iss (authorization_response_iss_parameter_supported), but the browser's redirect has none (RFC 9207 mix-up defence): start the login again; if it persists, the server is misconfigured")
