package client

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// This file is the one home of the rule that says which names carry secrets. The printed
// forms of Metadata and Registration, the HTTP trace ([TraceTransport]) and callers that
// warn about secrets given on a command line all ask it.

// Redacted is what every redaction in this package puts in place of a secret.
const Redacted = "[REDACTED]"

// IsSecretMember reports whether a JSON member, form field, query parameter (or, with "-"
// read as "_", a header) of this name holds a secret. It is a rule, not a list, so that
// vendor members are caught too: a name (case-insensitive) is secret when it
//
//   - contains "secret" (client_secret, x_webhook_secret), except the public expiry time
//     client_secret_expires_at;
//   - contains "password", "passwd" or "passphrase" (x_admin_password);
//   - ends in "token" (registration_access_token, initial_access_token, refresh_token,
//     id_token, csrf_token, token) or "assertion" (client_assertion, RFC 7521);
//   - names key material: contains "private" or "apikey"/"api_key", or ends in "_key" or is
//     "key", unless it contains "public";
//   - contains "credential", or is software_statement (a signed JWT that may grant rights);
//   - is an OAuth code: code, device_code, user_code, code_verifier (RFC 6749 §4.1, RFC 8628
//     §3.2, RFC 7636 §4.1).
//
// Names that merely mention tokens (token_endpoint_auth_method, id_token_signed_response_alg,
// access_token_ttl) are not secret. The private members of a JWK are handled by the JSON
// redaction, which knows when it is inside a key.
func IsSecretMember(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	switch n {
	case "code", "device_code", "user_code", "code_verifier", "authorization_code",
		"software_statement", "key":
		return true
	}
	switch {
	case strings.Contains(n, "secret") && !strings.HasSuffix(n, "_expires_at"),
		strings.Contains(n, "password"), strings.Contains(n, "passwd"), strings.Contains(n, "passphrase"),
		strings.HasSuffix(n, "token"), strings.HasSuffix(n, "assertion"),
		strings.Contains(n, "credential"):
		return true
	case strings.Contains(n, "public"):
		return false
	case strings.Contains(n, "private"), strings.Contains(n, "apikey"), strings.Contains(n, "api_key"),
		strings.HasSuffix(n, "_key"):
		return true
	}
	return false
}

// secretHeaders are headers whose value is a credential whatever it looks like.
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true, "Dpop": true,
}

// RedactHeader returns the value of header name as it may be shown: Authorization and
// Proxy-Authorization keep their scheme ("Bearer [REDACTED]"); Cookie, Set-Cookie, DPoP and
// every header whose name [IsSecretMember] says is secret (X-Api-Key, X-Auth-Token) are
// replaced whole; URL-valued headers (Location, Content-Location, Referer) go through
// [RedactURL]; others are returned unchanged (WWW-Authenticate challenges carry no secrets,
// RFC 6750 §3).
func RedactHeader(name, value string) string {
	k := http.CanonicalHeaderKey(name)
	switch {
	case k == "Authorization" || k == "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(strings.TrimSpace(value), " "); ok {
			return scheme + " " + Redacted
		}
		return Redacted
	case secretHeaders[k] || IsSecretMember(k):
		return Redacted
	case k == "Location" || k == "Content-Location" || k == "Referer":
		u, err := url.Parse(value)
		if err != nil {
			return Redacted
		}
		return RedactURL(u)
	}
	return value
}

// RedactURL returns u as it may be shown: user info replaced, every query parameter that
// [IsSecretMember] names (code, access_token, …) replaced by [Redacted], and the fragment
// (where an implicit grant puts tokens) dropped.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED") // brackets would be escaped
	}
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = Redacted
		} else {
			RedactValues(q)
			c.RawQuery = encodeKeepingRedacted(q)
		}
	}
	return c.String()
}

// RedactValues replaces, in place, the values of the form fields or query parameters that
// [IsSecretMember] names.
func RedactValues(q url.Values) {
	for k, vs := range q {
		if IsSecretMember(k) {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
}

// encodeKeepingRedacted is q.Encode() with the [REDACTED] markers left readable.
func encodeKeepingRedacted(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), url.QueryEscape(Redacted), Redacted)
}

// RedactJSON returns the JSON document data with the value of every member that
// [IsSecretMember] names, at any depth, replaced by "[REDACTED]", and likewise the private
// members of every JWK (an object with "kty", or any object inside "jwks": d, p, q, dp, dq,
// qi, oth, k; RFC 7518 §6). Member order is kept. A malformed document is replaced whole.
func RedactJSON(data []byte) []byte { return redactJSON(data, false) }

// RedactError returns err's text with the URL of a *url.Error (whose query may hold a code
// or a token) passed through [RedactURL].
func RedactError(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		shown := Redacted
		if u, perr := url.Parse(ue.URL); perr == nil {
			shown = RedactURL(u)
		}
		s = strings.ReplaceAll(s, strconv.Quote(ue.URL), strconv.Quote(shown))
		s = strings.ReplaceAll(s, ue.URL, shown)
	}
	return s
}
