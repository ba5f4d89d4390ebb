// Package keystore stores dcrctl's instance credentials: the client_id, client_secret,
// registration_access_token and registration_client_uri that a server returns from
// OAuth 2.0 Dynamic Client Registration (RFC 7591 §3.2.1) and from the management protocol
// (RFC 7592 §3), plus a refresh token if one is kept.
//
// # What goes where
//
// Only secrets go into a secret store. Everything else — name, issuer, client_id,
// registration client URI, template, grant types, redirect URIs, issue and expiry times, the
// last registration response minus its secrets, and which keystore holds the secrets — goes
// into an index file, index.json, in the user's configuration directory
// (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application Support
// on macOS, %AppData% on Windows, then "dcrctl"). The index is written atomically (temporary
// file, fsync, rename) under a file lock, so two dcrctl processes can change it at once.
// Because of that split, List never touches a secret store: a listing never raises a keyring
// prompt.
//
// # Backends
//
//   - "os" (the default): the OS keyring through github.com/zalando/go-keyring — macOS
//     Keychain, Windows Credential Manager, or a freedesktop Secret Service (GNOME Keyring,
//     KWallet, KeePassXC) on Linux and the BSDs. Every call runs under a timeout and fails with
//     a typed error that names the fix (see UnavailableError, LockedError, TimeoutError,
//     TooBigError). There is no fallback to plaintext, ever.
//   - "file": an explicit, insecure store: the secrets in a JSON file of mode 0600 in a
//     directory of mode 0700. Only chosen when asked for by name (dcrctl --keystore file or
//     DCRCTL_KEYSTORE=file).
//   - "memory": for tests; safe for concurrent use.
//
// # Nothing is lost
//
// Servers may rotate the registration access token and the client secret on every RFC 7592
// read or update. RFC 7592 §2.1: "If the authorization server includes a new client secret
// and/or registration access token in its response, the client MUST immediately discard its
// previous client secret and/or registration access token." So the caller Puts whatever comes
// back, every time, and Put replaces a credential's secrets so that a crash at any point
// leaves either the old or the new secrets stored, never neither (see the comment on the
// indexed store's Put). When a registration
// has succeeded at the server but cannot be stored, WriteRecovery saves it to a 0600 file
// whose path the caller reports; see WriteRecovery for how the CLI combines that with an
// RFC 7592 §2.3 delete to roll the registration back.
package keystore
