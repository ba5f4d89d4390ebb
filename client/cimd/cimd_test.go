package cimd

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const docURL = "https://app.example/client.json"

// good is a valid document of docURL; cases change one thing of it.
const good = `{"client_id": "https://app.example/client.json", "client_name": "App",
 "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}`

// TestCheck has a case for every rule of Check: the whole list of problems (as printed,
// one per line) is compared.
func TestCheck(t *testing.T) {
	big := `{"client_id": "https://app.example/client.json", "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none", "x": "` + strings.Repeat("a", RecommendedSize) + `"}`
	huge := `{"x": "` + strings.Repeat("a", MaxSize) + `"}`
	cases := []struct {
		name string
		body string
		src  Source
		want []string
	}{
		{"valid", good, Source{URL: docURL}, nil},
		{"valid fetched, +json subtype", good, Source{URL: docURL, Fetched: true, ContentType: "application/client-metadata+json; charset=utf-8"}, nil},
		{"file: client_id checked as a URL", good, Source{}, nil},
		{"not an object", `["a"]`, Source{URL: docURL}, []string{
			"the document is not a JSON object (RFC 8259): json: cannot unmarshal array into Go value of type map[string]json.RawMessage (draft §4)"}},
		{"null", `null`, Source{URL: docURL}, []string{"the document is not a JSON object (RFC 8259): it is null (draft §4)"}},
		{"too big", huge, Source{URL: docURL}, []string{
			"the document is larger than 64 KiB: dcrctl serve and other servers stop reading there; keep it under 5000 bytes (draft §8.7)"}},
		{"over the recommended size", big, Source{URL: docURL}, []string{fmt.Sprintf(
			"warning: the document has %d bytes, more than the recommended 5000: servers that follow the recommendation refuse it (draft §8.7)", len(big))}},
		{"wrong content type", good, Source{URL: docURL, Fetched: true, ContentType: "text/html"}, []string{
			"the response's Content-Type is text/html, not application/json (or application/<subtype>+json): serve the document as application/json (draft §4)"}},
		{"no content type", good, Source{URL: docURL, Fetched: true}, []string{
			"the response's Content-Type is none, not application/json (or application/<subtype>+json): serve the document as application/json (draft §4)"}},
		{"client_id missing", `{"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}`, Source{URL: docURL}, []string{
			"client_id: is missing: the document's client_id is the URL it is served at (draft §4)"}},
		{"client_id not the URL", strings.Replace(good, "client.json", "other.json", 1), Source{URL: docURL}, []string{
			`client_id: is "https://app.example/other.json", not the document's URL "https://app.example/client.json": the two must be equal character for character (draft §4)`}},
		{"client_id differs by a default port", strings.Replace(good, "app.example/", "app.example:443/", 1), Source{URL: docURL}, []string{
			`client_id: is "https://app.example:443/client.json", not the document's URL "https://app.example/client.json": the two must be equal character for character (draft §4)`}},
		{"client_id not a string", `{"client_id": 7, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}`, Source{URL: docURL}, []string{
			"client_id: is a number, not a string (RFC 7591 §2)",
			`client_id: is "", not the document's URL "https://app.example/client.json": the two must be equal character for character (draft §4)`}},
		{"file: client_id over http", strings.Replace(good, "https:", "http:", 1), Source{}, []string{
			`client_id: "http://app.example/client.json" does not use the https scheme: a Client Identifier URL is https://HOST/PATH (draft §3)`}},
		{"client_secret_basic", strings.Replace(good, `"none"`, `"client_secret_basic"`, 1), Source{URL: docURL}, []string{
			"token_endpoint_auth_method: is client_secret_basic, a method based on a shared secret, which a document cannot establish: use none (a public client) or private_key_jwt with jwks_uri (draft §4.1)"}},
		{"client_secret_jwt", strings.Replace(good, `"none"`, `"client_secret_jwt"`, 1), Source{URL: docURL}, []string{
			"token_endpoint_auth_method: is client_secret_jwt, a method based on a shared secret, which a document cannot establish: use none (a public client) or private_key_jwt with jwks_uri (draft §4.1)"}},
		{"private_key_jwt is allowed", strings.Replace(good, `"none"`, `"private_key_jwt", "jwks_uri": "https://app.example/jwks"`, 1), Source{URL: docURL}, nil},
		{"auth method absent", `{"client_id": "https://app.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"]}`, Source{URL: docURL}, []string{
			`warning: token_endpoint_auth_method: is absent, and RFC 7591 §2 makes that client_secret_basic, which a document cannot use: say "none" for a public client (draft §4.1)`}},
		{"client_secret and its expiry", strings.Replace(good, `"client_name"`, `"client_secret": "s3cr3t", "client_secret_expires_at": 0, "client_name"`, 1), Source{URL: docURL}, []string{
			"client_secret: MUST NOT be used in a Client ID Metadata Document: remove it (a public client has no secret) (draft §4.1)",
			"client_secret_expires_at: MUST NOT be used in a Client ID Metadata Document: remove it (a public client has no secret) (draft §4.1)"}},
		{"private key in jwks", strings.Replace(good, `"client_name"`, `"jwks": {"keys": [{"kty": "EC", "x": "a", "y": "b"}, {"kty": "EC", "x": "a", "y": "b", "d": "c"}, {"kty": "oct", "k": "c"}]}, "client_name"`, 1), Source{URL: docURL}, []string{
			`jwks.keys[1]: holds private or symmetric key material (member "d"): publish only public keys (draft §4.1)`,
			`jwks.keys[2]: holds private or symmetric key material (member "k"): publish only public keys (draft §4.1)`}},
		{"jwks and jwks_uri", strings.Replace(good, `"client_name"`, `"jwks": {"keys": []}, "jwks_uri": "https://app.example/jwks", "client_name"`, 1), Source{URL: docURL}, []string{
			"jwks: and jwks_uri MUST NOT both be present: keep one (RFC 7591 §2)"}},
		{"jwks not a set", strings.Replace(good, `"client_name"`, `"jwks": [1], "client_name"`, 1), Source{URL: docURL}, []string{
			`jwks: is not a JWK Set ({"keys": [...]}) (RFC 7591 §2)`}},
		{"redirect_uris missing", `{"client_id": "https://app.example/client.json", "token_endpoint_auth_method": "none"}`, Source{URL: docURL}, []string{
			`redirect_uris: is missing: list the redirect URIs of the authorization code grant, e.g. ["http://127.0.0.1/callback"] for a native app (draft §4.2)`}},
		{"redirect_uris not needed without a redirect grant", `{"client_id": "https://app.example/client.json", "token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"], "jwks_uri": "https://app.example/jwks"}`, Source{URL: docURL}, nil},
		{"redirect_uris empty", strings.Replace(good, `["http://127.0.0.1/callback"]`, `[]`, 1), Source{URL: docURL}, []string{
			"redirect_uris: is empty: list at least one redirect URI (draft §4.2)"}},
		{"redirect_uris a string", strings.Replace(good, `["http://127.0.0.1/callback"]`, `"http://127.0.0.1/callback"`, 1), Source{URL: docURL}, []string{
			"redirect_uris: is a string, not an array of strings (RFC 7591 §2)"}},
		{"bad redirect URIs", strings.Replace(good, `["http://127.0.0.1/callback"]`, `["http://127.0.0.1:8080/cb", "https://app.example/cb", "com.example.app:/cb", "/relative", "https://app.example/cb#x", "javascript:alert(1)", "http://app.example/cb", "http://localhost/cb", "https://u@app.example/cb", "com.example.app:"]`, 1), Source{URL: docURL}, []string{
			`redirect_uris[3]: "/relative" is relative: a redirect URI is absolute (RFC 6749 §3.1.2)`,
			`redirect_uris[4]: "https://app.example/cb#x" has a fragment (#…), which a redirect URI MUST NOT have (RFC 6749 §3.1.2)`,
			`redirect_uris[5]: "javascript:alert(1)" uses the javascript: scheme, which can run code or read files in a browser: use https, loopback http or a private-use scheme (draft §8.6)`,
			`redirect_uris[6]: "http://app.example/cb" uses plain http on a host other than loopback: use https, or http://127.0.0.1 or http://[::1] for a native app (RFC 8252 §7.3)`,
			`warning: redirect_uris[7]: "http://localhost/cb" uses localhost, which is NOT RECOMMENDED: use http://127.0.0.1 or http://[::1] (RFC 8252 §8.3)`,
			`redirect_uris[8]: "https://u@app.example/cb" contains user info: remove it (RFC 6749 §3.1.2)`,
			`redirect_uris[9]: "com.example.app:" has no path: use e.g. com.example.app:/callback (RFC 8252 §7.1)`}},
		{"wrong member types", strings.Replace(good, `"client_name": "App"`, `"client_name": ["App"], "grant_types": "authorization_code", "scope": 1, "tos_uri": false`, 1), Source{URL: docURL}, []string{
			"client_name: is an array, not a string (RFC 7591 §2)",
			"scope: is a number, not a string (RFC 7591 §2)",
			"grant_types: is a string, not an array of strings (RFC 7591 §2)",
			"tos_uri: is a boolean, not a string (RFC 7591 §2)"}},
		{"web URLs", strings.Replace(good, `"client_name": "App"`, `"client_uri": "javascript:x", "logo_uri": "/logo.png", "policy_uri": "https://app.example/policy"`, 1), Source{URL: docURL}, []string{
			`client_uri: "javascript:x" is not an absolute https URL (draft §8.6)`,
			`logo_uri: "/logo.png" is not an absolute https URL (draft §8.6)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := Check([]byte(tc.body), tc.src)
			if got := lines(ps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if (ps.Err() == nil) != (len(ps.Errors()) == 0) {
				t.Errorf("Err() = %v with %d errors", ps.Err(), len(ps.Errors()))
			}
		})
	}
}

func lines(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// TestCheckURL has a case for every rule of §3.
func TestCheckURL(t *testing.T) {
	cases := []struct {
		url  string
		want []string
	}{
		{"https://app.example/client.json", nil},
		{"https://app.example:8443/c", nil},
		{"http://app.example/c", []string{`"http://app.example/c" does not use the https scheme: a Client Identifier URL is https://HOST/PATH (draft §3)`}},
		{"https://app.example", []string{`"https://app.example" has no path: serve the document at a path, e.g. https://app.example/client.json (draft §3)`}},
		{"https://app.example/", []string{`warning: "https://app.example/" has the path /: the document would take the root of the site (NOT RECOMMENDED); serve it at a path of its own (draft §3)`}},
		{"https://app.example/a/../c", []string{`"https://app.example/a/../c" has a . or .. path segment: use the path without it (draft §3)`}},
		{"https://app.example/a/%2e/c", []string{`"https://app.example/a/%2e/c" has a . or .. path segment: use the path without it (draft §3)`}},
		{"https://app.example/c#x", []string{`"https://app.example/c#x" has a fragment (#…): remove it (draft §3)`}},
		{"https://app.example/c#", []string{`"https://app.example/c#" has a fragment (#…): remove it (draft §3)`}},
		{"https://u:p@app.example/c", []string{`"https://u:p@app.example/c" contains user info (user@ or user:password@): remove it (draft §3)`}},
		{"https://app.example/c?v=1", []string{`warning: "https://app.example/c?v=1" has a query (?…), which a Client Identifier URL SHOULD NOT have (draft §3)`}},
		{"https:///c", []string{`"https:///c" has no host: use https://HOST/PATH (draft §3)`}},
		{"https://app example/c", []string{`"https://app example/c" is not a URL (invalid character " " in host name): use https://HOST/PATH (draft §3)`}},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			if got := lines(CheckURL(tc.url, "")); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckURL(%q):\n%s\nwant:\n%s", tc.url, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestFetch fetches from a real TLS server: a valid document, and each response the draft
// refuses.
func TestFetch(t *testing.T) {
	var base string
	mux := http.NewServeMux()
	doc := func(id, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept") != "application/json" {
				t.Errorf("Accept = %q", r.Header.Get("Accept"))
			}
			w.Header().Set("Content-Type", ctype)
			w.Write([]byte(`{"client_id": "` + base + id + `", "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}`))
		}
	}
	mux.HandleFunc("/ok", doc("/ok", "application/json"))
	mux.HandleFunc("/html", doc("/html", "text/html"))
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.Repeat(" ", 2*MaxSize)))
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	base = srv.URL
	cases := []struct {
		path   string
		status int
		doc    bool
		want   []string
	}{
		{"/ok", 200, true, nil},
		{"/html", 200, true, []string{"the response's Content-Type is text/html, not application/json (or application/<subtype>+json): serve the document as application/json (draft §4)"}},
		{"/moved", 302, false, []string{`the server answered 302 Found, redirecting to "/ok": redirects are not followed; serve the document at the client_id URL itself (draft §5)`}},
		{"/missing", 404, false, []string{"the server answered 404 Not Found, not 200 OK (draft §5)"}},
		{"/big", 200, false, []string{"the document is larger than 64 KiB: dcrctl serve and other servers stop reading there; keep it under 5000 bytes (draft §8.7)"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			res, err := Fetch(context.Background(), srv.Client(), base+tc.path)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{loopbackWarning}, tc.want...) // the test server is on 127.0.0.1
			if got := lines(res.Problems); res.StatusCode != tc.status || (res.Document != nil) != tc.doc || !reflect.DeepEqual(got, want) {
				t.Errorf("status %d, document %v, problems:\n%s\nwant %d, %v:\n%s", res.StatusCode, res.Document != nil, strings.Join(got, "\n"), tc.status, tc.doc, strings.Join(want, "\n"))
			}
		})
	}
	// A URL that breaks §3 is not fetched at all.
	res, err := Fetch(context.Background(), srv.Client(), "http"+strings.TrimPrefix(base, "https")+"/ok")
	if err != nil || res.StatusCode != 0 || len(res.Problems.Errors()) != 1 {
		t.Errorf("http URL: %v, %+v", err, res)
	}
}

const loopbackWarning = "warning: the document came from 127.0.0.1, a special-use address (private, loopback, link-local, …): authorization servers refuse to fetch from it, except test servers on the same machine (draft §8.6)"

// TestSpecialUse: the §8.6 address rule, with IPv4-mapped and zoned addresses.
func TestSpecialUse(t *testing.T) {
	for _, tc := range []struct {
		ip      string
		special bool
	}{
		{"93.184.215.14", false}, {"2606:4700::1", false}, {"8.8.8.8", false},
		{"127.0.0.1", true}, {"::1", true}, {"10.1.2.3", true}, {"172.31.0.1", true}, {"192.168.0.1", true},
		{"169.254.169.254", true}, {"100.64.0.1", true}, {"0.0.0.0", true}, {"224.0.0.1", true},
		{"255.255.255.255", true}, {"192.0.2.1", true}, {"198.18.0.1", true}, {"::ffff:10.0.0.1", true},
		{"::ffff:8.8.8.8", false}, {"fe80::1%eth0", true}, {"fd00::1", true}, {"::", true},
		{"64:ff9b::a00:1", true}, {"2001:db8::1", true}, {"2002::1", true}, {"ff02::1", true},
	} {
		if got := SpecialUse(netip.MustParseAddr(tc.ip)); got != tc.special {
			t.Errorf("SpecialUse(%s) = %v, want %v", tc.ip, got, tc.special)
		}
	}
}

// TestNew: the document init writes is valid, and a bad template is reported, not refused.
func TestNew(t *testing.T) {
	b, ps := New(Template{ClientID: docURL, ClientName: "App", ClientURI: "https://app.example", RedirectURIs: []string{"http://127.0.0.1/callback"}})
	want := `{
  "client_id": "https://app.example/client.json",
  "client_name": "App",
  "client_uri": "https://app.example",
  "redirect_uris": [
    "http://127.0.0.1/callback"
  ],
  "grant_types": [
    "authorization_code",
    "refresh_token"
  ],
  "response_types": [
    "code"
  ],
  "token_endpoint_auth_method": "none",
  "application_type": "native"
}
`
	if string(b) != want || ps != nil {
		t.Errorf("New:\n%s%v\nwant:\n%s", b, ps, want)
	}
	b, ps = New(Template{ClientID: "http://app.example/c.json", RedirectURIs: []string{"https://app.example/cb"}})
	if !strings.Contains(string(b), `"application_type": "web"`) || len(ps) != 1 || !strings.Contains(ps[0].String(), "https scheme") {
		t.Errorf("bad template: %s %v", b, ps)
	}
}
