// Package flowstest provides a scripted HTTP browser for tests of browser logins (RFC 8252)
// and device approvals (RFC 8628): an http.Client with a cookie jar that follows redirects —
// including the last one, to the application's loopback redirect URI — and fills in and
// submits the HTML forms it meets on the way (a login form, a consent or approval page).
//
// It speaks plain HTML forms: the login page of package testserver (see its package
// documentation, "Driving the login form") and the interaction pages of other servers such as
// node-oidc-provider. It is test code, not a browser: no JavaScript, no CSS, bounded in the
// number of pages it follows.
package flowstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Browser is a scripted browser. Create it with New; it is safe for concurrent use, though a
// test usually drives one page load at a time.
type Browser struct {
	// Username and Password are typed into every login form (a form with a password field).
	Username, Password string
	// Button chooses which submit button to press, by value or label, when a form has several
	// (a device page's "approve" or "deny"); "" presses the first.
	Button string
	// Tamper, when set, may change the URL of every redirect before it is followed — to forge
	// a state, or swap the code for an error, on the way back to the application.
	Tamper func(u *url.URL)
	// UserCode is typed into an empty user_code field (a device page reached without
	// verification_uri_complete, RFC 8628 §3.3).
	UserCode string

	client *http.Client

	mu     sync.Mutex
	visits []Visit
}

// Visit records one Open: what the browser saw.
type Visit struct {
	URL        string   // the URL opened
	LoginPages int      // forms with a password field that were filled in
	Forms      int      // forms submitted in all
	Pages      []string // every URL loaded, redirects included, in order
	FinalURL   string   // where it ended
	Status     int      // the final page's HTTP status
	Body       string   // the final page's body (at most 64 KiB)
	Submitted  []string // the paths of the forms submitted, in order
	Err        error    // a transport error, or too many forms
}

// New returns a browser with an empty cookie jar that logs in as username.
func New(username, password string) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &Browser{Username: username, Password: password}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("flowstest: more than 10 redirects")
			}
			if b.Tamper != nil {
				b.Tamper(req.URL)
			}
			return nil
		},
	}
	return b
}

// maxForms bounds the forms submitted in one Open.
const maxForms = 8

// Open loads u like a browser: following redirects and submitting forms until a page without
// a form (or the redirect URI's page) is reached. It matches flows.BrowserLogin.OpenURL; the
// Visit is recorded for Visits and Last, and its Err is returned.
func (b *Browser) Open(u string) error {
	_, err := b.OpenContext(context.Background(), u)
	return err
}

// OpenContext is Open with a context, returning the Visit too.
func (b *Browser) OpenContext(ctx context.Context, u string) (Visit, error) {
	v := Visit{URL: u}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err == nil {
		err = b.load(&v, req)
	}
	v.Err = err
	b.mu.Lock()
	b.visits = append(b.visits, v)
	b.mu.Unlock()
	return v, err
}

func (b *Browser) load(v *Visit, req *http.Request) error {
	ctx := req.Context()
	for {
		resp, err := b.client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		var chain []string
		for r := resp.Request; r != nil; r = r.Response.Request {
			chain = append([]string{r.URL.String()}, chain...)
			if r.Response == nil {
				break
			}
		}
		v.Pages = append(v.Pages, chain...)
		v.FinalURL, v.Status, v.Body = resp.Request.URL.String(), resp.StatusCode, string(body)
		f, ok := parseForm(string(body))
		if !ok || !strings.Contains(resp.Header.Get("Content-Type"), "html") {
			return nil
		}
		if v.Forms >= maxForms {
			return fmt.Errorf("flowstest: more than %d forms in one page load", maxForms)
		}
		v.Forms++
		if f.password != "" {
			v.LoginPages++
		}
		req, err = b.submit(resp.Request.URL, f)
		if err != nil {
			return err
		}
		req = req.WithContext(ctx)
		v.Submitted = append(v.Submitted, req.URL.Path)
	}
}

// Visits returns every Open so far.
func (b *Browser) Visits() []Visit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Visit(nil), b.visits...)
}

// Last returns the latest Open, or a zero Visit.
func (b *Browser) Last() Visit {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.visits) == 0 {
		return Visit{}
	}
	return b.visits[len(b.visits)-1]
}

// LoginPages counts the login forms filled in over every Open: a silent (SSO) login adds none.
func (b *Browser) LoginPages() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, v := range b.visits {
		n += v.LoginPages
	}
	return n
}

// Client is the browser's HTTP client, cookie jar included.
func (b *Browser) Client() *http.Client { return b.client }

type form struct {
	action, method string
	fields         url.Values
	password       string   // name of the password field, "" if none
	text           []string // names of text-like fields, in order
	buttons        []button
}

type button struct{ name, value, label string }

var (
	formRE    = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE   = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	buttonRE  = regexp.MustCompile(`(?is)<button\b([^>]*)>(.*?)</button>`)
	tagRE     = regexp.MustCompile(`<[^>]*>`)
	checkedRE = regexp.MustCompile(`(?i)(^|\s)checked(\s|=|$)`)
	attrRE    = regexp.MustCompile(`(?is)([a-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// parseForm finds the first form of a page.
func parseForm(page string) (form, bool) {
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		return form{}, false
	}
	fa := attrs(m[1])
	f := form{action: fa["action"], method: strings.ToUpper(fa["method"]), fields: url.Values{}}
	if f.method == "" {
		f.method = http.MethodGet
	}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		name := a["name"]
		if name == "" {
			continue
		}
		switch strings.ToLower(a["type"]) {
		case "password":
			f.password = name
		case "submit":
			f.buttons = append(f.buttons, button{name, a["value"], a["value"]})
		case "checkbox", "radio":
			if checkedRE.MatchString(in[1]) {
				f.fields.Add(name, valueOr(a["value"], "on"))
			}
		case "hidden":
			f.fields.Add(name, a["value"])
		default:
			f.text = append(f.text, name)
			f.fields.Set(name, a["value"])
		}
	}
	for _, bt := range buttonRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(bt[1])
		if t := strings.ToLower(a["type"]); t != "" && t != "submit" {
			continue
		}
		label := strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(bt[2], "")))
		f.buttons = append(f.buttons, button{a["name"], a["value"], label})
	}
	return f, true
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// submit fills in the form and builds its request.
func (b *Browser) submit(base *url.URL, f form) (*http.Request, error) {
	if b.UserCode != "" && slices.Contains(f.text, "user_code") && f.fields.Get("user_code") == "" {
		f.fields.Set("user_code", b.UserCode)
	}
	if f.password != "" {
		f.fields.Set(f.password, b.Password)
		for _, n := range f.text {
			switch strings.ToLower(n) {
			case "username", "login", "user", "email":
				f.fields.Set(n, b.Username)
			}
		}
	}
	if len(f.buttons) > 0 {
		pick := f.buttons[0]
		for _, bt := range f.buttons {
			if b.Button != "" && (strings.EqualFold(bt.value, b.Button) || strings.EqualFold(bt.label, b.Button)) {
				pick = bt
			}
		}
		if pick.name != "" {
			f.fields.Set(pick.name, pick.value)
		}
	}
	action, err := base.Parse(f.action)
	if err != nil {
		return nil, fmt.Errorf("flowstest: form action %q: %w", f.action, err)
	}
	if f.method == http.MethodPost {
		req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.fields.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	action.RawQuery = f.fields.Encode()
	return http.NewRequest(http.MethodGet, action.String(), nil)
}

// Buffer is a bytes.Buffer safe for concurrent use: a status or log writer that a test reads
// while the code under test still writes to it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset empties the buffer.
func (s *Buffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
