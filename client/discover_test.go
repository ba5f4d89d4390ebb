package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// reply is one canned response of a test server; "{{base}}" in Body is replaced by the
// server's URL.
type reply struct {
	Status      int
	ContentType string
	Body        string
	Header      map[string]string
}

// cannedServer serves replies by path and records the paths requested and the User-Agent.
type cannedServer struct {
	*httptest.Server
	mu     sync.Mutex
	paths  []string
	agents []string
}

func newCannedServer(t *testing.T, replies map[string]reply) *cannedServer {
	t.Helper()
	s := &cannedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.Method+" "+r.URL.RequestURI())
		s.agents = append(s.agents, r.Header.Get("User-Agent"))
		s.mu.Unlock()
		rep, ok := replies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		if rep.ContentType != "" {
			w.Header().Set("Content-Type", rep.ContentType)
		}
		if rep.Status == 0 {
			rep.Status = http.StatusOK
		}
		w.WriteHeader(rep.Status)
		w.Write([]byte(strings.ReplaceAll(rep.Body, "{{base}}", s.URL)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cannedServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

const metaDoc = `{"issuer":"{{base}}%s","authorization_endpoint":"{{base}}/authorize","token_endpoint":"{{base}}/token",
"registration_endpoint":"{{base}}/register","jwks_uri":"{{base}}/jwks","scopes_supported":["openid","dcr"],
"response_types_supported":["code"],"grant_types_supported":["authorization_code","client_credentials"],
"token_endpoint_auth_methods_supported":["client_secret_basic","none"],"code_challenge_methods_supported":["S256"],
"x_vendor":{"nested":[1,2,{"a":null}]},"frontchannel_logout_supported":true}`

func metaFor(issuerPath string) string { return strings.Replace(metaDoc, "%s", issuerPath, 1) }

func wantMeta(base, issuerPath string) *ServerMetadata {
	return &ServerMetadata{
		Issuer:                            base + issuerPath,
		AuthorizationEndpoint:             base + "/authorize",
		TokenEndpoint:                     base + "/token",
		RegistrationEndpoint:              base + "/register",
		JWKSURI:                           base + "/jwks",
		ScopesSupported:                   []string{"openid", "dcr"},
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		Extra: map[string]json.RawMessage{
			"x_vendor":                      json.RawMessage(`{"nested":[1,2,{"a":null}]}`),
			"frontchannel_logout_supported": json.RawMessage(`true`),
		},
	}
}

func TestDiscover(t *testing.T) {
	const js = "application/json"
	tests := []struct {
		name       string
		issuerPath string // appended to the server's URL to make the issuer asked for
		replies    map[string]reply
		want       bool   // want the metadata of wantMeta(base, issuerPath)
		wantErr    string // substring of the error
		wantStatus int    // when an *Error is expected: its status
		wantReqs   []string
	}{
		{
			name:     "rfc8414 without path",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: metaFor("")}},
			want:     true,
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:       "rfc8414 inserts the segment before the issuer path",
			issuerPath: "/tenants/a",
			replies:    map[string]reply{"/.well-known/oauth-authorization-server/tenants/a": {ContentType: js, Body: metaFor("/tenants/a")}},
			want:       true,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/tenants/a"},
		},
		{
			name:       "terminating slash is removed before inserting",
			issuerPath: "/tenants/a/",
			replies:    map[string]reply{"/.well-known/oauth-authorization-server/tenants/a": {ContentType: js, Body: metaFor("/tenants/a/")}},
			want:       true,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/tenants/a"},
		},
		{
			name:       "falls back to openid configuration appended to the path",
			issuerPath: "/realms/demo",
			replies:    map[string]reply{"/realms/demo/.well-known/openid-configuration": {ContentType: "application/json; charset=utf-8", Body: metaFor("/realms/demo")}},
			want:       true,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/realms/demo", "GET /.well-known/openid-configuration/realms/demo", "GET /realms/demo/.well-known/openid-configuration"},
		},
		{
			name:       "then openid configuration inserted before the path",
			issuerPath: "/tenants/b",
			replies:    map[string]reply{"/.well-known/openid-configuration/tenants/b": {ContentType: js, Body: metaFor("/tenants/b")}, "/tenants/b/.well-known/openid-configuration": {ContentType: js, Body: metaFor("/other")}},
			want:       true,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/tenants/b", "GET /.well-known/openid-configuration/tenants/b"},
		},
		{
			name:       "a trailing slash mismatch is explained",
			issuerPath: "/a",
			replies:    map[string]reply{"/.well-known/oauth-authorization-server/a": {ContentType: js, Body: metaFor("/a/")}},
			wantErr:    `differs from "{{issuer}}" only by a trailing slash; RFC 8414 §3.3 requires them to be identical, so use exactly "{{issuer}}/"`,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/a"},
		},
		{
			name:     "falls back when the first answers html",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: "text/html", Body: "<html>"}, "/.well-known/openid-configuration": {ContentType: js, Body: metaFor("")}},
			want:     true,
			wantReqs: []string{"GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration"},
		},
		{
			name:       "neither exists",
			replies:    map[string]reply{},
			wantErr:    "404 Not Found",
			wantStatus: 404,
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration"},
		},
		{
			name:     "issuer mismatch is refused without fallback",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: metaFor("/other")}, "/.well-known/openid-configuration": {ContentType: js, Body: metaFor("")}},
			wantErr:  "issuer mismatch: the metadata names issuer",
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:       "issuer with path must match exactly",
			issuerPath: "/a",
			replies:    map[string]reply{"/.well-known/oauth-authorization-server/a": {ContentType: js, Body: metaFor("/a/")}},
			wantErr:    "issuer mismatch",
			wantReqs:   []string{"GET /.well-known/oauth-authorization-server/a"},
		},
		{
			name:     "missing issuer",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: `{"token_endpoint":"x"}`}},
			wantErr:  "the metadata document has no issuer",
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:     "malformed json",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: `{"issuer":`}},
			wantErr:  "malformed metadata document",
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:     "wrong member type",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: `{"issuer":"{{base}}","scopes_supported":"dcr"}`}},
			wantErr:  `member "scopes_supported": got a JSON string, want []string`,
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:     "oversized body",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: `{"issuer":"{{base}}","x":"` + strings.Repeat("a", MaxResponseSize) + `"}`}},
			wantErr:  "larger than 1 MiB",
			wantReqs: []string{"GET /.well-known/oauth-authorization-server"},
		},
		{
			name:     "wrong content type on both",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: "text/plain", Body: metaFor("")}, "/.well-known/openid-configuration": {ContentType: "text/html", Body: metaFor("")}},
			wantErr:  "Content-Type text/html, want application/json",
			wantReqs: []string{"GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration"},
		},
		{
			name:       "issuer with a query is refused before any request",
			issuerPath: "/?x=1",
			wantErr:    "must not have a query",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCannedServer(t, tc.replies)
			var c Client
			md, err := c.Discover(context.Background(), s.URL+tc.issuerPath)
			var want *ServerMetadata
			if tc.want {
				want = wantMeta(s.URL, tc.issuerPath)
			}
			if !reflect.DeepEqual(md, want) {
				t.Errorf("metadata:\n got %#v\nwant %#v", md, want)
			}
			tc.wantErr = strings.ReplaceAll(tc.wantErr, "{{issuer}}", s.URL+tc.issuerPath)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "client: discover: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			var pe *Error
			if got := errors.As(err, &pe); got != (tc.wantStatus != 0) || got && pe.StatusCode != tc.wantStatus {
				t.Errorf("errors.As(*Error) = %v (%+v), want status %d", got, pe, tc.wantStatus)
			}
			if got := s.requests(); !reflect.DeepEqual(got, tc.wantReqs) && !(len(got) == 0 && len(tc.wantReqs) == 0) {
				t.Errorf("requests = %q, want %q", got, tc.wantReqs)
			}
		})
	}
}

func TestDiscoverIssuerMismatchIsMatchable(t *testing.T) {
	s := newCannedServer(t, map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: "application/json", Body: `{"issuer":"https://evil.example"}`}})
	_, err := new(Client).Discover(context.Background(), s.URL)
	if !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("error %v does not match ErrIssuerMismatch", err)
	}
}

// redirectTo returns an HTTP client that connects to addr whatever host a URL names, so a
// test can use a non-loopback issuer against a local server.
func redirectTo(addr string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func TestDiscoverSchemePolicy(t *testing.T) {
	s := newCannedServer(t, map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: "application/json", Body: `{"issuer":"http://as.example.com"}`}})
	tests := []struct {
		name    string
		client  Client
		issuer  string
		wantErr string
	}{
		{"http to a remote host is refused", Client{HTTPClient: redirectTo(s.Listener.Addr().String())}, "http://as.example.com", "refusing plain http to as.example.com"},
		{"InsecureAllowHTTP allows it", Client{HTTPClient: redirectTo(s.Listener.Addr().String()), InsecureAllowHTTP: true}, "http://as.example.com", ""},
		{"not a URL", Client{}, "as.example.com", "is not an absolute https URL"},
		{"other scheme", Client{}, "ftp://as.example.com", "is not an absolute https URL"},
		{"empty", Client{}, "", "no issuer given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.Discover(context.Background(), tc.issuer)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDiscoverUserAgent(t *testing.T) {
	for _, tc := range []struct{ set, want string }{{"", "dcrctl/"}, {"dcrctl/1.2.3 (test)", "dcrctl/1.2.3 (test)"}} {
		s := newCannedServer(t, map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: "application/json", Body: metaFor("")}})
		c := Client{UserAgent: tc.set}
		if _, err := c.Discover(context.Background(), s.URL); err != nil {
			t.Fatal(err)
		}
		if len(s.agents) != 1 || !strings.HasPrefix(s.agents[0], tc.want) {
			t.Errorf("User-Agent %q, want prefix %q", s.agents, tc.want)
		}
	}
}

func TestServerMetadataRoundTrip(t *testing.T) {
	in := strings.NewReplacer("{{base}}", "https://as.example", "%s", "", "\n", "").Replace(metaDoc)
	var md ServerMetadata
	if err := json.Unmarshal([]byte(in), &md); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the document:\n in %s\nout %s", in, out)
	}
}

// TestResolve: explicit endpoints with or without an issuer, for servers whose discovery
// leaves them out or that have none; a refused document is never replaced by overrides.
func TestResolve(t *testing.T) {
	const js = "application/json"
	hydraLike := `{"issuer":"{{base}}","authorization_endpoint":"{{base}}/oauth2/auth","token_endpoint":"{{base}}/oauth2/token"}`
	tests := []struct {
		name        string
		replies     map[string]reply
		noIssuer    bool
		override    Endpoints // "{{base}}" is replaced
		want        Endpoints
		wantMissing []string
		wantErr     string
	}{
		{name: "discovery without registration_endpoint, overridden",
			replies:     map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: hydraLike}},
			override:    Endpoints{Registration: "{{base}}/oauth2/register"},
			want:        Endpoints{Registration: "{{base}}/oauth2/register", Token: "{{base}}/oauth2/token", Authorization: "{{base}}/oauth2/auth"},
			wantMissing: []string{"device_authorization_endpoint"}},
		{name: "discovery without registration_endpoint, not overridden",
			replies:     map[string]reply{"/.well-known/openid-configuration": {ContentType: js, Body: hydraLike}},
			want:        Endpoints{Token: "{{base}}/oauth2/token", Authorization: "{{base}}/oauth2/auth"},
			wantMissing: []string{"registration_endpoint", "device_authorization_endpoint"}},
		{name: "no discovery at all, with an issuer",
			override:    Endpoints{Registration: "{{base}}/reg", Token: "{{base}}/tok"},
			want:        Endpoints{Registration: "{{base}}/reg", Token: "{{base}}/tok"},
			wantMissing: []string{"authorization_endpoint", "device_authorization_endpoint"}},
		{name: "no issuer", noIssuer: true,
			override:    Endpoints{Registration: "{{base}}/reg"},
			want:        Endpoints{Registration: "{{base}}/reg"},
			wantMissing: []string{"token_endpoint", "authorization_endpoint", "device_authorization_endpoint"}},
		{name: "no issuer, no endpoints", noIssuer: true, wantErr: "client: resolve: no issuer and no endpoint URLs given"},
		{name: "no discovery, no endpoints", wantErr: "404 Not Found"},
		{name: "a mismatched issuer is not papered over",
			replies:  map[string]reply{"/.well-known/oauth-authorization-server": {ContentType: js, Body: `{"issuer":"https://evil.example"}`}},
			override: Endpoints{Registration: "{{base}}/reg"}, wantErr: "issuer mismatch"},
		{name: "an override must be https", override: Endpoints{Token: "http://as.example.com/token"},
			wantErr: "client: resolve: token_endpoint: refusing plain http to as.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCannedServer(t, tc.replies)
			sub := func(e Endpoints) Endpoints {
				r := strings.NewReplacer("{{base}}", s.URL)
				return Endpoints{r.Replace(e.Registration), r.Replace(e.Token), r.Replace(e.Authorization), r.Replace(e.DeviceAuthorization)}
			}
			issuer := s.URL
			if tc.noIssuer {
				issuer = ""
			}
			var c Client
			md, err := c.Resolve(context.Background(), issuer, sub(tc.override))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Endpoints{md.RegistrationEndpoint, md.TokenEndpoint, md.AuthorizationEndpoint, md.DeviceAuthorizationEndpoint}
			if got != sub(tc.want) || md.Issuer != issuer {
				t.Errorf("endpoints = %+v (issuer %q), want %+v", got, md.Issuer, sub(tc.want))
			}
			if m := md.MissingEndpoints(); !reflect.DeepEqual(m, tc.wantMissing) {
				t.Errorf("MissingEndpoints = %q, want %q", m, tc.wantMissing)
			}
		})
	}
}
