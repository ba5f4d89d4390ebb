package testserver

import (
	"strconv"
	"strings"
)

// explain says in plain words, in one line, what went wrong in a failed exchange and what to
// do about it; "" for a success. The server's error_description stays beside it on the page.
func explain(e *exchange) string {
	if e.OK() {
		return ""
	}
	d := strings.ToLower(e.Description)
	switch e.Endpoint + " " + e.Error {
	case "register insufficient_scope":
		return "the initial access token had no dcr scope: request it in the token call"
	case "register invalid_token", "manage invalid_token":
		switch {
		case strings.Contains(d, "lacks scope dcr"):
			return "the initial access token had no dcr scope: request it in the token call"
		case strings.Contains(d, "already used"):
			return "the initial access token was used up (single use here): get a new one for each registration"
		case strings.Contains(d, "expired"):
			return "the token has expired: get a new one"
		case e.Endpoint == "manage":
			return "the registration access token is wrong, or was rotated and the client kept the old one: use the last one the server returned"
		}
		return "the initial access token is unknown, revoked or from the wrong kind of login: get a new one with scope dcr"
	case "register Unauthorized", "manage Unauthorized":
		return "no bearer token was sent: put the token in the Authorization: Bearer header"
	case "register invalid_client_metadata":
		return "the server rejected a metadata value of the registration: fix the member the description names"
	case "register invalid_redirect_uri":
		return "a redirect URI is not allowed here (https, loopback or a private-use scheme only, no fragment)"
	case "register invalid_software_statement", "register unapproved_software_statement":
		return "the software statement is not signed by a trusted issuer, or has expired"
	case "token invalid_client", "revoke invalid_client", "introspect invalid_client":
		return "the client could not be authenticated: wrong client_id or secret, or a secret that was rotated or has expired"
	case "token invalid_grant":
		return "the code or refresh token is wrong, expired, already used or was issued to another client or redirect URI"
	case "token invalid_scope":
		return "the client asked for a scope it may not have: ask only for the scopes it registered"
	case "token unauthorized_client":
		return "the client is not registered for this grant type: add it to grant_types"
	case "token unsupported_grant_type":
		return "the server does not know this grant_type"
	case "token authorization_pending", "token slow_down":
		return "the user has not finished the device login yet: keep polling at the given interval"
	case "authorize login_required":
		return "prompt=none but there was no single sign-on session: the user must log in with the form"
	case "authorize wrong_credentials":
		return "wrong username or password: the form was shown again"
	case "authorize access_denied":
		return "the user declined, or the client may not use this flow"
	case "authorize invalid_request":
		return "the authorization request is malformed (missing PKCE, unknown redirect URI or client, or a failed CSRF check)"
	case "manage invalid_client_metadata":
		return "the update was rejected: send the full metadata again (RFC 7592 update replaces everything)"
	case "revoke unauthorized_client":
		return "the token belongs to another client: revoke it with the client it was issued to"
	}
	switch e.Error {
	case "invalid_request":
		return "the request is missing a parameter or has a malformed one: see the description"
	case "temporarily_unavailable":
		return "the server's database could not be written: retry in a few seconds"
	case "server_error":
		return "the server failed: its log has the details"
	case "Not Found":
		return "there is no such endpoint or client (deleted?)"
	case "Method Not Allowed":
		return "the endpoint does not take this HTTP method"
	}
	if e.Description != "" {
		return "the server refused the request: " + e.Description
	}
	return "the server refused the request with HTTP " + strconv.Itoa(e.Status)
}
