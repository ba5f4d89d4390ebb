// Package probe is the black-box compatibility report behind `dcrctl probe`: what an
// authorization server's dynamic client registration really does, check by check, each with
// a stable id (IDs), a Result (yes, no, violation with the RFC section it breaks, skipped
// with why), a short Value and a line of detail, then a summary and advice for a client
// author.
//
// It looks at
//
//   - discovery (RFC 8414 §3, OpenID Connect Discovery 1.0 §4; the §3.3 issuer check) and
//     protected resource metadata (RFC 9728 §3, or a 401 naming resource_metadata, §5.1);
//   - registration (RFC 7591 §3): open, protected or disabled; 401 or 403 for a token
//     without the dcr scope (RFC 6750 §3.1); single-use initial tokens; the status and shape
//     of the response (§3.2.1), null and added members, unknown, language-tagged (§2.2) and
//     vendor members, the §2 defaults, §2.1 consistency, software statements (§2.3);
//   - native clients (RFC 8252): loopback and private-use redirect URIs (§7.1, §7.3, §8.3),
//     and at the authorization endpoint any-port loopback matching, PKCE S256 and plain
//     (RFC 7636), PKCE required (RFC 9700 §2.1.1), the iss parameter (RFC 9207) and the
//     refusal of an unregistered redirect_uri (RFC 6749 §4.1.2.1);
//   - CORS on the registration endpoint, Client ID Metadata Documents;
//   - management (RFC 7592 §2): read, update (full replacement, §2.2), delete (§2.3), and
//     rotation of the registration access token and client secret.
//
// # Safety
//
// Run is meant to be safe against production servers. With Options.NoRegister it sends
// only GETs and one CORS preflight. Otherwise it registers at most a few clients, each named
// NamePrefix + random, and deletes every one before returning; Report.Undeleted lists those
// it could not delete. It never logs a user in: an authorization request is sent without
// cookies and its answer (a login page, an error page, a redirect) is read, never followed.
// A request carrying a token or a secret goes only to the origin of the registration
// endpoint (the guard in transport.go refuses anything else), and the probe stops after
// Options.MaxRequests requests or when ctx ends (the final deletes get a short grace).
// Every request goes through package client's HTTP policy (client.NewHTTPClient).
package probe
