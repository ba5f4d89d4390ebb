package cmd

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cimdURL = "https://app.example/client.json"

// TestCIMDCheckRules runs dcrctl cimd check on a document per rule of the draft: the whole
// stdout (one line per problem) and the exit code are compared.
func TestCIMDCheckRules(t *testing.T) {
	dir := t.TempDir()
	valid := map[string]any{"client_id": cimdURL, "client_name": "App", "redirect_uris": []any{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range valid {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		doc  any
		url  string
		code int
		want string
	}{
		{"valid", valid, cimdURL, ExitOK, ""},
		{"valid without --url", valid, "", ExitOK, ""},
		{"not an object", "text", cimdURL, ExitInvalid, "the document is not a JSON object (RFC 8259): json: cannot unmarshal string into Go value of type map[string]json.RawMessage (draft §4)\n"},
		{"client_id missing", with("client_id", nil), cimdURL, ExitInvalid, "client_id: is missing: the document's client_id is the URL it is served at (draft §4)\n"},
		{"client_id another URL", valid, "https://app.example/other.json", ExitInvalid, `client_id: is "https://app.example/client.json", not the document's URL "https://app.example/other.json": the two must be equal character for character (draft §4)` + "\n"},
		{"client_id http", with("client_id", "http://app.example/c"), "", ExitInvalid, `client_id: "http://app.example/c" does not use the https scheme: a Client Identifier URL is https://HOST/PATH (draft §3)` + "\n"},
		{"client_id without a path", with("client_id", "https://app.example"), "", ExitInvalid, `client_id: "https://app.example" has no path: serve the document at a path, e.g. https://app.example/client.json (draft §3)` + "\n"},
		{"client_id with a fragment", with("client_id", "https://app.example/c#x"), "", ExitInvalid, `client_id: "https://app.example/c#x" has a fragment (#…): remove it (draft §3)` + "\n"},
		{"client_id with user info", with("client_id", "https://me@app.example/c"), "", ExitInvalid, `client_id: "https://me@app.example/c" contains user info (user@ or user:password@): remove it (draft §3)` + "\n"},
		{"client_id with dot segments", with("client_id", "https://app.example/a/../c"), "", ExitInvalid, `client_id: "https://app.example/a/../c" has a . or .. path segment: use the path without it (draft §3)` + "\n"},
		{"client_id with a query", with("client_id", "https://app.example/c?v=2"), "", ExitOK, `warning: client_id: "https://app.example/c?v=2" has a query (?…), which a Client Identifier URL SHOULD NOT have (draft §3)` + "\n"},
		{"secret auth method", with("token_endpoint_auth_method", "client_secret_post"), cimdURL, ExitInvalid, "token_endpoint_auth_method: is client_secret_post, a method based on a shared secret, which a document cannot establish: use none (a public client) or private_key_jwt with jwks_uri (draft §4.1)\n"},
		{"auth method absent", with("token_endpoint_auth_method", nil), cimdURL, ExitOK, `warning: token_endpoint_auth_method: is absent, and RFC 7591 §2 makes that client_secret_basic, which a document cannot use: say "none" for a public client (draft §4.1)` + "\n"},
		{"client_secret", with("client_secret", "s"), cimdURL, ExitInvalid, "client_secret: MUST NOT be used in a Client ID Metadata Document: remove it (a public client has no secret) (draft §4.1)\n"},
		{"private key", with("jwks", map[string]any{"keys": []any{map[string]any{"kty": "RSA", "n": "x", "e": "AQAB", "d": "y"}}}), cimdURL, ExitInvalid, `jwks.keys[0]: holds private or symmetric key material (member "d"): publish only public keys (draft §4.1)` + "\n"},
		{"redirect_uris missing", with("redirect_uris", nil), cimdURL, ExitInvalid, `redirect_uris: is missing: list the redirect URIs of the authorization code grant, e.g. ["http://127.0.0.1/callback"] for a native app (draft §4.2)` + "\n"},
		{"redirect_uris invalid", with("redirect_uris", []any{"http://app.example/cb", "https://app.example/cb#f"}), cimdURL, ExitInvalid,
			`redirect_uris[0]: "http://app.example/cb" uses plain http on a host other than loopback: use https, or http://127.0.0.1 or http://[::1] for a native app (RFC 8252 §7.3)` + "\n" +
				`redirect_uris[1]: "https://app.example/cb#f" has a fragment (#…), which a redirect URI MUST NOT have (RFC 6749 §3.1.2)` + "\n"},
		{"too big", with("x_padding", strings.Repeat("a", 64<<10)), cimdURL, ExitInvalid, "the document is larger than 64 KiB: dcrctl serve and other servers stop reading there; keep it under 5000 bytes (draft §8.7)\n"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.doc)
			file := filepath.Join(dir, strings.Repeat("d", i+1)+".json")
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"cimd", "check", file}
			if tc.url != "" {
				args = append(args, "--url", tc.url)
			}
			r := runCLI(t, context.Background(), "", nil, args...)
			if r.Code != tc.code || r.Stdout != tc.want {
				t.Errorf("exit %d, stdout:\n%s\nwant %d:\n%s\nstderr: %s", r.Code, r.Stdout, tc.code, tc.want, r.Stderr)
			}
		})
	}
}

// TestCIMDCheckURL fetches documents from a TLS server trusted with --ca-file: the HTTP
// rules (status, redirect, content type) and the client_id match.
func TestCIMDCheckURL(t *testing.T) {
	var base string
	mux := http.NewServeMux()
	serve := func(ctype, path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Write([]byte(`{"client_id": "` + base + path + `", "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}`))
		}
	}
	mux.HandleFunc("/ok.json", serve("application/json", "/ok.json"))
	mux.HandleFunc("/text.json", serve("text/plain", "/text.json"))
	mux.HandleFunc("/copy.json", serve("application/json", "/ok.json"))
	mux.HandleFunc("/moved.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok.json", http.StatusMovedPermanently)
	})
	hs := httptest.NewTLSServer(mux)
	defer hs.Close()
	base = hs.URL
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/ok.json", ExitOK, ""},
		{"/text.json", ExitInvalid, "the response's Content-Type is text/plain, not application/json (or application/<subtype>+json): serve the document as application/json (draft §4)\n"},
		{"/copy.json", ExitInvalid, `client_id: is "` + base + `/ok.json", not the document's URL "` + base + `/copy.json": the two must be equal character for character (draft §4)` + "\n"},
		{"/moved.json", ExitInvalid, `the server answered 301 Moved Permanently, redirecting to "/ok.json": redirects are not followed; serve the document at the client_id URL itself (draft §5)` + "\n"},
		{"/gone.json", ExitInvalid, "the server answered 404 Not Found, not 200 OK (draft §5)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := runCLI(t, context.Background(), "", nil, "--ca-file", ca, "cimd", "check", base+tc.path)
			// the test server is on loopback, where authorization servers do not fetch from
			want := "warning: the document came from 127.0.0.1, a special-use address (private, loopback, link-local, …): authorization servers refuse to fetch from it, except test servers on the same machine (draft §8.6)\n" + tc.want
			if r.Code != tc.code || r.Stdout != want {
				t.Errorf("exit %d, stdout:\n%s\nwant %d:\n%s\nstderr: %s", r.Code, r.Stdout, tc.code, want, r.Stderr)
			}
		})
	}
	r := runCLI(t, context.Background(), "", nil, "--ca-file", ca, "cimd", "check", base+"/text.json", "-o", "json")
	var got cimdCheckResult
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != ExitInvalid || got.Valid || got.ClientID != base+"/text.json" ||
		len(got.Problems) != 2 || got.Problems[1].Section != "§4" || got.Problems[1].Warning || !got.Problems[0].Warning {
		t.Errorf("-o json: exit %d, %s (%v)", r.Code, r.Stdout, err)
	}
}
