// Package testserver is the authorization server behind `dcrctl serve`: an http.Handler,
// built from a Config, that implements OAuth 2.0 Dynamic Client Registration and the
// endpoints a DCR client needs around it, backed by an embedded SQLite database.
//
// # Standards
//
//   - RFC 7591 (registration), RFC 7592 (read, update, delete), with configurable rotation
//     of the registration access token and the client secret.
//   - RFC 8414 and OpenID Connect Discovery 1.0: /.well-known/oauth-authorization-server and
//     /.well-known/openid-configuration; JWKS at /jwks.
//   - RFC 6749 (token endpoint: client_credentials, authorization_code, refresh_token with
//     rotation; client_secret_basic with form-decoded values per §2.3.1, client_secret_post,
//     none), RFC 6750 (bearer initial access tokens), RFC 7636 (PKCE, S256 only, required for
//     public clients), RFC 8252 (loopback redirect URIs match any port, private-use schemes).
//   - RFC 8628 (device authorization grant), RFC 7009 (revocation), RFC 7662 (introspection),
//     RFC 9207 (iss in authorization responses), OpenID Connect Core 1.0 (RS256 ID tokens).
//   - With Config.CIMD, draft-ietf-oauth-client-id-metadata-document-03 (an https URL as
//     client_id): the document is fetched without redirects, within 5 s and 64 KiB, never from
//     a special-use address (§8.6, checked on the dialled address), cached per RFC 9111 in a
//     bounded cache (§5.2), and checked with package client/cimd (cimd.go, cimdfetch.go).
//
// # Endpoints
//
// Every endpoint is below the issuer URL I: I/authorize, I/token, I/register,
// I/register/{client_id} (RFC 7592), I/jwks, I/revoke, I/introspect, I/device_authorization,
// I/device (the device user page), I/userinfo. Discovery is at
// /.well-known/oauth-authorization-server{path of I} and I/.well-known/openid-configuration.
//
// # Behaviour profiles
//
// Config.BehaveLike selects a named bundle of switches (Behaviour) that makes the server
// behave like a server people deploy against — curity, keycloak, hydra, oidc-provider,
// mcp-sdk — or like itself (strict, the default); Config.Switches sets single switches over
// the bundle. The paths above are strict's: Behaviour.RegistrationPath moves I/register.
// Profiles lists every profile with its switches and the public source of each value
// (behaviour.go); the RFC text each switch departs from is quoted in its field comment.
//
// # Control API
//
// Tests steer a running server with methods on *Server (control.go): DeleteClient,
// ExpireClient, RevokeToken, RevokeClientTokens, InjectFault, RotateSigningKey, AdvanceClock
// (with Config.FakeClock), SetTemplateMetadata, Reset, Export and Import. With
// Config.ControlToken they are also served below I at /_control/, to loopback callers with
// that bearer token. Config.Seed makes ids, secrets and tokens reproducible.
//
// # Access tokens
//
// Access tokens are opaque: a 64-bit time-ordered sequence number and 256 random bits, in
// URL-safe base64 (54 characters), stored under the sequence number and the token's SHA-256
// hash (so new tokens append to the database's B-tree). Refresh tokens and codes look the
// same. Client ids are a sequence number and 64 random bits (22 characters). Opaque
// tokens make revocation immediate everywhere (the server looks every token up), keep the
// client credentials grant cheap (no RSA signature per token), and are what RFC 7662
// introspection is for. An access token with scope "dcr" is also an initial access token
// for registration.
//
// # Registration
//
// Modes (Config.Registration): open (no token), client (an initial access token from the
// client_credentials grant, scope dcr), user (an initial access token from a user login,
// scope dcr), disabled (no endpoint, not advertised). Initial access tokens are single-use
// by default (Config.InitialTokenUses).
//
// Unknown metadata is ignored (RFC 7591 §2) unless its name matches Config.VendorFields;
// matching vendor fields are stored and echoed untouched. Language-tagged human-readable
// fields (client_name#ja-Jpan-JP) are stored and echoed. Unknown scopes are dropped.
//
// Templates: a request whose software_id names a configured template creates an instance
// that references the template: its metadata is always the template's current metadata,
// and every other field sent with it is ignored (the response shows what the instance
// really is). A request whose only metadata is an unknown software_id gets 400
// invalid_client_metadata. RFC 7592 PUT on an instance changes nothing but may rotate
// credentials; its software_id cannot change.
//
// Secrets at rest (client secrets, registration access tokens, access and refresh tokens,
// codes, device codes, session ids) are stored as SHA-256 hashes and compared in constant
// time. Kept in clear in the database: the ID token signing key (PKCS#8), the generated
// secret of each static client configured without one (so that `dcrctl serve` can print it
// again after a restart), client metadata, and the user names and scopes of tokens and
// sessions. New therefore creates the database directory 0700 and the database 0600 (SQLite
// gives the WAL and shared-memory files the same mode) and tightens an existing database to
// 0600. Because secrets
// are hashed, a GET or PUT that does not rotate the client secret cannot return it:
// client_secret is then omitted (client_secret_expires_at is still present).
//
// # Serving
//
// Server is an http.Handler; Serve runs it on a listener with the timeouts, the connection
// cap (Config.MaxConns, DefaultMaxConns) and the graceful shutdown that `dcrctl serve` uses.
// Routes are Go 1.22 http.ServeMux patterns below the issuer's path. Everything the server
// stores goes through the storage interface (storage.go); the SQLite implementation and its
// SQL are in store.go, the PostgreSQL one (Config.DBPath a postgres:// URL, IsPostgres) in
// store_postgres.go: replicas on one PostgreSQL database behave as one server (row locks and
// conditional updates for single-use tokens, rotation and redemption; migrations, the signing
// key and the sweeper under advisory locks; no in-process caches; a lost database is 503 with
// Retry-After until pgx reconnects). JOSE (ID tokens, JWKS, software statements) is go-jose (jose.go).
// Package servertest starts a Server under httptest for tests.
//
// # Debugger page
//
// I/debug (DebugPage) shows the clients, each client's timeline of protocol exchanges with
// the HTTP status, the OAuth error and a plain-words explanation, live updates (server-sent
// events at I/debug/events) and the SSO sessions and tokens with a revoke button (POST with
// the CSRFCookie double-submit check, RFC 7009 semantics). The exchanges are kept in a bounded
// in-memory ring (DefaultDebugExchanges), masked by the server's one secret-name rule
// (secretnames.go) to the last four characters. Without DebugPage.Password it answers only on
// loopback listeners and loopback Host names; with one, on any address after HTTP Basic.
//
// # Driving the login form
//
// A scripted HTTP "browser" (an http.Client with a cookie jar that does not follow
// redirects to the application) logs in like this:
//
//  1. GET the authorization URL, I/authorize?response_type=code&client_id=…&redirect_uri=…
//     &scope=…&state=…&code_challenge=…&code_challenge_method=S256. Without an SSO session
//     (or with prompt=login) the answer is 200 text/html with one form, id="login",
//     method="post", action="I/authorize". The response sets the cookie "dcr_csrf"
//     (CSRFCookie).
//  2. POST application/x-www-form-urlencoded to I/authorize with every hidden input of that
//     form (they are the authorization request's parameters, plus "csrf_token" (CSRFField),
//     whose value equals the dcr_csrf cookie), and "username" and "password"
//     (UsernameField, PasswordField) of a configured user; the jar sends the dcr_csrf
//     cookie. Hidden inputs look exactly like <input type="hidden" name="N" value="V">
//     with V HTML-escaped. Shortcut: instead of parsing the form, send the original
//     authorization parameters plus username, password and csrf_token = the value of the
//     dcr_csrf cookie.
//  3. Success: 303 See Other to redirect_uri?code=…&state=…&iss=… and the SSO cookie
//     "dcr_session" (SessionCookie; HttpOnly, SameSite=Lax, Path = issuer path + "/", Secure
//     when the issuer is https). Wrong credentials: 401 with the form again (an element
//     id="error" says why). A missing or wrong csrf_token: 403 page.
//  4. Later GETs of an authorization URL with the dcr_session cookie answer 302 straight to
//     the redirect URI with a code (no form), unless prompt=login; prompt=none without a
//     session redirects with error=login_required.
//
// The device flow's user page (I/device) is the same form with an extra "user_code" text
// field, and two buttons named "action" with values "approve" and "deny"; with an SSO
// session it does not ask for username and password.
package testserver
