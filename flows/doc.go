// Package flows obtains OAuth 2.0 access tokens for dcrctl — typically the initial access
// token with scope "dcr" that protects a registration endpoint (RFC 7591 §3) — in three ways:
//
//   - [ClientCredentials]: the client credentials grant (RFC 6749 §4.4), with the client
//     authentication method chosen explicitly from the client's token_endpoint_auth_method
//     (RFC 7591 §2; RFC 6749 §2.3.1).
//   - [BrowserLogin]: the authorization code grant (RFC 6749 §4.1) with PKCE S256 (RFC 7636)
//     for native apps on a loopback redirect URI (RFC 8252 §7.3, §8.3), the system browser
//     opened as RFC 8252 §6 asks. The browser keeps the server's single sign-on session, so a
//     second login — for example as a client just registered — completes without a prompt
//     unless [BrowserLogin.ForceLogin] asks for prompt=login (OpenID Connect Core §3.1.2.1).
//   - [DeviceFlow]: the device authorization grant (RFC 8628) for machines without a browser.
//
// Endpoints come from the caller or from discovery of the issuer (RFC 8414, OpenID Connect
// Discovery) through package client's Resolve. A browser login may use any loopback redirect
// URI registered for the client ([BrowserLogin.RedirectURI], [PickLoopbackRedirect]; RFC 8252
// §7.3). Every ID token received is verified as OpenID Connect Core 1.0 §3.1.3.7 asks
// (signature against the issuer's jwks_uri, iss, aud, exp, nonce; [ErrIDToken]). Requests go
// through package client's HTTP policy: a token endpoint's redirect is never followed with
// the request's body. Errors from the server are [*Error] values — package client's one
// protocol error (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.5) — that name the likely fix; local failures are sentinel errors
// ([ErrStateMismatch], [ErrNoBrowser]) or [*TimeoutError]. Tokens are returned as [*Token] and
// never written to disk by this package; their String and GoString methods redact secrets.
package flows
