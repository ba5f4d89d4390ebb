package testserver

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeAddrListener is a loopback listener that reports another address, so that Serve's
// access rule for non-loopback listeners can be tested without leaving loopback.
type fakeAddrListener struct {
	net.Listener
	addr net.Addr
}

func (l fakeAddrListener) Addr() net.Addr { return l.addr }

// debugServeOn runs the server of e with Serve on a new loopback listener reporting addr; it
// returns the real base URL.
func debugServeOn(t *testing.T, srv *Server, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	real := ln.Addr().String()
	fake, _ := net.ResolveTCPAddr("tcp", addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, fakeAddrListener{ln, fake}) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + real
}

func getStatus(t *testing.T, hc *http.Client, u, host, user, pass string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if host != "" {
		req.Host = host
	}
	if pass != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header
}

func TestDebugAccess(t *testing.T) {
	type tc struct {
		name       string
		page       DebugPage
		listenAddr string // "" : httptest on loopback; else Serve with a listener reporting this
		host       string // Host header; "" keeps the URL's
		user, pass string
		want       int
	}
	for _, c := range []tc{
		{name: "loopback, no password: on", want: 200},
		{name: "off", page: DebugPage{Off: true}, want: 404},
		{name: "loopback with password, none given", page: DebugPage{Password: "s3cret-debug-pw"}, want: 401},
		{name: "loopback with password, wrong", page: DebugPage{Password: "s3cret-debug-pw"}, user: "x", pass: "nope", want: 401},
		{name: "loopback with password, right", page: DebugPage{Password: "s3cret-debug-pw"}, user: "any", pass: "s3cret-debug-pw", want: 200},
		{name: "foreign Host (DNS rebinding)", host: "evil.example:8414", want: 404},
		{name: "Serve on loopback", listenAddr: "127.0.0.1:8414", want: 200},
		{name: "Serve on non-loopback, no password: off", listenAddr: "192.0.2.10:8414", want: 404},
		{name: "Serve on all interfaces, no password: off", listenAddr: "0.0.0.0:8414", want: 404},
		{name: "Serve on non-loopback with password, none given", listenAddr: "192.0.2.10:8414", page: DebugPage{Password: "s3cret-debug-pw"}, want: 401},
		{name: "Serve on non-loopback with password", listenAddr: "192.0.2.10:8414", page: DebugPage{Password: "s3cret-debug-pw"}, user: "u", pass: "s3cret-debug-pw", want: 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := start(t, func(cfg *Config) { cfg.DebugPage = c.page })
			base := e.url("")
			if c.listenAddr != "" {
				base = debugServeOn(t, e.srv, c.listenAddr)
			}
			got, h := getStatus(t, e.hc, base+"/debug", c.host, c.user, c.pass)
			if got != c.want {
				t.Fatalf("GET /debug: %d, want %d", got, c.want)
			}
			if c.want == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %q", h.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestDebugPageStringHidesPassword(t *testing.T) {
	got := DebugPage{Password: "s3cret-debug-pw", Exchanges: 5}.String()
	if want := "DebugPage{Off:false Password:[redacted] Exchanges:5}"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

var revokeForm = regexp.MustCompile(`<form class="inline" method="post" action="([^"]+)"><input type="hidden" name="csrf_token" value="([^"]+)"><input type="hidden" name="what" value="token"><input type="hidden" name="ref" value="(\d+)">`)

func TestDebugRevokeCSRF(t *testing.T) {
	e := start(t, nil)
	tok := e.bootstrapToken("dcr")
	page := e.do(mustReq(t, http.MethodGet, e.url("/debug/client/"+DefaultBootstrapClient), nil))
	m := revokeForm.FindStringSubmatch(page.Raw)
	if page.Status != 200 || m == nil {
		t.Fatalf("client page: %d, revoke form found: %v\n%.2000s", page.Status, m != nil, page.Raw)
	}
	csrf, ref := m[2], m[3]
	post := func(hc *http.Client, csrf, origin string) int {
		t.Helper()
		f := url.Values{"csrf_token": {csrf}, "what": {"token"}, "ref": {ref}, "back": {"/debug"}}
		req := mustReq(t, http.MethodPost, e.url("/debug/revoke"), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	active := func() bool {
		r := e.form("/introspect", url.Values{"token": {tok}}, e.cfg.Clients[0].ClientID, e.cfg.Clients[0].ClientSecret)
		return r.Body["active"] == true
	}
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, Timeout: 5 * time.Second, CheckRedirect: e.hc.CheckRedirect}
	if got := post(other, csrf, ""); got != http.StatusForbidden {
		t.Errorf("POST without the CSRF cookie: %d, want 403", got)
	}
	if got := post(e.hc, "wrong"+csrf, ""); got != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF value: %d, want 403", got)
	}
	if got := post(e.hc, csrf, "http://evil.example"); got != http.StatusForbidden {
		t.Errorf("POST from another origin: %d, want 403", got)
	}
	if !active() {
		t.Fatal("the token was revoked by a refused POST")
	}
	if got := post(e.hc, csrf, e.url("")); got != http.StatusSeeOther {
		t.Fatalf("POST from the page: %d, want 303", got)
	}
	if active() {
		t.Fatal("the token is still active after the revoke button")
	}
}

func mustReq(t *testing.T, method, u string, body interface{ Read([]byte) (int, error) }) *http.Request {
	t.Helper()
	var req *http.Request
	var err error
	if body == nil {
		req, err = http.NewRequest(method, u, nil)
	} else {
		req, err = http.NewRequest(method, u, body)
	}
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestDebugLogBoundedAndMasked(t *testing.T) {
	e := start(t, func(c *Config) { c.DebugPage.Exchanges = 3 })
	var secrets []string
	for range 5 {
		secrets = append(secrets, e.bootstrapToken("dcr"))
	}
	r := e.register(map[string]any{"redirect_uris": []string{"http://127.0.0.1/cb"}, "client_name": "bounded"})
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	secrets = append(secrets, str(r.Body["client_secret"]), str(r.Body["registration_access_token"]), e.cfg.Clients[0].ClientSecret)
	got := e.srv.debug.log.exchanges(func(*exchange) bool { return true })
	var kinds []string
	for _, x := range got {
		kinds = append(kinds, x.Kind)
	}
	if want := "registration,token request (client_credentials),token request (client_credentials)"; strings.Join(kinds, ",") != want {
		t.Fatalf("kept %q, want %q", strings.Join(kinds, ","), want)
	}
	page := e.do(mustReq(t, http.MethodGet, e.url("/debug"), nil))
	for _, x := range got {
		for _, s := range secrets {
			if strings.Contains(x.Request+x.Response+x.Path, s) {
				t.Errorf("exchange %q holds a clear secret", x.Kind)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(page.Raw, s) {
			t.Errorf("the page holds a clear secret")
		}
	}
	for _, s := range []string{str(r.Body["client_secret"]), str(r.Body["registration_access_token"])} {
		if !strings.Contains(page.Raw, "••••"+s[len(s)-4:]) {
			t.Errorf("the page does not show the registration's secret ending %q masked", s[len(s)-4:])
		}
	}
}

func TestMaskSecret(t *testing.T) {
	for in, want := range map[string]string{"": "", "demo": "••••", "0123456789abcde": "••••", "0123456789abcdefXYZW": "••••XYZW"} {
		if got := maskSecret(in); got != want {
			t.Errorf("maskSecret(%q) = %q, want %q", in, got, want)
		}
	}
	for name, want := range map[string]bool{"client_secret": true, "client_secret_expires_at": false, "registration_access_token": true,
		"access_token": true, "refresh_token": true, "code": true, "code_challenge": false, "code_verifier": true, "password": true,
		"username": false, "client_id": false, "software_statement": true, "csrf_token": true, "state": false} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// A live-update stream neither outlives the server's write timeout nor holds up a graceful
// shutdown.
func TestDebugEventsEndOnShutdown(t *testing.T) {
	e := start(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	hc := &http.Client{Timeout: 30 * time.Second} // bounds the reads below
	res, err := hc.Get("http://" + ln.Addr().String() + "/debug/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, ct)
	}
	// One exchange arrives as an event.
	e.bootstrapToken("dcr")
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "event: exchange") {
		n, err := res.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended before an event: %v\n%s", err, got.String())
		}
	}
	if !strings.Contains(got.String(), `data-kind="token request (client_credentials)"`) {
		t.Errorf("the event is not the token request:\n%s", got.String())
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Serve did not return: the live stream holds up the shutdown")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a live stream open", d)
	}
}
