package client

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

func TestRedactURL(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"no query", "https://idp.example/register/abc", "https://idp.example/register/abc"},
		{"code and state", "http://127.0.0.1:5000/callback?code=SECRETCODE&state=xyz&iss=https%3A%2F%2Fidp",
			"http://127.0.0.1:5000/callback?code=[REDACTED]&iss=https%3A%2F%2Fidp&state=xyz"},
		{"token in query", "https://idp.example/x?access_token=T0KEN", "https://idp.example/x?access_token=[REDACTED]"},
		{"vendor secret in query", "https://idp.example/x?x_admin_password=PW&a=b", "https://idp.example/x?a=b&x_admin_password=[REDACTED]"},
		{"user info and fragment", "https://user:pass@idp.example/x#access_token=T0KEN", "https://REDACTED@idp.example/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := RedactURL(u); got != tc.want {
				t.Errorf("RedactURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedactHeader(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"Authorization", "Bearer abc.def", "Bearer [REDACTED]"},
		{"authorization", "Basic Zm9vOmJhcg==", "Basic [REDACTED]"},
		{"Proxy-Authorization", "opaque", "[REDACTED]"},
		{"Cookie", "sid=1", "[REDACTED]"},
		{"Set-Cookie", "sid=1; HttpOnly", "[REDACTED]"},
		{"DPoP", "eyJ...", "[REDACTED]"},
		{"X-Api-Key", "k-123", "[REDACTED]"},
		{"X-Auth-Token", "t-123", "[REDACTED]"},
		{"X-Admin-Password", "pw", "[REDACTED]"},
		{"Location", "http://127.0.0.1:1/callback?code=C&state=s", "http://127.0.0.1:1/callback?code=[REDACTED]&state=s"},
		{"WWW-Authenticate", `Bearer error="invalid_token"`, `Bearer error="invalid_token"`},
		{"Content-Type", "application/json", "application/json"},
		{"ETag", `"v1"`, `"v1"`},
	}
	for _, tc := range cases {
		if got := RedactHeader(tc.name, tc.value); got != tc.want {
			t.Errorf("RedactHeader(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestTraceBodyRedacts(t *testing.T) {
	cases := []struct {
		name, contentType, body, want string
	}{
		{"registration response", "application/json; charset=utf-8",
			`{"client_id":"c1","client_secret":"S3CRET","registration_access_token":"RAT","jwks":{"keys":[{"kty":"RSA","n":"AQAB","d":"PRIV"}]}}`,
			`> {"client_id":"c1","client_secret":"[REDACTED]","registration_access_token":"[REDACTED]","jwks":{"keys":[{"kty":"RSA","n":"AQAB","d":"[REDACTED]"}]}}` + "\n"},
		{"vendor secret members", "application/json",
			`{"client_name":"n","x_admin_password":"PW","nested":{"webhook_secret":"WS","x_api_key":"AK"},"client_secret_expires_at":0}`,
			`> {"client_name":"n","x_admin_password":"[REDACTED]","nested":{"webhook_secret":"[REDACTED]","x_api_key":"[REDACTED]"},"client_secret_expires_at":0}` + "\n"},
		{"a JWK outside jwks", "application/jwk+json", `{"kty":"oct","k":"SYMMETRIC","kid":"1"}`,
			`> {"kty":"oct","k":"[REDACTED]","kid":"1"}` + "\n"},
		{"token request form", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code=C0DE&code_verifier=VER&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback",
			"> code=[REDACTED]&code_verifier=[REDACTED]&grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback\n"},
		{"login form", "application/x-www-form-urlencoded", "username=demo&password=PW&csrf_token=CSRF&x_admin_password=A",
			"> csrf_token=[REDACTED]&password=[REDACTED]&username=demo&x_admin_password=[REDACTED]\n"},
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

// TestTraceTransport traces a registration against the real test server: the exchange is
// shown, the secrets are not.
func TestTraceTransport(t *testing.T) {
	ts := servertest.Start(t, func(c *testserver.Config) { c.Registration = testserver.ModeOpen })
	endpoint := ts.URL("/register")
	var out strings.Builder
	c := &Client{HTTPClient: NewHTTPClient(HTTPOptions{WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
		return &TraceTransport{Base: rt, Out: &out}
	}})}
	md := Metadata{ClientName: "traced", GrantTypes: []string{"client_credentials"}, RedirectURIs: []string{},
		Extra: map[string]json.RawMessage{"x_admin_password": json.RawMessage(`"Adm1n-Pw"`)}}
	reg, err := c.Register(t.Context(), endpoint, "", md)
	if err != nil {
		t.Fatal(err)
	}
	trace := out.String()
	for _, secret := range []string{reg.ClientSecret, reg.RegistrationAccessToken, "Adm1n-Pw"} {
		if secret == "" || strings.Contains(trace, secret) {
			t.Errorf("a secret is empty or shows in the trace (len %d)", len(secret))
		}
	}
	for _, want := range []string{"> POST " + endpoint + "\n",
		`"x_admin_password":"[REDACTED]"`, "< 201 Created (", `"client_secret":"[REDACTED]"`} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

// FuzzTraceRedaction: whatever a secret looks like, the trace of a JSON or form body that
// carries it in a secret member never shows it.
func FuzzTraceRedaction(f *testing.F) {
	f.Add("S3CRET-value_1", "client_secret")
	f.Add(`"quoted" \ and \u00e9`, "registration_access_token")
	f.Add("a&b=c", "code")
	f.Add("hunter2-hunter2", "x_admin_password")
	f.Fuzz(func(t *testing.T, secret, member string) {
		if !IsSecretMember(member) || len(secret) < 6 {
			t.Skip()
		}
		// The same bodies with a one-character value in place of the secret: the secret's text
		// may also occur in the member name or other fixed text, which the trace keeps, so
		// the trace must hold it no more often than the trace of the stand-in body.
		bodies := func(v string) [2]string {
			j, _ := json.Marshal(map[string]any{member: v, "client_name": "n", "nested": map[string]string{member: v}})
			return [2]string{string(j), url.Values{member: {v}, "grant_type": {"x"}}.Encode()}
		}
		withSecret, standIn := bodies(secret), bodies("~")
		encJSON, _ := json.Marshal(secret)
		forms := []string{strings.Trim(string(encJSON), `"`), url.QueryEscape(secret)}
		for i, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
			var b, skeleton strings.Builder
			writeBody(&b, "> ", ct, []byte(withSecret[i]))
			writeBody(&skeleton, "> ", ct, []byte(standIn[i]))
			for _, enc := range forms {
				if enc != "" && strings.Count(b.String(), enc) > strings.Count(skeleton.String(), enc) {
					t.Fatalf("the %s secret shows in the trace of a %s body", member, ct)
				}
			}
		}
	})
}
