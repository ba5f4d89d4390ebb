package cmd

import "github.com/dcrctl/dcrctl/testserver"

// serveLong and serveExample are dcrctl serve --help.
const (
	serveLong = `Run a real OAuth 2.0 / OpenID Connect authorization server for local testing and CI:
discovery, dynamic client registration (RFC 7591) with templates, management (RFC 7592),
the token endpoint (client credentials, authorization code + PKCE, refresh, device grant),
a login page with single sign-on, revocation and introspection.

With no flags it listens on ` + DefaultServeAddr + `, requires an initial access token with scope
dcr from the client credentials grant for registration, and has one bootstrap client (scope
dcr), one template ("` + testserver.DefaultTemplate + `"), the public client "` + testserver.DefaultNativeClient + `" for browser and device
logins, and the demo user demo/demo. Its data (clients, tokens, sessions, signing key, the
bootstrap client's secret) is kept in a SQLite file under your data directory, so a restart
keeps everything and prints the same secret; --db FILE chooses the file, --memory keeps
nothing.

It prints the issuer, endpoints and credentials; with -o json exactly one JSON line on
stdout once it is ready to serve (issuer, endpoints, client_id, client_secret, templates,
users). The request log goes to stderr, without query strings, headers or bodies.
Stop it with Ctrl-C or SIGTERM (graceful shutdown); it also stops when its stdout is a pipe
whose reader has exited (serve -o json | head -1 returns).

Plain http is only allowed on a loopback address; elsewhere use --tls-cert/--tls-key or
--tls-self-signed, or insist with --insecure-http.

With --cimd it also accepts an https URL as client_id and fetches the client's metadata document
there (draft-ietf-oauth-client-id-metadata-document): public clients with PKCE only, never from
private or link-local addresses (--cimd-allow-loopback lets loopback through, for tests).`

	serveExample = `  dcrctl serve
  # the ready line alone: serve stops once head has exited
  dcrctl serve -o json --addr 127.0.0.1:0 --memory | head -1 | jq .endpoints
  # keep it running for a script, and read the ready line from a file
  dcrctl serve -o json --addr 127.0.0.1:0 --memory > ready.json &
  until test -s ready.json; do sleep 0.1; done; jq -r .issuer ready.json
  dcrctl serve --registration open --db ./dcr.db
  dcrctl serve --config testserver.yaml --tls-self-signed`
)
