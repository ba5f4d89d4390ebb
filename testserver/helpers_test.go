package testserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// env is a running server for one test.
type env struct {
	t   *testing.T
	srv *Server
	hs  *httptest.Server
	cfg Config // effective
	now *time.Time
	hc  *http.Client
}

// serveHTTPTest runs a Server under httptest with DefaultConfig (Issuer: the listener)
// changed by mut, until the test ends. It is this package's copy of servertest.Start, which
// the package's own tests cannot import (servertest imports this package).
func serveHTTPTest(tb testing.TB, mut func(*Config)) (*httptest.Server, *Server) {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	cfg := DefaultConfig()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	if mut != nil {
		mut(&cfg)
	}
	b := replicas(tb, cfg)
	hs.Config.Handler = b.handler()
	hs.Start()
	tb.Cleanup(func() {
		hs.Close()
		b.close(tb)
	})
	return hs, b.first
}

// start runs a Server under httptest with DefaultConfig on a fixed clock, changed by mut.
func start(t *testing.T, mut func(*Config)) *env {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := &env{t: t, now: &now}
	hs, srv := serveHTTPTest(t, func(cfg *Config) {
		cfg.Now = func() time.Time { return *e.now }
		if mut != nil {
			mut(cfg)
		}
	})
	jar, _ := cookiejar.New(nil)
	e.srv, e.hs, e.cfg = srv, hs, srv.Config()
	e.hc = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

func (e *env) url(p string) string { return e.srv.Issuer() + p }

func (e *env) advance(d time.Duration) { *e.now = e.now.Add(d) }

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	res, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.Body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v", req.Method, req.URL.Path, err)
		}
	}
	return r
}

func (e *env) form(path string, v url.Values, user, pass string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return e.do(req)
}

func (e *env) jsonReq(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.url(path)
	}
	req, _ := http.NewRequest(method, u, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

// bootstrapToken gets a client-credentials token for the bootstrap client.
func (e *env) bootstrapToken(scope string) string {
	e.t.Helper()
	c := e.cfg.Clients[0]
	r := e.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, c.ClientID, c.ClientSecret)
	if r.Status != 200 {
		e.t.Fatalf("client credentials: %d %s", r.Status, r.Raw)
	}
	return r.Body["access_token"].(string)
}

// register registers md with a fresh bootstrap token (or none in open mode).
func (e *env) register(md any) resp {
	e.t.Helper()
	tok := ""
	if e.srv.mode == ModeClient {
		tok = e.bootstrapToken("dcr")
	}
	return e.jsonReq(http.MethodPost, "/register", tok, md)
}

func str(v any) string { s, _ := v.(string); return s }

var verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 Appendix B

func loginParams(clientID, redirect, scope string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"st-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// hiddenFields extracts the hidden inputs of the login form, the way a scripted browser does.
func hiddenFields(html string) url.Values {
	v := url.Values{}
	re := regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	for _, m := range re.FindAllStringSubmatch(html, -1) {
		v.Add(m[1], stdhtml.UnescapeString(m[2]))
	}
	return v
}

// browserLogin GETs the authorization URL; if a login form comes back, it fills it in and posts it.
func (e *env) browserLogin(p url.Values, user, pass string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
	r := e.do(req)
	if r.Status != 200 || !strings.Contains(r.Raw, `id="login"`) {
		return r
	}
	f := hiddenFields(r.Raw)
	f.Set("username", user)
	f.Set("password", pass)
	req, _ = http.NewRequest(http.MethodPost, e.url("/authorize"), strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// newJSON builds a registration POST.
func (e *env) newJSON(token string, body any) *http.Request {
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.url("/register"), bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// callback parses the Location of an authorization response.
func callback(t *testing.T, r resp) url.Values {
	t.Helper()
	if r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
		t.Fatalf("authorization response: %d %.900s", r.Status, r.Raw)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// codeLogin logs in as the demo user with the public client clientID and redeems the code.
func (e *env) codeLogin(t *testing.T, clientID, redirect, scope string) resp {
	t.Helper()
	q := callback(t, e.browserLogin(loginParams(clientID, redirect, scope), DefaultUser, DefaultUserPassword))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {clientID}}, "", "")
}

// jwtClaims decodes a JWT's claims without verifying it (verification is tested separately).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func sprintf(f string, v any) string { return fmt.Sprintf(f, v) }

// decideDevice drives the device user page as a browser (GET, then POST the form) as the demo
// user; action is "approve" or "deny".
func (e *env) decideDevice(userCode, action string) resp {
	req, _ := http.NewRequest(http.MethodGet, e.url("/device?user_code="+url.QueryEscape(userCode)), nil)
	page := e.do(req)
	f := hiddenFields(page.Raw)
	f.Set("user_code", strings.ToLower(userCode))
	f.Set("username", DefaultUser)
	f.Set("password", DefaultUserPassword)
	f.Set("action", action)
	post, _ := http.NewRequest(http.MethodPost, e.url("/device"), strings.NewReader(f.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(post)
}
