// Package cimd holds the one rule for OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document-03, "CIMD"): a client's client_id is an https
// URL, and the JSON document served at that URL is its registration. Both sides of dcrctl use
// it: `dcrctl cimd check` and `dcrctl login --client-id https://…` on the client side, and the
// authorization server of `dcrctl serve` (package testserver) when it fetches a client's
// document. It imports only the standard library, so that neither side depends on the other.
//
// What is checked, with the draft's sections (-03 numbering; the rules are those of the
// working group's current text):
//
//   - §3 Client Identifier URL ([CheckURL]): https scheme, a host, a path, no single-dot or
//     double-dot path segments, no fragment, no user info; a query is a warning (SHOULD NOT),
//     and so is the path "/" (NOT RECOMMENDED).
//   - §4 Client ID Metadata Document ([Check]): a JSON object (RFC 8259) whose client_id is
//     the document's URL by simple string comparison (RFC 3986 §6.2.1), served as
//     application/json or application/<subtype>+json.
//   - §4.1 Credential and Key Material Restrictions: no token_endpoint_auth_method based on a
//     shared secret (client_secret_basic, client_secret_post, client_secret_jwt, any other
//     client_secret_*), no client_secret or client_secret_expires_at, and no private or
//     symmetric key material in jwks.
//   - §4.2 Redirect URL Registration: a client of a redirect-based grant (authorization_code,
//     the RFC 7591 §2 default) lists its redirect_uris; each is an absolute URI without a
//     fragment (RFC 6749 §3.1.2), https, loopback http (RFC 8252 §7.3) or a private-use scheme
//     (RFC 8252 §7.1), never a scheme that runs code in a browser (§8.6).
//   - §5 Client Information Discovery ([Fetch]): only a 200 response counts and redirects are
//     not followed.
//   - §8.6 SSRF: [SpecialUse] is the address rule (RFC 6890 special-use addresses), which the
//     server's fetcher applies to every address it dials; [Fetch] warns when a document came
//     from such an address, since servers refuse to fetch it there.
//   - §8.7 Maximum Response Size: at most [MaxSize] bytes are read; a document over
//     [RecommendedSize] is a warning, since servers that follow the draft's recommendation
//     stop reading there.
//
// A [Problem] is one broken rule; a warning is a SHOULD or a recommendation, anything else a
// MUST. [Problems.Err] is nil when only warnings remain.
package cimd
