package testserver

import (
	"context"
	"crypto/x509"
	stdhtml "html"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// docServer is a loopback TLS server of Client ID Metadata Documents: path → handler, with
// a count of requests per path.
type docServer struct {
	hs    *httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	paths map[string]http.HandlerFunc
}

func newDocServer(t testing.TB) *docServer {
	d := &docServer{hits: map[string]int{}, paths: map[string]http.HandlerFunc{}}
	d.hs = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits[r.URL.Path]++
		h := d.paths[r.URL.Path]
		d.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	d.hs.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the fetcher refuses
	d.hs.StartTLS()
	t.Cleanup(d.hs.Close)
	return d
}

func (d *docServer) url(p string) string { return d.hs.URL + p }

func (d *docServer) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(d.hs.Certificate())
	return p
}

func (d *docServer) count(p string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[p]
}

// serve makes path answer with body (client_id "" is the path's own URL) and headers.
func (d *docServer) serve(path, body string, headers ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.paths[path] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Write([]byte(strings.ReplaceAll(body, "SELF", d.url(path))))
	}
}

const publicDoc = `{"client_id": "SELF", "client_name": "Doc App", "redirect_uris": ["http://127.0.0.1/callback"],
 "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none", "scope": "openid profile dcr"}`

func startCIMD(t *testing.T, d *docServer, mut func(*CIMD)) *env {
	return start(t, func(c *Config) {
		c.CIMD = CIMD{Enabled: true, AllowLoopback: true, RootCAs: d.roots()}
		if mut != nil {
			mut(&c.CIMD)
		}
	})
}

// TestCIMDLogin: a public client known only by its document logs in with PKCE on a loopback
// redirect with any port, refreshes, and is shown with its name and URL; discovery says so.
func TestCIMDLogin(t *testing.T) {
	d := newDocServer(t)
	d.serve("/app.json", publicDoc)
	e := startCIMD(t, d, nil)
	id := d.url("/app.json")

	disc := e.jsonReq(http.MethodGet, "/.well-known/oauth-authorization-server", "", nil)
	if disc.Body["client_id_metadata_document_supported"] != true {
		t.Errorf("discovery: client_id_metadata_document_supported = %v", disc.Body["client_id_metadata_document_supported"])
	}

	redirect := "http://127.0.0.1:54321/callback" // registered without a port (RFC 8252 §7.3)
	req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+loginParams(id, redirect, "openid profile").Encode()), nil)
	page := e.do(req)
	host := strings.TrimPrefix(d.hs.URL, "https://")
	want := `<p id="client_id_url">Identified by its metadata document at <strong>` + host + `</strong>: <code>` + id + `</code></p>`
	if page.Status != 200 || !strings.Contains(page.Raw, "Application: <strong>Doc App</strong>") || !strings.Contains(page.Raw, want) {
		t.Errorf("login page: %d, want the name and %s in:\n%s", page.Status, want, page.Raw)
	}
	tok := e.codeLogin(t, id, redirect, "openid profile")
	if tok.Status != 200 || tok.Body["scope"] != "openid profile" || str(tok.Body["refresh_token"]) == "" {
		t.Fatalf("token: %d %v", tok.Status, tok.Body)
	}
	if aud := jwtClaims(t, str(tok.Body["id_token"]))["aud"]; aud != id {
		t.Errorf("id_token aud = %v, want %s", aud, id)
	}
	ref := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok.Body["refresh_token"])}, "client_id": {id}}, "", "")
	if ref.Status != 200 || str(ref.Body["access_token"]) == "" {
		t.Errorf("refresh: %d %v", ref.Status, ref.Body)
	}
	if n := d.count("/app.json"); n != 1 {
		t.Errorf("document fetched %d times, want 1 (cached for the default lifetime)", n)
	}

	// dcr is never granted, even when the document asks for it.
	p := loginParams(id, redirect, "dcr")
	q := callback(t, e.browserLogin(p, DefaultUser, DefaultUserPassword))
	if q.Get("error") != "invalid_scope" {
		t.Errorf("scope dcr: %v", q)
	}
	// PKCE is required.
	p = loginParams(id, redirect, "openid")
	p.Del("code_challenge")
	p.Del("code_challenge_method")
	q = callback(t, e.browserLogin(p, DefaultUser, DefaultUserPassword))
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "PKCE is required") {
		t.Errorf("no PKCE: %v", q)
	}
	// Redirect URIs match exactly but for a loopback port.
	for _, ru := range []string{"http://127.0.0.1:54321/other", "http://[::1]:54321/callback", "https://attacker.example/callback"} {
		r := e.do(mustGet(e.url("/authorize?" + loginParams(id, ru, "openid").Encode())))
		if r.Status != 400 || !strings.Contains(r.Raw, "<strong>invalid_request</strong>: redirect_uri") {
			t.Errorf("redirect_uri %s: %d %.300s", ru, r.Status, r.Raw)
		}
	}
	// A secret is refused: the client is public.
	bad := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(ref.Body["refresh_token"])}}, id, "a-secret")
	if bad.Status != 401 || bad.Body["error"] != "invalid_client" {
		t.Errorf("with a secret: %d %v", bad.Status, bad.Body)
	}
}

func mustGet(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return req
}

// TestCIMDFetchFailures: every way of not getting a valid document is an invalid_client
// error — a page at the authorization endpoint, JSON at the token endpoint, 400 both — and
// never a 5xx or a hang.
func TestCIMDFetchFailures(t *testing.T) {
	d := newDocServer(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	d.paths["/slow.json"] = func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers while the test runs (not even when the fetcher hangs up)
	}
	d.serve("/big.json", `{"client_id": "SELF", "x": "`+strings.Repeat("a", 70<<10)+`"}`)
	d.paths["/moved.json"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/app.json", http.StatusFound) }
	d.serve("/app.json", publicDoc)
	d.serve("/other.json", strings.Replace(publicDoc, "SELF", d.url("/app.json"), 1))
	d.serve("/html.json", publicDoc, "Content-Type", "text/html")
	d.serve("/secret.json", strings.Replace(publicDoc, `"none"`, `"client_secret_basic"`, 1))
	d.serve("/pkjwt.json", strings.Replace(publicDoc, `"none"`, `"private_key_jwt", "jwks_uri": "https://app.example/jwks"`, 1))
	d.serve("/noredirect.json", `{"client_id": "SELF", "token_endpoint_auth_method": "none"}`)
	d.paths["/error.json"] = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
	e := startCIMD(t, d, func(c *CIMD) { c.Timeout = 300 * time.Millisecond })
	_, port, _ := net.SplitHostPort(d.hs.Listener.Addr().String())

	cases := []struct {
		name, id, want string
		fetches        int // requests reaching the document server for the two uses
	}{
		{"timeout", d.url("/slow.json"), "could not be fetched: no complete answer within 300ms", 2},
		{"too big", d.url("/big.json"), "is not valid: the document is larger than 64 KiB", 2},
		{"redirect", d.url("/moved.json"), `is not valid: the server answered 302 Found, redirecting to "/app.json": redirects are not followed`, 2},
		{"wrong client_id", d.url("/other.json"), `is not valid: client_id: is "` + d.url("/app.json") + `", not the document's URL`, 2},
		{"wrong content type", d.url("/html.json"), "is not valid: the response's Content-Type is text/html, not application/json", 2},
		{"not 200", d.url("/error.json"), "is not valid: the server answered 500 Internal Server Error, not 200 OK", 2},
		{"missing", d.url("/nothing.json"), "is not valid: the server answered 404 Not Found, not 200 OK", 2},
		{"secret auth method", d.url("/secret.json"), "is not valid: token_endpoint_auth_method: is client_secret_basic, a method based on a shared secret", 2},
		// valid by the draft, so cached; refused by this server's policy
		{"confidential client", d.url("/pkjwt.json"), "its token_endpoint_auth_method is private_key_jwt; this server accepts only public clients (none)", 1},
		{"no redirect_uris", d.url("/noredirect.json"), "is not valid: redirect_uris: is missing", 2},
		{"private address", "https://10.0.0.1/client.json", "could not be fetched: its host is at 10.0.0.1, a private, loopback, link-local or other special-use address, which this server never fetches from (draft §8.6)", 0},
		{"link-local address", "https://169.254.169.254/latest/meta-data", "could not be fetched: its host is at 169.254.169.254, a private", 0},
		{"IPv6 unique local", "https://[fd00::1]/client.json", "could not be fetched: its host is at fd00::1, a private", 0},
		{"not a Client Identifier URL", d.url("/app.json#frag"), "is not valid: " + `"` + d.url("/app.json#frag") + `" has a fragment`, 0},
		// allowed (AllowLoopback; localhost resolves to loopback), then the certificate, made
		// for 127.0.0.1, does not name localhost
		{"loopback name", "https://localhost:" + port + "/app.json", "could not be fetched: its TLS certificate is not trusted by this server", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(tc.id)
			before := d.count(u.Path)
			r := e.do(mustGet(e.url("/authorize?" + loginParams(tc.id, "http://127.0.0.1/callback", "openid").Encode())))
			tokr := e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {tc.id}}, "", "")
			if page := stdhtml.UnescapeString(r.Raw); r.Status != 400 || !strings.Contains(page, "<strong>invalid_client</strong>: the client's metadata document at "+tc.id+" "+tc.want) {
				t.Errorf("authorize: %d, want invalid_client %q in:\n%.600s", r.Status, tc.want, page)
			}
			if tokr.Status != 400 || tokr.Body["error"] != "invalid_client" || !strings.Contains(str(tokr.Body["error_description"]), tc.want) {
				t.Errorf("token: %d %v", tokr.Status, tokr.Body)
			}
			// errors and invalid documents are never cached (§5.2): each use fetches again
			if u.Host == d.hs.Listener.Addr().String() && u.Fragment == "" {
				if n := d.count(u.Path) - before; n != tc.fetches {
					t.Errorf("%d requests reached the document server, want %d", n, tc.fetches)
				}
			}
		})
	}
}

// TestCIMDLoopbackRefusedByDefault: without AllowLoopback, a document on 127.0.0.1 is never
// fetched: the dial is refused before connecting.
func TestCIMDLoopbackRefusedByDefault(t *testing.T) {
	d := newDocServer(t)
	d.serve("/app.json", publicDoc)
	e := startCIMD(t, d, func(c *CIMD) { c.AllowLoopback = false })
	_, port, _ := net.SplitHostPort(d.hs.Listener.Addr().String())
	// the literal, and a name that resolves to loopback (from the hosts file: no DNS query)
	for _, id := range []string{d.url("/app.json"), "https://localhost:" + port + "/app.json"} {
		r := e.do(mustGet(e.url("/authorize?" + loginParams(id, "http://127.0.0.1/callback", "openid").Encode())))
		page := stdhtml.UnescapeString(r.Raw)
		if r.Status != 400 || !strings.Contains(page, "could not be fetched: its host is at 127.0.0.1, a private, loopback") && !strings.Contains(page, "its host is at ::1, a private, loopback") {
			t.Errorf("%s: %d: %.400s", id, r.Status, r.Raw)
		}
	}
	if n := d.count("/app.json"); n != 0 {
		t.Errorf("%d requests reached the document server", n)
	}
}

// TestCIMDOff: without Config.CIMD an https client_id is an unknown client, and discovery
// does not advertise the feature.
func TestCIMDOff(t *testing.T) {
	d := newDocServer(t)
	d.serve("/app.json", publicDoc)
	e := start(t, nil)
	r := e.do(mustGet(e.url("/authorize?" + loginParams(d.url("/app.json"), "http://127.0.0.1/callback", "openid").Encode())))
	disc := e.jsonReq(http.MethodGet, "/.well-known/oauth-authorization-server", "", nil)
	if _, ok := disc.Body["client_id_metadata_document_supported"]; r.Status != 400 || !strings.Contains(r.Raw, "is unknown") || ok || d.count("/app.json") != 0 {
		t.Errorf("authorize %d (%d fetches), discovery advertises CIMD: %v", r.Status, d.count("/app.json"), ok)
	}
}

// TestCIMDCache: a valid document is kept for its max-age on the server's clock, no-store is
// fetched on every use, an invalid document is never kept, and the cache is bounded.
func TestCIMDCache(t *testing.T) {
	d := newDocServer(t)
	d.serve("/60.json", publicDoc, "Cache-Control", "public, max-age=60")
	d.serve("/nostore.json", publicDoc, "Cache-Control", "no-store")
	var valid atomic.Bool
	d.paths["/fixed.json"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if valid.Load() {
			w.Write([]byte(strings.ReplaceAll(publicDoc, "SELF", d.url("/fixed.json"))))
			return
		}
		w.Write([]byte(`{"client_id": "` + d.url("/fixed.json") + `"}`))
	}
	e := startCIMD(t, d, func(c *CIMD) { c.CacheSize = 2 })
	use := func(p string) int {
		r := e.do(mustGet(e.url("/authorize?" + loginParams(d.url(p), "http://127.0.0.1/callback", "openid").Encode())))
		return r.Status
	}
	use("/60.json")
	use("/60.json")
	e.advance(59 * time.Second)
	use("/60.json")
	if n := d.count("/60.json"); n != 1 {
		t.Errorf("max-age=60: %d fetches within 59 s, want 1", n)
	}
	e.advance(2 * time.Second)
	use("/60.json")
	if n := d.count("/60.json"); n != 2 {
		t.Errorf("max-age=60: %d fetches after 61 s, want 2", n)
	}
	use("/nostore.json")
	use("/nostore.json")
	if n := d.count("/nostore.json"); n != 2 {
		t.Errorf("no-store: %d fetches for 2 uses, want 2", n)
	}
	if s := use("/fixed.json"); s != 400 {
		t.Errorf("invalid document: %d", s)
	}
	valid.Store(true)
	if s := use("/fixed.json"); s != 200 || d.count("/fixed.json") != 2 {
		t.Errorf("fixed document: %d after %d fetches, want 200 after 2 (the invalid one was not kept)", s, d.count("/fixed.json"))
	}
	e.srv.cimdFetch.mu.Lock()
	n := len(e.srv.cimdFetch.cache)
	e.srv.cimdFetch.mu.Unlock()
	if n > 2 {
		t.Errorf("cache holds %d documents, limit 2", n)
	}
	// The debugger page lists the client its tokens were issued to, without fetching.
	if tok := e.codeLogin(t, d.url("/nostore.json"), "http://127.0.0.1/callback", "openid"); tok.Status != 200 {
		t.Fatalf("login: %d %v", tok.Status, tok.Body)
	}
	before := d.count("/nostore.json")
	page := e.do(mustGet(e.url("/debug/client/" + url.PathEscape(d.url("/nostore.json")))))
	if page.Status != 200 || !strings.Contains(page.Raw, "metadata document not cached") || d.count("/nostore.json") != before {
		t.Errorf("debugger page: %d, %d fetches (had %d): %.300s", page.Status, d.count("/nostore.json"), before, page.Raw)
	}
}

// TestCacheLifetime: RFC 9111 freshness from Cache-Control, Expires and Age, within bounds.
func TestCacheLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	cases := []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{"nothing", nil, cimdDefaultTTL},
		{"max-age", []string{"Cache-Control", "max-age=120"}, 2 * time.Minute},
		{"max-age with Age", []string{"Cache-Control", "public, max-age=120", "Age", "20"}, 100 * time.Second},
		{"Age past max-age", []string{"Cache-Control", "max-age=10", "Age", "99999999999999"}, 0},
		{"no-store", []string{"Cache-Control", "max-age=120, no-store"}, 0},
		{"no-cache", []string{"Cache-Control", "no-cache"}, 0},
		{"max-age over the bound", []string{"Cache-Control", "max-age=999999999999"}, cimdMaxTTL},
		{"bad max-age", []string{"Cache-Control", "max-age=soon"}, 0},
		{"Expires", []string{"Date", date, "Expires", now.Add(time.Hour).Format(http.TimeFormat)}, time.Hour},
		{"max-age beats Expires", []string{"Cache-Control", "max-age=60", "Expires", now.Add(time.Hour).Format(http.TimeFormat)}, time.Minute},
		{"Expires in the past", []string{"Date", date, "Expires", now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"bad Expires", []string{"Expires", "0"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				h.Set(tc.headers[i], tc.headers[i+1])
			}
			if got := cacheLifetime(h, now); got != tc.want {
				t.Errorf("cacheLifetime(%v) = %s, want %s", h, got, tc.want)
			}
		})
	}
}

// TestAddressControl: the dial check refuses special-use addresses, as the dialer hands them
// over after resolution, without any connection.
func TestAddressControl(t *testing.T) {
	strict, loop := addressControl(false), addressControl(true)
	for _, tc := range []struct {
		addr        string
		strict, loo bool // allowed
	}{
		{"93.184.215.14:443", true, true},
		{"[2606:4700::1]:443", true, true},
		{"127.0.0.1:443", false, true},
		{"127.8.9.10:443", false, true},
		{"[::1]:443", false, true},
		{"[::ffff:127.0.0.1]:443", false, true},
		{"10.0.0.1:443", false, false},
		{"172.16.5.4:443", false, false},
		{"192.168.1.1:443", false, false},
		{"169.254.169.254:443", false, false},
		{"100.64.0.1:443", false, false},
		{"0.0.0.0:443", false, false},
		{"224.0.0.1:443", false, false},
		{"255.255.255.255:443", false, false},
		{"[::ffff:10.0.0.1]:443", false, false},
		{"[fe80::1%eth0]:443", false, false},
		{"[fd12::1]:443", false, false},
		{"[::]:443", false, false},
		{"[64:ff9b::a00:1]:443", false, false},
		{"[2001:db8::1]:443", false, false},
	} {
		if got := strict("tcp", tc.addr, nil) == nil; got != tc.strict {
			t.Errorf("%s: allowed %v, want %v", tc.addr, got, tc.strict)
		}
		if got := loop("tcp", tc.addr, nil) == nil; got != tc.loo {
			t.Errorf("%s with loopback allowed: allowed %v, want %v", tc.addr, got, tc.loo)
		}
	}
}

// TestCIMDOneFetchAtATime: requests that need the same uncached document at the same time
// share one fetch.
func TestCIMDOneFetchAtATime(t *testing.T) {
	d := newDocServer(t)
	gate := make(chan struct{})
	d.paths["/gated.json"] = func(w http.ResponseWriter, r *http.Request) {
		<-gate
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(strings.ReplaceAll(publicDoc, "SELF", d.url("/gated.json"))))
	}
	e := startCIMD(t, d, nil)
	const n = 8
	statuses := make(chan int, n)
	for range n {
		go func() {
			r, err := e.hc.Do(mustGet(e.url("/authorize?" + loginParams(d.url("/gated.json"), "http://127.0.0.1/callback", "openid").Encode())))
			if err != nil {
				statuses <- 0
				return
			}
			r.Body.Close()
			statuses <- r.StatusCode
		}()
	}
	waiting := func() int {
		f := e.srv.cimdFetch
		f.mu.Lock()
		defer f.mu.Unlock()
		if c := f.inflight[d.url("/gated.json")]; c != nil {
			return c.waiters
		}
		return -1
	}
	for i := 0; i < 500 && waiting() < n-1; i++ { // at most 5 s
		time.Sleep(10 * time.Millisecond)
	}
	close(gate)
	for range n {
		if s := <-statuses; s != 200 {
			t.Errorf("status %d, want the login page", s)
		}
	}
	if c := d.count("/gated.json"); c != 1 {
		t.Errorf("%d fetches for %d concurrent requests, want 1", c, n)
	}
}

// BenchmarkCIMDLookup: finding a client by its document URL once the document is cached,
// against finding a static client (the baseline, same run) and a registered one. The
// first is what CIMD adds to every request after the first fetch.
func BenchmarkCIMDLookup(b *testing.B) {
	d := newDocServer(b)
	d.serve("/app.json", publicDoc, "Cache-Control", "max-age=86400")
	_, srv := serveHTTPTest(b, func(c *Config) { c.CIMD = CIMD{Enabled: true, AllowLoopback: true, RootCAs: d.roots()} })
	ctx := context.Background()
	id := d.url("/app.json")
	if c, err := srv.lookupClient(ctx, id); err != nil || c == nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, id string }{{"static", DefaultNativeClient}, {"cimd-cached", id}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if c, err := srv.lookupClient(ctx, bc.id); err != nil || c == nil {
					b.Fatal(err)
				}
			}
		})
	}
	if n := d.count("/app.json"); n != 1 {
		b.Errorf("%d fetches, want 1", n)
	}
}
