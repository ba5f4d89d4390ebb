package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// post sends a form or JSON request and decodes the JSON answer.
func post(t *testing.T, u, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(http.MethodPost, u, rd)
	req.Header.Set("Content-Type", ct)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestInitialAccessTokens(t *testing.T) {
	op := StartOIDCProvider(t, OIDCProviderOptions{})
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "client_name": "interop"}

	dcr := op.ClientCredentialsToken(t, "dcr")
	status, _ := post(t, op.RegistrationEndpoint, dcr, md)
	if status != http.StatusCreated {
		t.Fatalf("register with a client-credentials token with scope dcr: %d, want 201", status)
	}
	status, body := post(t, op.RegistrationEndpoint, dcr, md)
	if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("second use of the token: %d %v, want 401 invalid_token (single-use)", status, body["error"])
	}
	status, body = post(t, op.RegistrationEndpoint, "", md)
	if status != http.StatusUnauthorized {
		t.Errorf("no token: %d %v, want 401", status, body)
	}
	for i := 0; i < 2; i++ {
		if status, _ := post(t, op.RegistrationEndpoint, op.InitialAccessToken, md); status != http.StatusCreated {
			t.Errorf("pre-minted initial access token, use %d: %d, want 201", i+1, status)
		}
	}
}

func TestReusableInitialAccessTokens(t *testing.T) {
	op := StartOIDCProvider(t, OIDCProviderOptions{ReusableInitialAccessTokens: true})
	dcr := op.ClientCredentialsToken(t, "dcr")
	for i := 0; i < 2; i++ {
		if status, _ := post(t, op.RegistrationEndpoint, dcr, map[string]any{"redirect_uris": []string{"https://a.example/cb"}}); status != http.StatusCreated {
			t.Errorf("use %d: %d, want 201", i+1, status)
		}
	}
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestNativeLogin logs in with the native client through the scripted browser on a loopback
// redirect with a port the client never registered, exchanges the code with PKCE, registers
// a client with the resulting dcr token, and logs in again silently (SSO).
func TestNativeLogin(t *testing.T) {
	op := StartOIDCProvider(t, OIDCProviderOptions{})
	codes := make(chan url.Values, 2)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			codes <- r.URL.Query()
		}
		io.WriteString(w, "done")
	}))
	defer cb.Close()
	redirect := cb.URL + "/callback" // http://127.0.0.1:<any port>/callback
	browser := op.NewBrowser(op.DemoUser)

	login := func(wantForms []string) string {
		t.Helper()
		verifier, challenge := pkce()
		q := url.Values{"client_id": {op.NativeClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
			"scope": {"openid dcr"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		before := len(browser.Submitted())
		if err := browser.OpenURL(op.AuthorizationEndpoint + "?" + q.Encode()); err != nil {
			t.Fatal(err)
		}
		last, err := browser.Wait()
		if err != nil || !strings.HasPrefix(last, redirect) {
			t.Fatalf("browser ended at %q, %v; want the callback", last, err)
		}
		got := browser.Submitted()[before:]
		if len(got) != len(wantForms) || len(got) > 0 && !strings.HasPrefix(got[0], wantForms[0]) {
			t.Errorf("forms submitted: %q, want %q", got, wantForms)
		}
		var cbq url.Values
		select {
		case cbq = <-codes:
		case <-time.After(10 * time.Second):
			t.Fatal("no callback")
		}
		if cbq.Get("state") != "st" || cbq.Get("iss") != op.Issuer || cbq.Get("code") == "" {
			t.Fatalf("callback query has state %q, iss %q, code present %v", cbq.Get("state"), cbq.Get("iss"), cbq.Get("code") != "")
		}
		status, tok := post(t, op.TokenEndpoint, "", url.Values{"grant_type": {"authorization_code"}, "code": {cbq.Get("code")},
			"redirect_uri": {redirect}, "client_id": {op.NativeClientID}, "code_verifier": {verifier}})
		if status != http.StatusOK {
			t.Fatalf("token exchange: %d %v %v", status, tok["error"], tok["error_description"])
		}
		if !reflect.DeepEqual(strings.Fields(tok["scope"].(string)), []string{"dcr"}) && !strings.Contains(tok["scope"].(string), "dcr") {
			t.Errorf("scope %q lacks dcr", tok["scope"])
		}
		return tok["access_token"].(string)
	}

	at := login([]string{"/interaction/"})
	status, body := post(t, op.RegistrationEndpoint, at, map[string]any{"redirect_uris": []string{"http://127.0.0.1/callback"}, "application_type": "native", "token_endpoint_auth_method": "none"})
	if status != http.StatusCreated {
		t.Fatalf("register with the login's dcr token: %d %v", status, body["error"])
	}
	login(nil) // SSO: no form this time
}

// TestDeviceFlow approves a device authorization through the scripted browser.
func TestDeviceFlow(t *testing.T) {
	op := StartOIDCProvider(t, OIDCProviderOptions{})
	status, da := post(t, op.DeviceAuthorizationEndpoint, "", url.Values{"client_id": {op.NativeClientID}, "scope": {"openid dcr"}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, da)
	}
	browser := op.NewBrowser("bob")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last, err := browser.Open(ctx, da["verification_uri_complete"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if want := op.Issuer + "/device/"; !strings.HasPrefix(last, want) {
		t.Errorf("ended at %q, want %q…", last, want)
	}
	status, tok := post(t, op.TokenEndpoint, "", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da["device_code"].(string)}, "client_id": {op.NativeClientID}})
	if status != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("device token: %d %v %v", status, tok["error"], tok["error_description"])
	}
}

// recordTB records what need does instead of stopping the test.
type recordTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordTB) Helper()                   {}
func (r *recordTB) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recordTB) Skipf(f string, a ...any)  { r.skip = fmt.Sprintf(f, a...) }

// TestNeedFailsUnderCI: a missing component fails the test under CI=true, skips it otherwise.
func TestNeedFailsUnderCI(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		r := &recordTB{TB: t}
		need(r, "node is %s", "missing")
		if got := r.fatal != ""; got != (ci == "true") {
			t.Errorf("CI=%q: failed = %v (%q)", ci, got, r.fatal)
		}
		if r.skip != "node is missing" {
			t.Errorf("CI=%q: skip message %q", ci, r.skip)
		}
	}
}
