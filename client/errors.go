package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error is a protocol error answered by the server, the one type for the client side of
// dcrctl: package client returns it for discovery, registration (RFC 7591 §3.2.2) and
// management (RFC 7592), and package flows (as flows.Error, an alias) for the token endpoint
// (RFC 6749 §5.2, RFC 8628 §3.5), the device authorization endpoint (RFC 8628 §3.2) and the
// authorization endpoint's redirect (RFC 6749 §4.1.2.1); RFC 6750 §3 errors come from the
// WWW-Authenticate header. An HTTP failure status without an error code is one too.
//
// Match it with errors.As, or with errors.Is against the Err… values or any &Error{…}:
// see [Error.Is].
type Error struct {
	// Op is the operation that failed: "discover", "register", "read", "update" or
	// "delete" (package client); "resource" ([Client.CallResource]); "client credentials", "login", "code exchange",
	// "device authorization" or "device token" (package flows). It selects the advice in
	// Error().
	Op string
	// StatusCode is the HTTP status of the response; 0 for an error that came back through
	// the browser's redirect.
	StatusCode int
	// Code is the RFC error code ("invalid_client_metadata", "invalid_token", …), from the
	// JSON body or from the WWW-Authenticate header; "" when the server sent none.
	Code string
	// Description is the server's error_description, with any secret the request carried
	// replaced by "[REDACTED]".
	Description string
	// URI is the server's error_uri.
	URI string
}

// Errors to match with errors.Is: an *Error matches when its Code equals theirs.
var (
	// ErrInvalidToken: the initial or registration access token is invalid, expired, used or revoked (RFC 6750 §3.1).
	ErrInvalidToken = &Error{Code: "invalid_token"}
	// ErrInsufficientScope: the token lacks the scope the request needs (RFC 6750 §3.1).
	ErrInsufficientScope = &Error{Code: "insufficient_scope"}
	// ErrInvalidRequest: the request is malformed (RFC 6750 §3.1).
	ErrInvalidRequest = &Error{Code: "invalid_request"}
	// ErrInvalidRedirectURI: a redirect URI is not acceptable (RFC 7591 §3.2.2).
	ErrInvalidRedirectURI = &Error{Code: "invalid_redirect_uri"}
	// ErrInvalidClientMetadata: a metadata value is invalid (RFC 7591 §3.2.2).
	ErrInvalidClientMetadata = &Error{Code: "invalid_client_metadata"}
	// ErrInvalidSoftwareStatement: the software statement is invalid (RFC 7591 §3.2.2).
	ErrInvalidSoftwareStatement = &Error{Code: "invalid_software_statement"}
	// ErrUnapprovedSoftwareStatement: the software statement is not approved (RFC 7591 §3.2.2).
	ErrUnapprovedSoftwareStatement = &Error{Code: "unapproved_software_statement"}
	// ErrPreconditionFailed: an update sent If-Match with the ETag of an earlier read, and
	// the registration has changed on the server since (HTTP 412, RFC 9110 §15.5.13);
	// nothing was changed. It matches on the status, whatever the code.
	ErrPreconditionFailed = &Error{StatusCode: http.StatusPreconditionFailed}
)

// Is reports whether target is an *Error whose Code, StatusCode and Op, where not zero,
// equal e's: errors.Is(err, &Error{Code: "invalid_client"}) matches on the code alone,
// &Error{StatusCode: 412} on the status, &Error{Op: "login", Code: "access_denied"} on both.
// A target with none of the three matches nothing.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || (t.Code == "" && t.StatusCode == 0 && t.Op == "") {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.StatusCode == 0 || t.StatusCode == e.StatusCode) &&
		(t.Op == "" || t.Op == e.Op)
}

// Hint names the likely cause and fix in protocol terms ("" when there is nothing useful to
// say); Error() ends with it. Command-line programs may add their own advice (flag names).
func (e *Error) Hint() string { return e.hint() }

// Error describes the failure and names the likely fix.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.StatusCode == 0 && e.Op == "login":
		b.WriteString("the server answered through the browser's redirect")
	case e.StatusCode == 0:
		b.WriteString("the server answered")
	default:
		fmt.Fprintf(&b, "the server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " with error %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (%q)", e.Description)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(": ")
		b.WriteString(hint)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " (see %s)", e.URI)
	}
	return b.String()
}

func (e *Error) management() bool {
	return e.Op == "read" || e.Op == "update" || e.Op == "delete"
}

// flow reports whether e came from getting a token (package flows).
func (e *Error) flow() bool {
	switch e.Op {
	case "client credentials", "login", "code exchange", "device authorization", "device token", "token", "refresh":
		return true
	}
	return false
}

// flowHint is the advice for the token, device authorization and authorization endpoints'
// errors (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.5; OpenID Connect Core §3.1.2.6).
func (e *Error) flowHint() (string, bool) {
	switch e.Code {
	case "invalid_client":
		return "the client id or secret is wrong, or the client is registered for another token endpoint authentication method (token_endpoint_auth_method)", true
	case "unauthorized_client":
		return "this client is not allowed to use this grant type: register or configure the client for it", true
	case "invalid_scope":
		return "the client may not request the scope it asked for (such as dcr): ask the server's administrator to allow it, or request another scope", true
	case "invalid_grant":
		if e.Op == "code exchange" {
			return "the authorization code was rejected (expired, already used, or the PKCE verifier or redirect URI did not match): log in again", true
		}
		return "the grant was rejected: check the credentials and try again", true
	case "access_denied":
		return "the login or approval was refused: log in again and approve the request", true
	case "expired_token":
		return "the device code expired before it was approved: start again and approve sooner", true
	case "login_required", "interaction_required", "consent_required", "account_selection_required":
		return "the server needs an interactive login: try again without prompt=none", true
	case "unsupported_grant_type":
		return "the server does not support this grant type: use another grant", true
	case "unsupported_response_type":
		return "the server does not allow the authorization code flow for this client", true
	case "invalid_request":
		return "the server rejected the request as malformed: check the client's redirect URIs, PKCE support and the scope", true
	case "temporarily_unavailable", "server_error":
		return "the server failed: try again later", true
	case "authorization_pending", "slow_down":
		return "", true
	}
	return "", false
}

// hint names the likely cause and fix for e.
func (e *Error) hint() string {
	if e.Op == "resource" {
		return e.resourceHint()
	}
	return e.endpointHint()
}

// endpointHint is hint for the authorization server's endpoints.
func (e *Error) endpointHint() string {
	if e.StatusCode == http.StatusPreconditionFailed {
		return "the registration changed on the server since it was read (If-Match did not match its ETag), and nothing was changed: read it again, re-apply the change and retry"
	}
	if e.flow() {
		if h, ok := e.flowHint(); ok || e.Code != "" {
			return h
		}
		switch {
		case e.StatusCode == http.StatusTooManyRequests:
			return "the server is rate limiting: wait and try again"
		case e.StatusCode >= 500:
			return "the server failed: try again later"
		}
		return ""
	}
	switch e.Code {
	case "invalid_token":
		if e.management() {
			return "the registration access token is invalid, was rotated, or the client no longer exists: use the registration access token returned by the latest register, read or update"
		}
		return "the initial access token is invalid, expired or already used: get a fresh one (a client-credentials or login token with scope dcr)"
	case "insufficient_scope":
		if e.management() {
			return "the registration access token lacks the scope this operation needs: use the registration access token returned by the latest register, read or update"
		}
		return "the initial access token lacks the dcr scope: request a token with scope dcr"
	case "invalid_redirect_uri":
		return "fix redirect_uris: each must be an absolute URI without a fragment; plain http is allowed only for loopback hosts (127.0.0.1, [::1]); native apps may use a private-use scheme such as com.example.app:/cb"
	case "invalid_client_metadata":
		return "fix the client metadata named in the description (grant_types and response_types must agree; a template id in software_id must exist on the server; unknown values may be refused)"
	case "invalid_software_statement":
		return "the software statement is malformed or its signature does not verify: get a freshly signed one from its publisher"
	case "unapproved_software_statement":
		return "the server does not trust the software statement's issuer: use a statement from a publisher the server accepts"
	case "invalid_request":
		return "the server could not parse the request: check the metadata is a JSON object with values of the right types"
	case "invalid_client":
		return "the server does not accept this client's credentials: the client may have been deleted"
	case "access_denied", "unauthorized_client":
		return "the server refused the request for this caller: check the token's subject is allowed to register clients"
	case "", "temporarily_unavailable", "server_error":
		// RFC 6749 §4.1.2.1 codes for an overloaded or failing server: the status says more.
	default:
		return ""
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized && e.management():
		return "the registration access token was refused, or the client no longer exists: use the registration access token returned by the latest register, read or update"
	case e.StatusCode == http.StatusUnauthorized:
		return "the server requires an initial access token: pass one (a client-credentials or login token with scope dcr)"
	case e.StatusCode == http.StatusForbidden:
		return "the token is not allowed to do this: check its scope (dcr) and who it was issued to"
	case e.StatusCode == http.StatusNotFound && e.Op == "register":
		return "there is no registration endpoint at this URL: registration may be disabled on the server; check the registration_endpoint in its discovery metadata"
	case e.StatusCode == http.StatusNotFound && e.management():
		return "there is nothing at the registration client URI: the client may have been deleted"
	case e.StatusCode == http.StatusNotFound && e.Op == "discover":
		return "no metadata document there: check the issuer, which must be exactly the server's issuer identifier"
	case e.StatusCode == http.StatusNotFound:
		return "nothing there: check the URL"
	case e.StatusCode == http.StatusRequestEntityTooLarge:
		return "the request is larger than the server accepts: shorten the metadata"
	case e.StatusCode == http.StatusTooManyRequests:
		return "the server is rate limiting: wait and try again"
	case e.StatusCode >= 500:
		return "the server failed: try again later, or ask its operator"
	}
	return ""
}

// resourceHint is the advice for a protected resource's refusal (RFC 6750 §3.1, RFC 8707).
func (e *Error) resourceHint() string {
	switch {
	case e.Code == "invalid_token" || e.Code == "" && e.StatusCode == http.StatusUnauthorized:
		return "the resource does not accept this access token: it is expired or revoked, or it was issued for another resource (its audience); get a new one requested for this resource (RFC 8707 resource parameter)"
	case e.Code == "insufficient_scope" || e.StatusCode == http.StatusForbidden:
		return "the access token lacks a scope the resource needs: request the scope the resource names"
	case e.StatusCode == http.StatusNotFound:
		return "there is nothing at this URL: check the resource URL"
	case e.StatusCode >= 500:
		return "the resource failed: try again later, or ask its operator"
	}
	return ""
}

// newError builds the *Error for a failed response. It reads the JSON body
// ({"error", "error_description", "error_uri"}) and the RFC 6750 §3 WWW-Authenticate Bearer
// challenge; the body wins where both speak. secrets are redacted from the texts.
func newError(op string, r *response, secrets ...string) *Error {
	e := &Error{Op: op, StatusCode: r.status}
	var body struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
		ErrorURI         any `json:"error_uri"`
	}
	if json.Unmarshal(r.body, &body) == nil {
		e.Code, _ = body.Error.(string)
		e.Description, _ = body.ErrorDescription.(string)
		e.URI, _ = body.ErrorURI.(string)
	}
	if p := bearerChallenge(r.header.Values("WWW-Authenticate")); p != nil {
		if e.Code == "" {
			e.Code = p["error"]
		}
		if e.Description == "" {
			e.Description = p["error_description"]
		}
		if e.URI == "" {
			e.URI = p["error_uri"]
		}
	}
	e.Code = clean(e.Code, 64, secrets)
	e.Description = clean(e.Description, 512, secrets)
	e.URI = clean(e.URI, 512, secrets)
	return e
}

// clean redacts secrets from s, drops control characters and bounds its length.
func clean(s string, max int, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// BearerChallenge returns the auth-params of the first Bearer challenge in the response
// header h's WWW-Authenticate values (RFC 7235 §4.1, RFC 6750 §3), such as error, scope or
// RFC 9728's resource_metadata, keyed by lower-case name; nil when there is none.
func BearerChallenge(h http.Header) map[string]string {
	return bearerChallenge(h.Values("WWW-Authenticate"))
}

// bearerChallenge returns the auth-params of the first Bearer challenge in the
// WWW-Authenticate header values (RFC 7235 §4.1, RFC 6750 §3), or nil.
func bearerChallenge(values []string) map[string]string {
	for _, v := range values {
		if p := parseBearer(v); p != nil {
			return p
		}
	}
	return nil
}

// parseBearer parses one WWW-Authenticate header value, which may hold several challenges,
// and returns the params of its Bearer challenge.
func parseBearer(s string) map[string]string {
	var params map[string]string // non-nil while inside the Bearer challenge
	var found map[string]string
	started := false // the first token is always an auth-scheme
	for i := 0; i < len(s); {
		// skip separators
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		tok := s[start:i]
		if tok == "" {
			if i < len(s) {
				i++ // stray character: skip it
			}
			continue
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if started && j < len(s) && s[j] == '=' {
			// auth-param: token "=" ( token / quoted-string )
			j++
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			var val string
			if j < len(s) && s[j] == '"' {
				var b strings.Builder
				j++
				for j < len(s) && s[j] != '"' {
					if s[j] == '\\' && j+1 < len(s) {
						j++
					}
					b.WriteByte(s[j])
					j++
				}
				j++ // closing quote
				val = b.String()
			} else {
				vs := j
				for j < len(s) && isTokenChar(s[j]) {
					j++
				}
				val = s[vs:j]
			}
			if params != nil {
				params[strings.ToLower(tok)] = val
			}
			i = j
			continue
		}
		// a new challenge: auth-scheme
		started = true
		if found != nil {
			return found
		}
		if strings.EqualFold(tok, "Bearer") {
			params = map[string]string{}
			found = params
		} else {
			params = nil
		}
	}
	return found
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~/", c) >= 0
}
