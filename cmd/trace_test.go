package cmd

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/keystore"
)

func TestRedactURL(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"no query", "https://idp.example/register/abc", "https://idp.example/register/abc"},
		{"code and state", "http://127.0.0.1:5000/callback?code=SECRETCODE&state=xyz&iss=https%3A%2F%2Fidp",
			"http://127.0.0.1:5000/callback?code=[REDACTED]&iss=https%3A%2F%2Fidp&state=xyz"},
		{"token in query", "https://idp.example/x?access_token=T0KEN", "https://idp.example/x?access_token=[REDACTED]"},
		{"user info and fragment", "https://user:pass@idp.example/x#access_token=T0KEN", "https://REDACTED@idp.example/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := redactURL(u); got != tc.want {
				t.Errorf("redactURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteBodyRedacts(t *testing.T) {
	cases := []struct {
		name, contentType, body, want string
	}{
		{"registration response", "application/json; charset=utf-8",
			`{"client_id":"c1","client_secret":"S3CRET","registration_access_token":"RAT","jwks":{"keys":[{"kty":"RSA","n":"AQAB","d":"PRIV"}]}}`,
			`> {"client_id":"c1","client_secret":"[REDACTED]","jwks":{"keys":[{"d":"[REDACTED]","kty":"RSA","n":"AQAB"}]},"registration_access_token":"[REDACTED]"}` + "\n"},
		{"token request form", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code=C0DE&code_verifier=VER&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback",
			"> code=[REDACTED]&code_verifier=[REDACTED]&grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback\n"},
		{"login form", "application/x-www-form-urlencoded", "username=demo&password=PW&csrf_token=CSRF",
			"> csrf_token=[REDACTED]&password=[REDACTED]&username=demo\n"},
		{"html is not shown", "text/html", "<p>S3CRET</p>", "> (13 bytes of text/html, not shown)\n"},
		{"malformed json", "application/json", `{"client_secret":"S3CRET"`, "> (25 bytes of malformed JSON, not shown)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeBody(&b, "> ", tc.contentType, []byte(tc.body))
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

// TestVerboseTraceHasNoSecrets runs register, get and login with -v against the real
// testserver and checks that the trace shows the exchanges but none of the secrets.
func TestVerboseTraceHasNoSecrets(t *testing.T) {
	s := startCLIServer(t, nil)
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_CONFIG_DIR": dir, "DCRCTL_KEYSTORE": "file", "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	var trace strings.Builder
	for _, args := range [][]string{
		{"-v", "register", "--issuer", s.cfg.Issuer, "--client-credentials", "--client-id", "bootstrap", "--template", "service", "--name", "svc"},
		{"-v", "get", "svc"},
		{"-v", "login", "svc"},
	} {
		got := runCLI(t, context.Background(), "", env, args...)
		if got.Code != 0 {
			t.Fatalf("dcrctl %v: exit %d", args, got.Code)
		}
		trace.WriteString(got.Stderr)
	}
	st, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := st.Get(context.Background(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"bootstrap secret": s.cfg.Clients[0].ClientSecret,
		"client secret": cred.ClientSecret, "registration access token": cred.RegistrationAccessToken} {
		if secret == "" || strings.Contains(trace.String(), secret) {
			t.Errorf("the %s is empty or in the trace", name)
		}
	}
	for _, want := range []string{
		"> POST " + s.cfg.Issuer + "/token\n", "> Authorization: Basic [REDACTED]\n",
		"> POST " + s.cfg.Issuer + "/register\n", "> Authorization: Bearer [REDACTED]\n",
		"< 201 Created (", `"client_secret":"[REDACTED]"`, `"registration_access_token":"[REDACTED]"`,
		"> GET " + s.cfg.Issuer + "/register/" + cred.ClientID + "\n", `"access_token":"[REDACTED]"`,
	} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

// FuzzTraceRedaction: whatever a secret looks like, the trace of a JSON or form body that
// carries it never shows it.
func FuzzTraceRedaction(f *testing.F) {
	f.Add("S3CRET-value_1", "client_secret")
	f.Add(`"quoted" \ and \u00e9`, "registration_access_token")
	f.Add("a&b=c", "code")
	f.Fuzz(func(t *testing.T, secret, member string) {
		if !sensitiveNames[member] || len(secret) < 6 {
			t.Skip()
		}
		jsonBody, _ := json.Marshal(map[string]any{member: secret, "client_name": "n", "nested": map[string]string{member: secret}})
		formBody := url.Values{member: {secret}, "grant_type": {"x"}}.Encode()
		encJSON, _ := json.Marshal(secret)
		forms := []string{strings.Trim(string(encJSON), `"`), url.QueryEscape(secret)}
		for _, c := range []struct{ ct, body string }{{"application/json", string(jsonBody)}, {"application/x-www-form-urlencoded", formBody}} {
			var b, skeleton strings.Builder
			writeBody(&b, "> ", c.ct, []byte(c.body))
			writeBody(&skeleton, "> ", c.ct, []byte(strings.ReplaceAll(c.body, forms[0], "")))
			for _, enc := range forms {
				if enc != "" && strings.Contains(b.String(), enc) && !strings.Contains(skeleton.String(), enc) {
					t.Fatalf("the %s secret shows in the trace of a %s body", member, c.ct)
				}
			}
		}
	})
}
