package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestRegistrationJSON decodes an OpenID Connect Registration 1.0 §3.2 style response
// (vendor and language-tagged members included), checks every field, and pins the encoding.
func TestRegistrationJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/registration/response.json")
	if err != nil {
		t.Fatal(err)
	}
	var got Registration
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := Registration{
		Metadata: Metadata{
			TokenEndpointAuthMethod:      "client_secret_basic",
			ApplicationType:              "web",
			RedirectURIs:                 []string{"https://client.example.org/callback", "https://client.example.org/callback2"},
			ClientName:                   "My Example",
			LogoURI:                      "https://client.example.org/logo.png",
			SubjectType:                  "pairwise",
			SectorIdentifierURI:          "https://other.example.net/file_of_redirect_uris.json",
			JWKSURI:                      "https://client.example.org/my_public_keys.jwks",
			UserinfoEncryptedResponseAlg: "RSA1_5",
			UserinfoEncryptedResponseEnc: "A128CBC-HS256",
			Contacts:                     []string{"ve7jtb@example.org", "mary@example.org"},
			RequestURIs:                  []string{"https://client.example.org/rf.txt#qpXaRLh_n93TTR9F252ValdatUQvQiJi5BDub2BeznA"},
			RequiresConsent:              ptr(true),
			Localized:                    map[string]string{"client_name#ja-Jpan-JP": "クライアント名"},
			Extra:                        map[string]json.RawMessage{"x_vendor": json.RawMessage(`{"k": [1, "two", null]}`)},
		},
		ClientID:                "s6BhdRkqt3",
		ClientSecret:            "cf136dc3c1fc93f31185e5885805d",
		ClientIDIssuedAt:        2893256800,
		ClientSecretExpiresAt:   2893276800,
		RegistrationAccessToken: "this.is.an.access.token.value.ffx83",
		RegistrationClientURI:   "https://server.example.com/connect/register?client_id=s6BhdRkqt3",
	}
	check(t, "decoded", got, want)
	out, err := got.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, data, out) {
		t.Errorf("round trip changed the response:\n in %s\nout %s", data, out)
	}
	golden(t, "golden/registration/response.json", indent(t, out))

	// Without secrets: the form to keep next to the keyring entry.
	out, _ = got.WithoutSecrets().MarshalJSON()
	golden(t, "golden/registration/without-secrets.json", indent(t, out))

	var bad Registration
	err = json.Unmarshal([]byte(`{"client_id":"c","client_secret_expires_at":"soon"}`), &bad)
	check(t, "bad expiry", errString(err), `member "client_secret_expires_at" has the wrong type`)
}

// TestDefaultHTTPClientRedirects: the default client follows redirects only to URLs the
// Client itself accepts, and at most 5.
func TestDefaultHTTPClientRedirects(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			http.Redirect(w, r, "/moved", http.StatusFound)
		case "/moved":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + srv.URL + `"}`))
		case "/to-remote-http/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/to-remote-http":
			http.Redirect(w, r, "http://as.example.com/x", http.StatusFound)
		default:
			http.Redirect(w, r, r.URL.Path, http.StatusFound) // loops forever
		}
	}))
	defer srv.Close()
	var c Client
	md, err := c.Discover(context.Background(), srv.URL)
	if err != nil || md.Issuer != srv.URL {
		t.Errorf("redirect on loopback: %v, %v", md, err)
	}
	_, err = c.Discover(context.Background(), srv.URL+"/to-remote-http")
	if err == nil || !strings.Contains(err.Error(), "refusing plain http to as.example.com") {
		t.Errorf("redirect to remote http: %v", err)
	}
	_, err = c.Discover(context.Background(), srv.URL+"/loop")
	if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Errorf("redirect loop: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url      string
		insecure bool
		want     string
	}{
		{"https://as.example.com/reg", false, "<nil>"},
		{"http://127.0.0.1:8080/reg", false, "<nil>"},
		{"http://127.5.6.7/reg", false, "<nil>"},
		{"http://[::1]:9/reg", false, "<nil>"},
		{"http://localhost:9/reg", false, "<nil>"},
		{"http://app.localhost/reg", false, "<nil>"},
		{"http://10.0.0.1/reg", false, "refusing plain http to 10.0.0.1: tokens and secrets would travel unencrypted; use https (http is allowed only for loopback hosts, or with InsecureAllowHTTP)"},
		{"http://localhost.example.com/reg", false, "refusing plain http to localhost.example.com: tokens and secrets would travel unencrypted; use https (http is allowed only for loopback hosts, or with InsecureAllowHTTP)"},
		{"http://10.0.0.1/reg", true, "<nil>"},
		{"https://user:pw@as.example.com", false, "<nil>"},
		{"ftp://user:pw@as.example.com/x", true, `URL "ftp://REDACTED@as.example.com/x" is not an absolute https URL`},
		{"/relative", false, `URL "/relative" is not an absolute https URL`},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			c := Client{InsecureAllowHTTP: tc.insecure}
			check(t, "checkURL", errString(c.checkURL(u)), tc.want)
		})
	}
}

func TestClean(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	tests := []struct {
		name, in string
		max      int
		secrets  []string
		want     string
	}{
		{"control characters dropped", "line1\nline2\x1b[31m\x7f", 100, nil, "line1line2[31m"},
		{"secrets redacted", "token abc123 and abc123", 100, []string{"abc123", ""}, "token [REDACTED] and [REDACTED]"},
		{"cut on a rune boundary", long, 511, nil, strings.Repeat("é", 255) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "clean", clean(tc.in, tc.max, tc.secrets), tc.want)
		})
	}
}
