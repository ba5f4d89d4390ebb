package flows

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// recorder wraps an opener and remembers the URLs it was asked to open.
type recorder struct {
	mu   sync.Mutex
	urls []string
	open func(string) error
	wg   sync.WaitGroup
}

func (r *recorder) Open(u string) error {
	r.wg.Add(1)
	defer r.wg.Done()
	r.mu.Lock()
	r.urls = append(r.urls, u)
	r.mu.Unlock()
	if r.open == nil {
		return nil
	}
	return r.open(u)
}

// wait waits for the opener (the scripted browser) to finish its page load.
func (r *recorder) wait() { r.wg.Wait() }

func (r *recorder) last(t *testing.T) *url.URL {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.urls) == 0 {
		t.Fatal("the opener was never called")
	}
	u, err := url.Parse(r.urls[len(r.urls)-1])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authShape is an authorization request with its random values reduced to their length.
type authShape struct {
	Path, ResponseType, ClientID, RedirectHost, RedirectPath, Scope, Method, Prompt string
	StateLen, ChallengeLen                                                          int
	Others                                                                          string
}

func shapeAuth(u *url.URL) authShape {
	q := u.Query()
	r, _ := url.Parse(q.Get("redirect_uri"))
	s := authShape{
		Path: u.Path, ResponseType: q.Get("response_type"), ClientID: q.Get("client_id"),
		RedirectHost: r.Hostname(), RedirectPath: r.Path, Scope: q.Get("scope"),
		Method: q.Get("code_challenge_method"), Prompt: q.Get("prompt"),
		StateLen: len(q.Get("state")), ChallengeLen: len(q.Get("code_challenge")),
	}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "code_challenge_method", "prompt", "state", "code_challenge"} {
		q.Del(k)
	}
	s.Others = q.Encode()
	return s
}

// listenerClosed reports whether nothing accepts connections any more at the redirect URI of
// the authorization URL u.
func listenerClosed(t *testing.T, u *url.URL) bool {
	t.Helper()
	r, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", r.Host, time.Second)
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}

func TestBrowserLoginSSO(t *testing.T) {
	issuer, _ := startServer(t, nil)
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	type step struct {
		name       string
		force      bool
		wantPrompt string
		wantLogins int
	}
	for _, st := range []step{
		{name: "first login shows the login page", wantLogins: 1},
		{name: "second login is silent (SSO)", wantLogins: 0},
		{name: "--force-login asks again", force: true, wantPrompt: "login", wantLogins: 1},
		{name: "and the session still works afterwards", wantLogins: 0},
	} {
		t.Run(st.name, func(t *testing.T) {
			rec := &recorder{open: br.Open}
			status := &flowstest.Buffer{}
			tok, err := BrowserLogin{
				Issuer: issuer, ClientID: testserver.DefaultNativeClient, ForceLogin: st.force,
				OpenURL: rec.Open, Status: status, Timeout: 30 * time.Second, Now: clock,
			}.Token(context.Background())
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			// The native client may use refresh tokens, and the server issues one with every code.
			want := &tokenShape{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: fixedNow.Add(time.Hour)}
			if got := shape(tok); *got != *want {
				t.Errorf("token\n got: %+v\nwant: %+v", got, want)
			}
			au := rec.last(t)
			wantAuth := authShape{
				Path: "/authorize", ResponseType: "code", ClientID: testserver.DefaultNativeClient,
				RedirectHost: "127.0.0.1", RedirectPath: "/callback", Scope: "dcr", Method: "S256",
				Prompt: st.wantPrompt, StateLen: 43, ChallengeLen: 43,
			}
			if got := shapeAuth(au); got != wantAuth {
				t.Errorf("authorization request\n got: %+v\nwant: %+v", got, wantAuth)
			}
			rec.wait()
			v := br.Last()
			if v.LoginPages != st.wantLogins || v.Status != http.StatusOK || !strings.Contains(v.Body, "You can close this window") {
				t.Errorf("browser: %d login pages (want %d), final status %d, body %q", v.LoginPages, st.wantLogins, v.Status, v.Body)
			}
			if !strings.Contains(status.String(), au.String()) {
				t.Errorf("the URL was not printed to Status: %q", status.String())
			}
			if !listenerClosed(t, au) {
				t.Errorf("the loopback listener is still up after Token returned")
			}
		})
	}
}

func TestBrowserLoginFailures(t *testing.T) {
	issuer, _ := startServer(t, nil)
	isCallback := func(u *url.URL) bool { return u.Hostname() == "127.0.0.1" && u.Path == CallbackPath }
	cases := []struct {
		name      string
		login     BrowserLogin
		tamper    func(u *url.URL)
		noOpen    bool   // the user never finishes
		addParams string // appended to the authorization URL by the browser
		want      error
		wantErr   *errShape
		wantPage  int // the callback page's status, 0 = not reached
		wantMatch []error
	}{
		{
			name: "state mismatch",
			tamper: func(u *url.URL) {
				if isCallback(u) {
					q := u.Query()
					q.Set("state", "forged-state")
					u.RawQuery = q.Encode()
				}
			},
			want:     ErrStateMismatch,
			wantPage: http.StatusBadRequest,
		},
		{
			name: "state missing",
			tamper: func(u *url.URL) {
				if isCallback(u) {
					q := u.Query()
					q.Del("state")
					u.RawQuery = q.Encode()
				}
			},
			want:     ErrStateMismatch,
			wantPage: http.StatusBadRequest,
		},
		{
			name: "iss from another issuer (RFC 9207)",
			tamper: func(u *url.URL) {
				if isCallback(u) {
					q := u.Query()
					q.Set("iss", "https://evil.example")
					u.RawQuery = q.Encode()
				}
			},
			want:     ErrIssuerMismatch,
			wantPage: http.StatusBadRequest,
		},
		{
			// dcrctl serve advertises authorization_response_iss_parameter_supported.
			name: "iss missing although advertised (RFC 9207)",
			tamper: func(u *url.URL) {
				if isCallback(u) {
					q := u.Query()
					q.Del("iss")
					u.RawQuery = q.Encode()
				}
			},
			want:     ErrIssuerMissing,
			wantPage: http.StatusBadRequest,
		},
		{
			name: "error callback: access_denied",
			tamper: func(u *url.URL) {
				if isCallback(u) {
					q := u.Query()
					u.RawQuery = url.Values{"error": {"access_denied"}, "error_description": {"the user said no"}, "state": {q.Get("state")},
						"iss": {q.Get("iss")}}.Encode()
				}
			},
			wantErr:   &errShape{Op: "login", Code: "access_denied", HasDescription: true},
			wantPage:  http.StatusBadRequest,
			wantMatch: []error{&Error{Code: "access_denied"}},
		},
		{
			// BrowserLogin never sends prompt=none; the "browser" adds it to get the server's
			// own error redirect.
			name:      "error callback from the server: prompt=none without a session",
			addParams: "&prompt=none",
			wantErr:   &errShape{Op: "login", Code: "login_required", HasDescription: true},
			wantPage:  http.StatusBadRequest,
			wantMatch: []error{&Error{Code: "login_required"}},
		},
		{
			name:      "the code is refused: invalid_grant from the code exchange",
			tamper:    func(u *url.URL) { swapCode(u, isCallback) },
			wantErr:   &errShape{Op: "code exchange", StatusCode: 400, Code: "invalid_grant", HasDescription: true},
			wantPage:  http.StatusOK,
			wantMatch: []error{&Error{Code: "invalid_grant"}},
		},
		{
			name:      "timeout: the user never finishes",
			login:     BrowserLogin{Timeout: 300 * time.Millisecond},
			noOpen:    true,
			want:      &TimeoutError{Op: "login", After: 300 * time.Millisecond},
			wantMatch: []error{context.DeadlineExceeded},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			br.Tamper = tc.tamper
			rec := &recorder{}
			if !tc.noOpen {
				rec.open = br.Open
			}
			l := tc.login
			l.Issuer, l.ClientID, l.OpenURL, l.Now = issuer, testserver.DefaultNativeClient, rec.Open, clock
			if l.Timeout == 0 {
				l.Timeout = 30 * time.Second
			}
			if tc.addParams != "" {
				rec.open = func(s string) error { return br.Open(s + tc.addParams) }
			}
			tok, err := l.Token(context.Background())
			if tok != nil {
				t.Errorf("got a token, want an error")
			}
			if tc.want != nil {
				var te *TimeoutError
				if errors.As(tc.want, &te) {
					var got *TimeoutError
					if !errors.As(err, &got) || *got != *te {
						t.Errorf("error: got %v, want %v", err, tc.want)
					}
				} else if err != tc.want {
					t.Errorf("error: got %v, want %v", err, tc.want)
				}
			}
			if tc.wantErr != nil {
				if got := shapeErr(err); !equalPtr(got, tc.wantErr) {
					t.Errorf("error\n got: %+v (%v)\nwant: %+v", got, err, tc.wantErr)
				}
			}
			for _, m := range tc.wantMatch {
				if !errors.Is(err, m) {
					t.Errorf("errors.Is(%v, %v) = false", err, m)
				}
			}
			rec.wait()
			if got := br.Last().Status; !tc.noOpen && got != tc.wantPage {
				t.Errorf("callback page status: got %d, want %d (%q)", got, tc.wantPage, br.Last().Body)
			}
			if !listenerClosed(t, rec.last(t)) {
				t.Errorf("the loopback listener is still up")
			}
		})
	}
}

// swapCode replaces the code on the way to the callback with one the server never issued.
func swapCode(u *url.URL, isCallback func(*url.URL) bool) {
	if isCallback(u) {
		q := u.Query()
		q.Set("code", "not-a-code-the-server-issued")
		u.RawQuery = q.Encode()
	}
}

// TestBrowserLoginStrayRequests sends what browsers send besides the redirect — a favicon,
// a HEAD, a prefetch, a POST, a visit without parameters, another path — before the real
// redirect, and checks that each is answered and ignored.
func TestBrowserLoginStrayRequests(t *testing.T) {
	issuer, _ := startServer(t, nil)
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	type stray struct {
		method, path string
		header       http.Header
		want         int
	}
	strays := []stray{
		{method: "GET", path: "/favicon.ico", want: 404},
		{method: "HEAD", path: "/callback?code=c&state=s", want: 405},
		{method: "GET", path: "/callback?code=c&state=s", header: http.Header{"Sec-Purpose": {"prefetch"}}, want: 503},
		{method: "GET", path: "/callback?code=c&state=s", header: http.Header{"Purpose": {"prefetch"}}, want: 503},
		{method: "POST", path: "/callback?code=c&state=s", want: 405},
		{method: "GET", path: "/callback", want: 400},
		{method: "GET", path: "/callback/?code=c&state=s", want: 404},
		{method: "GET", path: "/", want: 404},
	}
	var got []int
	rec := &recorder{}
	rec.open = func(u string) error {
		au, _ := url.Parse(u)
		base := au.Query().Get("redirect_uri")
		base = strings.TrimSuffix(base, CallbackPath)
		for _, s := range strays {
			req, _ := http.NewRequest(s.method, base+s.path, nil)
			for k, v := range s.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				got = append(got, -1)
				continue
			}
			drain(resp.Body)
			got = append(got, resp.StatusCode)
		}
		return br.Open(u)
	}
	tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, OpenURL: rec.Open, Timeout: 30 * time.Second}.Token(context.Background())
	rec.wait()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("Token: %v", err)
	}
	var want []int
	for _, s := range strays {
		want = append(want, s.want)
	}
	if strconvInts(got) != strconvInts(want) {
		t.Errorf("stray requests answered %v, want %v", got, want)
	}
}

func strconvInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

// TestBrowserLoginCancel cancels the context (Ctrl-C) while the flow waits for the browser.
func TestBrowserLoginCancel(t *testing.T) {
	issuer, _ := startServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{open: func(string) error { cancel(); return nil }}
	tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, OpenURL: rec.Open}.Token(ctx)
	var te *TimeoutError
	if tok != nil || !errors.Is(err, context.Canceled) || errors.As(err, &te) || err.Error() != "flows: login: context canceled" {
		t.Fatalf("got %v, %v; want an error wrapping context.Canceled", tok, err)
	}
	if !listenerClosed(t, rec.last(t)) {
		t.Errorf("the loopback listener is still up")
	}
}

// TestBrowserLoginNoBrowser: with NoBrowser the URL is only printed; the user opens it.
// A failing opener is reported on Status and the login goes on the same way.
func TestBrowserLoginNoBrowser(t *testing.T) {
	issuer, _ := startServer(t, nil)
	for _, tc := range []struct {
		name       string
		noBrowser  bool
		opener     func(string) error
		wantStatus string
	}{
		{name: "NoBrowser", noBrowser: true, opener: func(string) error { return errors.New("must not be called") }},
		{name: "opener fails", opener: func(string) error { return ErrNoBrowser },
			wantStatus: "Could not open a browser (" + ErrNoBrowser.Error() + "); open the URL above yourself.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			status := &flowstest.Buffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The "user" reads the URL from the terminal and opens it.
			go func() {
				for ctx.Err() == nil {
					s := status.String()
					if i := strings.Index(s, "http://"); i >= 0 && strings.Contains(s[i:], "\n") {
						_ = br.Open(strings.TrimSpace(s[i : i+strings.Index(s[i:], "\n")]))
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, NoBrowser: tc.noBrowser,
				OpenURL: tc.opener, Status: status}.Token(ctx)
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("Token: %v", err)
			}
			s := status.String()
			au := s[strings.Index(s, "http://"):]
			au = au[:strings.Index(au, "\n")]
			want := "Open this URL in your browser to log in:\n\n  " + au + "\n\n" + tc.wantStatus
			if s != want {
				t.Errorf("status\n got: %q\nwant: %q", s, want)
			}
		})
	}
}

// TestBrowserLoginCallbackPort listens on the port asked for, and says so when it is taken.
func TestBrowserLoginCallbackPort(t *testing.T) {
	issuer, _ := startServer(t, nil)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	free, _ := net.Listen("tcp", "127.0.0.1:0")
	port := free.Addr().(*net.TCPAddr).Port
	_ = free.Close()

	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	rec := &recorder{open: br.Open}
	tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, CallbackPort: port, OpenURL: rec.Open}.Token(context.Background())
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("Token on port %d: %v", port, err)
	}
	if got, want := rec.last(t).Query().Get("redirect_uri"), "http://127.0.0.1:"+strconv.Itoa(port)+"/callback"; got != want {
		t.Errorf("redirect_uri %q, want %q", got, want)
	}

	_, err = BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, CallbackPort: busyPort, OpenURL: rec.Open}.Token(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "flows: login: cannot listen on 127.0.0.1 port "+strconv.Itoa(busyPort)+" for the browser's redirect: ") ||
		!strings.HasSuffix(err.Error(), "(free the port, or choose another callback port)") {
		t.Errorf("busy port: got %v", err)
	}
}

// TestMobilePattern is the user-authenticated registration of DESIGN.md: a browser login with
// scope dcr, a registration with that token, then a login as the new instance — public and
// confidential — that is silent thanks to the SSO session.
func TestMobilePattern(t *testing.T) {
	issuer, _ := startServer(t, func(c *testserver.Config) { c.Registration = testserver.ModeUser })
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	rec := &recorder{open: br.Open} // rec.wait(): the browser has recorded its visit
	ctx := context.Background()

	tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, OpenURL: rec.Open, Now: clock}.Token(ctx)
	rec.wait()
	if err != nil {
		t.Fatalf("login as %s: %v", testserver.DefaultNativeClient, err)
	}
	if br.LoginPages() != 1 {
		t.Fatalf("first login: %d login pages, want 1", br.LoginPages())
	}
	cl := &client.Client{}
	md, err := cl.Discover(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	public, err := cl.RegisterTemplate(ctx, md.RegistrationEndpoint, tok.AccessToken, testserver.DefaultTemplate, client.Metadata{})
	if err != nil {
		t.Fatalf("register from template: %v", err)
	}
	// A second registration needs a second initial access token (single use by default): the
	// login for it is silent too.
	tok2, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, OpenURL: rec.Open}.Token(ctx)
	rec.wait()
	if err != nil {
		t.Fatal(err)
	}
	confidential, err := cl.Register(ctx, md.RegistrationEndpoint, tok2.AccessToken, client.Metadata{
		ClientName: "confidential instance", RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: AuthClientSecretBasic, Scope: "openid profile",
	})
	if err != nil {
		t.Fatalf("register confidential client: %v", err)
	}
	if confidential.ClientSecret == "" {
		t.Fatal("the confidential client got no secret")
	}

	for _, tc := range []struct {
		name    string
		l       BrowserLogin
		refresh bool // the template allows refresh_token; the confidential client does not
	}{
		{"public instance", BrowserLogin{ClientID: public.ClientID, Scopes: []string{"openid", "profile"}}, true},
		{"confidential instance", BrowserLogin{ClientID: confidential.ClientID, ClientSecret: confidential.ClientSecret, Scopes: []string{"openid", "profile"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := br.LoginPages()
			l := tc.l
			l.Issuer, l.OpenURL, l.Now = issuer, rec.Open, clock
			got, err := l.Token(ctx)
			rec.wait()
			if err != nil {
				t.Fatalf("login as the instance: %v", err)
			}
			want := &tokenShape{AccessToken: true, RefreshToken: tc.refresh, IDToken: true, TokenType: "Bearer", Scope: "openid profile", ExpiresIn: 3600, Expiry: fixedNow.Add(time.Hour)}
			if s := shape(got); *s != *want {
				t.Errorf("token\n got: %+v\nwant: %+v", s, want)
			}
			if n := br.LoginPages() - before; n != 0 {
				t.Errorf("the login as the instance showed %d login pages; want none (SSO)", n)
			}
		})
	}
}

// TestBrowserLoginLoopbackRedirects: any loopback redirect URI registered for the client
// works — 127.0.0.1, [::1], localhost, any path — and one with a port is used on that port,
// which a server matching ports exactly (against RFC 8252 §7.3) requires.
func TestBrowserLoginLoopbackRedirects(t *testing.T) {
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	fixed := free.Addr().(*net.TCPAddr).Port
	_ = free.Close()
	uris := []string{"http://localhost/any/path", "http://127.0.0.1/deep/er/path", "http://127.0.0.1:" + strconv.Itoa(fixed) + "/fixed"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		uris = append(uris, "http://[::1]/v6")
	} else if os.Getenv("CI") == "true" {
		t.Errorf("no IPv6 loopback here, so [::1] is not tested: %v", err)
	}
	for _, anyPort := range []bool{true, false} {
		for _, reg := range uris {
			_, port, _, _ := parseLoopback(reg)
			if !anyPort && port == "" {
				continue // a strict server cannot accept a login on a port-less registration
			}
			t.Run(fmt.Sprintf("any port %v %s", anyPort, reg), func(t *testing.T) {
				issuer, _ := startServer(t, func(c *testserver.Config) {
					c.Switches = map[string]any{"allow_localhost": true, "loopback_any_port": anyPort}
					c.Clients = append(c.Clients, testserver.ClientConfig{ClientID: "native2", TokenEndpointAuthMethod: "none",
						GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{reg}, Scope: "openid"})
				})
				picked, err := PickLoopbackRedirect([]string{"https://app.example/cb", reg})
				if err != nil || picked != reg {
					t.Fatalf("PickLoopbackRedirect = %q, %v", picked, err)
				}
				br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
				rec := &recorder{open: br.Open}
				tok, err := BrowserLogin{Issuer: issuer, ClientID: "native2", RedirectURI: reg, Scopes: []string{"openid"},
					OpenURL: rec.Open, Timeout: 5 * time.Second}.Token(context.Background())
				rec.wait()
				if err != nil || tok.AccessToken == "" {
					t.Fatalf("login: %v", err)
				}
				sent, _ := url.Parse(rec.last(t).Query().Get("redirect_uri"))
				want, _ := url.Parse(reg)
				if sent.Hostname() != want.Hostname() || sent.Path != want.Path || (want.Port() != "" && sent.Port() != want.Port()) {
					t.Errorf("redirect_uri %s for registered %s", sent, reg)
				}
			})
		}
	}
}

// TestBrowserLoginRedirectURIPortError: against a server that matches ports exactly, a
// login on a port-less registration cannot come back; the error says the registered URI has
// no port and how to register one.
func TestBrowserLoginRedirectURIPortError(t *testing.T) {
	issuer, _ := startServer(t, func(c *testserver.Config) {
		c.Switches = map[string]any{"loopback_any_port": false}
		c.Clients = append(c.Clients, testserver.ClientConfig{ClientID: "native3", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"http://127.0.0.1/cb"}, Scope: "openid"})
	})
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	rec := &recorder{open: br.Open}
	_, err := BrowserLogin{Issuer: issuer, ClientID: "native3", RedirectURI: "http://127.0.0.1/cb", Scopes: []string{"openid"},
		OpenURL: rec.Open, Timeout: 2 * time.Second}.Token(context.Background())
	rec.wait()
	var re *RedirectURIError
	var te *TimeoutError
	if !errors.As(err, &re) || re.RegisteredHasPort || !errors.As(err, &te) ||
		!strings.Contains(err.Error(), "but the registered http://127.0.0.1/cb has no port: if the server refused the redirect URI, it may require the exact port, against RFC 8252 §7.3; register a redirect URI with a fixed port, such as http://127.0.0.1:8765/cb, and log in on that port") {
		t.Fatalf("error = %v", err)
	}
}
