package testserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// interopDir holds the pinned openid-client (package.json, package-lock.json) and the script
// that drives it. `.ci/test` runs `npm ci` there.
const interopDir = "testdata/openid-client"

// requireComponent skips a test whose real component is missing, or fails it when CI=true:
// in CI a missing peer must not turn a test into a silent pass.
func requireComponent(t *testing.T, err error, what, fix string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (%v) and CI=true: %s", what, err, fix)
	}
	t.Skipf("%s is missing (%v): %s; with CI=true this fails", what, err, fix)
}

// requireOpenIDClient checks that node, npm and the pinned openid-client are installed, and
// returns the pinned version from package.json.
func requireOpenIDClient(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("node")
	requireComponent(t, err, "node", "install Node.js ≥ 20.19")
	_, err = exec.LookPath("npm")
	requireComponent(t, err, "npm", "install npm (it comes with Node.js)")
	b, err := os.ReadFile(filepath.Join(interopDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("%s/package.json: %v", interopDir, err)
	}
	_, err = os.Stat(filepath.Join(interopDir, "node_modules", "openid-client", "package.json"))
	requireComponent(t, err, interopDir+"/node_modules", "run `npm ci` in testserver/"+interopDir)
	return pkg.Dependencies["openid-client"]
}

// The result line of interop.mjs. Secrets appear only as booleans ("present and long
// enough"), so a failing comparison can print the whole result.
type (
	ocResult struct {
		Fatal         *ocError       `json:"fatal,omitempty"`
		OpenIDClient  string         `json:"openid_client"`
		Steps         []string       `json:"steps"`
		Discovery     ocDiscovery    `json:"discovery"`
		InitialToken  ocToken        `json:"initial_token"`
		Registration  ocRegistration `json:"registration"`
		ClientID      string         `json:"client_id"`
		ReusedInitial ocError        `json:"reused_initial_token"`
		ClientCreds   ocToken        `json:"client_credentials"`
		Logins        []ocLogin      `json:"logins"`
		Refresh       ocRefresh      `json:"refresh"`
	}
	ocDiscovery struct {
		Issuer                        string   `json:"issuer"`
		RegistrationEndpoint          string   `json:"registration_endpoint"`
		TokenEndpoint                 string   `json:"token_endpoint"`
		AuthorizationEndpoint         string   `json:"authorization_endpoint"`
		JWKSURI                       string   `json:"jwks_uri"`
		CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
		ISSParameterSupported         bool     `json:"iss_parameter_supported"`
	}
	ocToken struct {
		AccessToken       bool   `json:"access_token"`
		TokenType         string `json:"token_type"`
		Scope             string `json:"scope"`
		ExpiresInPositive bool   `json:"expires_in_positive"`
		RefreshToken      bool   `json:"refresh_token"`
		IDToken           bool   `json:"id_token"`
	}
	ocRegistration struct {
		ClientIDLength          int      `json:"client_id_length"`
		ClientSecret            bool     `json:"client_secret"`
		RegistrationAccessToken bool     `json:"registration_access_token"`
		RegistrationClientURI   bool     `json:"registration_client_uri"`
		ClientIDIssuedAt        bool     `json:"client_id_issued_at"`
		ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"`
		ClientName              string   `json:"client_name"`
		RedirectURIs            []string `json:"redirect_uris"`
		GrantTypes              []string `json:"grant_types"`
		ResponseTypes           []string `json:"response_types"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		Scope                   string   `json:"scope"`
	}
	ocError struct {
		Message        string `json:"message,omitempty"`
		Name           string `json:"name"`
		Code           string `json:"code"`
		Status         int    `json:"status"`
		Challenge      string `json:"challenge"`
		Error          string `json:"error"`
		HasDescription bool   `json:"has_description"`
	}
	ocLogin struct {
		LoginPage         bool       `json:"login_page"`
		FirstStatus       int        `json:"first_status"`
		Status            int        `json:"status"`
		FormMethod        string     `json:"form_method"`
		FormAction        string     `json:"form_action"`
		HiddenFields      []string   `json:"hidden_fields"`
		CSRFMatchesCookie *bool      `json:"csrf_matches_cookie"`
		Callback          ocCallback `json:"callback"`
		Tokens            ocToken    `json:"tokens"`
		IDToken           ocIDToken  `json:"id_token"`
		SessionCookie     *ocCookie  `json:"session_cookie,omitempty"`
	}
	ocCallback struct {
		ToRedirectURI bool     `json:"to_redirect_uri"`
		Params        []string `json:"params"`
		ISS           string   `json:"iss"`
	}
	ocIDToken struct {
		ISS          string `json:"iss"`
		Sub          string `json:"sub"`
		Aud          string `json:"aud"`
		NonceMatches bool   `json:"nonce_matches"`
		AuthTime     bool   `json:"auth_time"`
		ATHash       bool   `json:"at_hash"`
	}
	ocCookie struct {
		HTTPOnly bool   `json:"httponly"`
		Secure   bool   `json:"secure"`
		SameSite string `json:"samesite"`
		Path     string `json:"path"`
	}
	ocRefresh struct {
		ocToken
		Rotated         bool    `json:"rotated"`
		OldRefreshToken ocError `json:"old_refresh_token"`
	}
)

// TestInteropOpenIDClient runs a third-party client, openid-client from npm (pinned in
// testdata/openid-client), against the real server over HTTPS on loopback: discovery,
// client credentials as the bootstrap client (scope dcr) for an initial access token,
// dynamic registration with it (and a rejected reuse of the single-use token), client
// credentials as the new client, an authorization code + PKCE login as the new client through
// the login page with a cookie jar (ID token validated by openid-client), a second login that
// is silent thanks to the SSO session, and a rotating refresh.
//
// HTTPS rather than openid-client's allowInsecureRequests: the server runs with a certificate
// from SelfSignedCert (what `dcrctl serve --tls-self-signed` uses), and node trusts it through
// NODE_EXTRA_CA_CERTS, so openid-client runs with its production defaults and the Secure
// session cookie is exercised.
func TestInteropOpenIDClient(t *testing.T) {
	pinned := requireOpenIDClient(t)

	cert, certPEM, err := testserver.SelfSignedCert(nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := servertest.StartTLS(t, func(c *testserver.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.DBPath = filepath.Join(t.TempDir(), "serve.db")
	})
	eff := ts.Config
	iss := ts.Issuer()
	const redirectURI = "http://127.0.0.1:53682/callback"

	in, _ := json.Marshal(map[string]string{
		"issuer":                  iss,
		"bootstrap_client_id":     eff.Clients[0].ClientID,
		"bootstrap_client_secret": eff.Clients[0].ClientSecret,
		"username":                testserver.DefaultUser,
		"password":                testserver.DefaultUserPassword,
		"redirect_uri":            redirectURI,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "interop.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile, "NODE_NO_WARNINGS=1")
	cmd.Stdin = bytes.NewReader(in)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var got ocResult
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("interop.mjs printed no result line (%v; run: %v)\nstdout: %.2000s\nstderr: %.2000s", err, runErr, stdout.String(), stderr.String())
	}
	if dec.More() {
		t.Errorf("interop.mjs printed more than one JSON value:\n%.2000s", stdout.String())
	}
	if got.Fatal != nil || runErr != nil {
		t.Fatalf("interop.mjs failed after steps %q: %+v (run: %v)\nstderr: %.2000s", got.Steps, got.Fatal, runErr, stderr.String())
	}
	if got.ClientID == "" {
		t.Fatal("the registration returned no client_id")
	}

	token := func(scope string, refresh, idToken bool) ocToken {
		// openid-client lowercases token_type (RFC 6749 §5.1: it is case insensitive).
		return ocToken{AccessToken: true, TokenType: "bearer", Scope: scope, ExpiresInPositive: true, RefreshToken: refresh, IDToken: idToken}
	}
	idt := ocIDToken{ISS: iss, Sub: testserver.DefaultUser, Aud: got.ClientID, NonceMatches: true, AuthTime: true, ATHash: true}
	callback := ocCallback{ToRedirectURI: true, Params: []string{"code", "iss", "state"}, ISS: iss}
	yes := true
	const loginScope = "openid profile offline_access"
	want := ocResult{
		OpenIDClient: pinned,
		Steps:        []string{"discovery", "initial token", "registration", "reused initial token", "client credentials", "login 1", "login 2", "refresh"},
		Discovery: ocDiscovery{
			Issuer: iss, RegistrationEndpoint: iss + "/register", TokenEndpoint: iss + "/token",
			AuthorizationEndpoint: iss + "/authorize", JWKSURI: iss + "/jwks",
			CodeChallengeMethodsSupported: []string{"S256"}, ISSParameterSupported: true,
		},
		InitialToken: token("dcr", false, false),
		Registration: ocRegistration{
			ClientIDLength: len(got.ClientID), ClientSecret: true, RegistrationAccessToken: true,
			RegistrationClientURI: true, ClientIDIssuedAt: true, ClientSecretExpiresAt: 0,
			ClientName: "openid-client interop", RedirectURIs: []string{redirectURI},
			GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
			ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "client_secret_basic",
			Scope: "openid profile email offline_access",
		},
		ClientID: got.ClientID,
		// RFC 6750 §3.1: a used-up token is invalid_token, 401, with a WWW-Authenticate
		// challenge (openid-client reports it as a challenge error).
		ReusedInitial: ocError{Name: "WWWAuthenticateChallengeError", Code: "OAUTH_WWW_AUTHENTICATE_CHALLENGE", Status: 401, Challenge: "bearer", Error: "invalid_token", HasDescription: true},
		ClientCreds:   token("profile", false, false),
		Logins: []ocLogin{
			{
				LoginPage: true, FirstStatus: 200, Status: http.StatusSeeOther, FormMethod: "post", FormAction: iss + "/authorize",
				HiddenFields:      []string{"client_id", "code_challenge", "code_challenge_method", "csrf_token", "nonce", "redirect_uri", "response_type", "scope", "state"},
				CSRFMatchesCookie: &yes, Callback: callback, Tokens: token(loginScope, true, true), IDToken: idt,
				SessionCookie: &ocCookie{HTTPOnly: true, Secure: true, SameSite: "lax", Path: "/"},
			},
			{
				// SSO: the second login never shows the login page.
				LoginPage: false, FirstStatus: http.StatusFound, Status: http.StatusFound, HiddenFields: []string{},
				Callback: callback, Tokens: token(loginScope, true, true), IDToken: idt,
			},
		},
		Refresh: ocRefresh{
			ocToken: token(loginScope, true, true), Rotated: true,
			// RFC 6749 §5.2: a used (rotated) refresh token is invalid_grant, 400.
			OldRefreshToken: ocError{Name: "ResponseBodyError", Code: "OAUTH_RESPONSE_BODY_ERROR", Status: 400, Error: "invalid_grant", HasDescription: true},
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("openid-client result\n got: %s\nwant: %s", g, w)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("interop.mjs hit the 90 s deadline")
	}
}
