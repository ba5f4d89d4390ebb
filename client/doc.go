// Package client is the dcrctl SDK for OAuth 2.0 Dynamic Client Registration.
//
// It implements the client side of
//
//   - RFC 8414 (OAuth 2.0 Authorization Server Metadata) and OpenID Connect Discovery 1.0:
//     [Client.Discover] finds the registration endpoint and the server's capabilities (RFC 8414
//     §3.1 path-inserted, then the §5 OpenID variants; §3.3 issuer check); [Client.Resolve]
//     adds caller-given [Endpoints] for servers whose discovery leaves them out, or that have
//     none, and [ServerMetadata.MissingEndpoints] names what is still missing;
//   - RFC 7591 (OAuth 2.0 Dynamic Client Registration Protocol): [Client.Register] and
//     [Client.RegisterTemplate] register a client with full [Metadata] (RFC 7591 §2, the
//     OpenID Connect Dynamic Client Registration 1.0 fields, language-tagged values and vendor
//     extensions, unknown members kept untouched) or from a server-side template
//     (`{"software_id": "<template>"}`), authorised by an initial access token sent as an
//     RFC 6750 Bearer token;
//   - RFC 7592 (OAuth 2.0 Dynamic Client Registration Management Protocol): [Client.Read],
//     [Client.Update] and [Client.Delete] with the registration access token; an update sends
//     If-Match with the ETag of the last read (RFC 9110 §13.1.1), and a 412 is
//     [ErrPreconditionFailed].
//
// A JSON null is treated as absent on read, update and print.
//
// Servers may rotate the registration access token and the client secret on every read and
// update. Every call that can see a rotation returns the [Registration] exactly as the server
// now holds it: callers must persist what comes back, every time.
//
// Protocol errors are returned as [*Error] (HTTP status, RFC error code, description, URI),
// parsed from the JSON body or from the WWW-Authenticate header (RFC 6750 §3); match them with
// errors.As or errors.Is against the Err… values. Other failures are wrapped as
// "client: <op>: …".
//
// Where each policy lives: this package is the one home of the rule that says which names
// carry secrets ([IsSecretMember], with [RedactHeader], [RedactURL], [RedactJSON] and the
// redacted HTTP trace [TraceTransport]), of the default HTTP client and redirect policy
// ([NewHTTPClient], [CheckRedirect]: only GET and HEAD are redirected, never https to http),
// and of the client side's protocol error, [*Error], which package flows returns too.
//
// Security: TLS verification is never switched off here; plain http:// is refused except to
// loopback hosts or when [Client.InsecureAllowHTTP] is set. Response bodies are read through a
// 1 MiB limit. Secrets (client secret, registration access token, initial access token) never
// appear in error strings nor in the printed form (fmt verbs, log/slog) of [Registration] and
// [Metadata]; encoding/json output does carry them, since that is how callers store them.
package client
