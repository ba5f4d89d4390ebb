// Package interop runs third-party peers for dcrctl's interoperability tests. Today that is
// node-oidc-provider (npm package oidc-provider, pinned in testdata/oidc-provider), a
// certified OpenID Provider with RFC 7591 dynamic client registration, RFC 7592 management,
// RFC 8414 / OpenID discovery, RFC 6749 client credentials, RFC 7636 PKCE, RFC 8252 loopback
// redirects and the RFC 8628 device flow.
//
// # Starting it
//
//	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
//
// starts `node testdata/oidc-provider/server.mjs` on 127.0.0.1 with a free port, waits until
// its discovery document answers, and kills it when the test ends (t.Cleanup). When node or
// the npm packages are missing the test is skipped, or fails if the environment has CI=true.
// Install the packages with `npm ci` in testdata/oidc-provider (.ci/test does it).
//
// # What it offers
//
//   - Issuer, and the endpoints from its discovery document.
//   - A bootstrap confidential client (BootstrapClientID, BootstrapClientSecret) allowed the
//     client_credentials grant with scope "dcr", authenticating with client_secret_basic.
//   - Initial access tokens: an access token with scope "dcr" is accepted as an RFC 7591
//     initial access token, once (Curity's model; server.mjs explains the small adapter that
//     does it). Get one with [OIDCProvider.ClientCredentialsToken], or from a user login with
//     the native client and scope "dcr". A classic reusable node-oidc-provider initial access
//     token is also pre-minted: InitialAccessToken.
//   - Registration management (RFC 7592) with the registration access token rotated on every
//     update (not on read: node-oidc-provider does not rotate on GET), unless
//     OIDCProviderOptions.NoRotation.
//   - A public native client (NativeClientID): application_type native,
//     token_endpoint_auth_method none, redirect URI http://127.0.0.1/callback that matches
//     any port (RFC 8252 §7.3), PKCE S256 required, grants authorization_code, refresh_token
//     and device_code, scopes "openid offline_access profile email dcr".
//   - Vendor metadata the server stores and echoes: access_token_ttl, requires_consent and
//     x_dcrctl_note; every other unknown member is ignored, as RFC 7591 §2 allows.
//
// # Driving its login form from a test
//
// The server uses node-oidc-provider's development interactions: any login name with any
// non-empty password signs in, and consent is granted automatically. A scripted browser
// needs a cookie jar and these steps:
//
//  1. GET the authorization URL; it redirects (303) to /interaction/<uid>, an HTML page
//     with <form method="post" action="/interaction/<uid>">.
//  2. POST to that action, application/x-www-form-urlencoded: prompt=login,
//     login=<any user name>, password=<anything non-empty>.
//  3. Follow the redirects: /auth/<uid> (resume), then the client's redirect URI with
//     ?code=…&state=…&iss=….
//
// A second authorization request with the same cookie jar completes without the form (SSO)
// unless it says prompt=login. For the device flow, GET verification_uri_complete: a form
// with hidden xsrf and user_code; POST it, then a confirmation form (xsrf, user_code,
// confirm=yes); POST it, then the login form as above; the flow ends on a "Sign-in
// Success" page.
//
// [Browser] does all of this: it follows redirects, and on every HTML page of the provider
// that holds a POST form it submits the form with its hidden fields plus login and password.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// OIDCProviderOptions configures StartOIDCProvider. The zero value is the default: the
// registration access token rotates on every update, and initial access tokens obtained as
// access tokens with scope dcr are single-use.
type OIDCProviderOptions struct {
	// NoRotation keeps the registration access token unchanged on update.
	NoRotation bool
	// ReusableInitialAccessTokens lets an access token with scope dcr register any number of
	// clients while it is valid.
	ReusableInitialAccessTokens bool
}

// OIDCProvider is a running node-oidc-provider.
type OIDCProvider struct {
	Issuer string

	// Endpoints, from the discovery document.
	AuthorizationEndpoint, TokenEndpoint, RegistrationEndpoint, DeviceAuthorizationEndpoint string

	// BootstrapClientID and BootstrapClientSecret: a confidential client allowed the
	// client_credentials grant with scope "dcr" (client_secret_basic or client_secret_post).
	BootstrapClientID, BootstrapClientSecret string

	// NativeClientID: a public client (PKCE S256, loopback redirect NativeRedirectURI on any
	// port, scopes "openid offline_access profile email dcr").
	NativeClientID string
	// NativeRedirectURI is the native client's registered redirect URI:
	// http://127.0.0.1/callback, matched on any port.
	NativeRedirectURI string

	// InitialAccessToken is a reusable node-oidc-provider initial access token.
	InitialAccessToken string

	// DemoUser is a user name for the login form; any name works.
	DemoUser string
}

// TB is the part of testing.TB this package uses, so that it does not import package
// testing on a public import path (*testing.T, *testing.B and *testing.F satisfy it).
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Logf(format string, args ...any)
}

// need fails the test under CI=true, where every real component must be present, and
// skips it otherwise.
func need(t TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// Dir returns the folder of the npm project that holds server.mjs.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	if filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "testdata", "oidc-provider")
	}
	// Built with -trimpath: find the module root above the working directory.
	dir, _ := os.Getwd()
	for i := 0; i < 32 && dir != filepath.Dir(dir); i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "client", "interop", "testdata", "oidc-provider")
		}
		dir = filepath.Dir(dir)
	}
	return filepath.Join("testdata", "oidc-provider")
}

// readyLine is what server.mjs prints when it listens.
type readyLine struct {
	Issuer                string `json:"issuer"`
	BootstrapClientID     string `json:"bootstrap_client_id"`
	BootstrapClientSecret string `json:"bootstrap_client_secret"`
	NativeClientID        string `json:"native_client_id"`
	InitialAccessToken    string `json:"initial_access_token"`
}

// StartOIDCProvider starts node-oidc-provider for the test t and stops it when t ends.
func StartOIDCProvider(t TB, opts OIDCProviderOptions) *OIDCProvider {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node is not installed: install Node.js 20.19 or later (Debian: apt-get install nodejs npm)")
	}
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		need(t, "the npm package oidc-provider is not installed: run `npm ci` in %s", dir)
	}
	env, _ := json.Marshal(map[string]bool{
		"rotateRegistrationAccessToken": !opts.NoRotation,
		"reusableInitialAccessTokens":   opts.ReusableInitialAccessTokens,
	})
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DCRCTL_OP_OPTIONS="+string(env), "NODE_ENV=test")
	stdin, err := cmd.StdinPipe() // server.mjs exits when it closes
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &limitedBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("interop: starting node-oidc-provider: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stdin.Close()
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			// server.mjs never logs tokens or secrets.
			t.Logf("node-oidc-provider stderr:\n%s", stderr.String())
		}
	})

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(io.LimitReader(stdout, 64<<10)).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
	}()
	var ready readyLine
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Issuer == "" {
			stop()
			t.Fatalf("interop: node-oidc-provider did not start (first line %q):\n%s", line, stderr.String())
		}
	case <-time.After(60 * time.Second):
		stop()
		t.Fatalf("interop: node-oidc-provider printed nothing in 60 s:\n%s", stderr.String())
	}

	p := &OIDCProvider{
		Issuer:                ready.Issuer,
		BootstrapClientID:     ready.BootstrapClientID,
		BootstrapClientSecret: ready.BootstrapClientSecret,
		NativeClientID:        ready.NativeClientID,
		NativeRedirectURI:     "http://127.0.0.1/callback",
		InitialAccessToken:    ready.InitialAccessToken,
		DemoUser:              "alice",
	}
	if err := p.waitDiscovery(); err != nil {
		t.Fatalf("interop: node-oidc-provider at %s: %v\n%s", p.Issuer, err, stderr.String())
	}
	return p
}

// waitDiscovery reads the discovery document, retrying for at most 10 s.
func (p *OIDCProvider) waitDiscovery() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var last error
	for attempt := 0; attempt < 100; attempt++ {
		var md struct {
			Issuer                      string `json:"issuer"`
			AuthorizationEndpoint       string `json:"authorization_endpoint"`
			TokenEndpoint               string `json:"token_endpoint"`
			RegistrationEndpoint        string `json:"registration_endpoint"`
			DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
		}
		last = getJSON(ctx, p.Issuer+"/.well-known/openid-configuration", &md)
		if last == nil {
			if md.Issuer != p.Issuer || md.RegistrationEndpoint == "" {
				return fmt.Errorf("unexpected discovery document: issuer %q, registration_endpoint %q", md.Issuer, md.RegistrationEndpoint)
			}
			p.AuthorizationEndpoint, p.TokenEndpoint = md.AuthorizationEndpoint, md.TokenEndpoint
			p.RegistrationEndpoint, p.DeviceAuthorizationEndpoint = md.RegistrationEndpoint, md.DeviceAuthorizationEndpoint
			return nil
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// ClientCredentialsToken returns an access token from the client-credentials grant of the
// bootstrap client. With scope "dcr" it is an initial access token (single-use by default).
// It fails the test on error.
func (p *OIDCProvider) ClientCredentialsToken(t TB, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, err := http.NewRequest(http.MethodPost, p.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(p.BootstrapClientID), url.QueryEscape(p.BootstrapClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("interop: token request: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("interop: token request: %s %s %s (%v)", resp.Status, tok.Error, tok.Description, err)
	}
	return tok.AccessToken
}

// limitedBuffer keeps the first max bytes written to it; safe for concurrent use.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
