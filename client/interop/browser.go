package interop

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Browser is a scripted HTTP browser for the provider's pages: it keeps cookies (so a
// second login is silent, thanks to the SSO session), follows redirects, and submits the
// provider's login, device and confirmation forms. It never runs scripts.
type Browser struct {
	// HTTPClient has a cookie jar; its redirects are followed (at most 20 per navigation).
	HTTPClient *http.Client
	// Login and Password are typed into the login form. node-oidc-provider's development
	// login accepts any login and any non-empty password.
	Login, Password string
	// UserCode is typed into an empty user_code field (device flow without
	// verification_uri_complete).
	UserCode string

	host string // the provider's host:port: forms are submitted only there

	submitted []string // paths of the forms submitted, in order

	mu      sync.Mutex
	done    chan struct{}
	lastURL string
	lastErr error
}

// NewBrowser returns a Browser with an empty cookie jar that signs in as user.
func (p *OIDCProvider) NewBrowser(user string) *Browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(p.Issuer)
	return &Browser{
		HTTPClient: &http.Client{Jar: jar, Timeout: 30 * time.Second},
		Login:      user,
		Password:   "any-password",
		host:       u.Host,
	}
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z_:-]+)\s*=\s*"([^"]*)"`)
	maxSteps = 8
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// Open navigates to u and submits the provider's forms until it reaches a page without one
// (the client's redirect URI, or a final page). It returns the URL of that last page.
func (b *Browser) Open(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	for step := 0; ; step++ {
		resp, err := b.HTTPClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("browser: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		at := resp.Request.URL
		if at.Host != b.host || !strings.Contains(resp.Header.Get("Content-Type"), "html") {
			return at.String(), nil
		}
		form := formRe.FindStringSubmatch(string(body))
		if form == nil || !strings.EqualFold(attrs(form[1])["method"], "post") {
			if resp.StatusCode >= 400 {
				return at.String(), fmt.Errorf("browser: %s answered %s", at, resp.Status)
			}
			return at.String(), nil
		}
		if step >= maxSteps {
			return at.String(), errors.New("browser: too many forms in a row")
		}
		fa := attrs(form[1])
		action, err := at.Parse(fa["action"])
		if err != nil {
			return "", fmt.Errorf("browser: form action: %w", err)
		}
		values := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(form[2], -1) {
			a := attrs(in[1])
			name := a["name"]
			switch {
			case name == "":
			case name == "login":
				values.Set(name, b.Login)
			case name == "password":
				values.Set(name, b.Password)
			case name == "user_code" && a["value"] == "":
				values.Set(name, b.UserCode)
			default:
				values.Set(name, a["value"])
			}
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.mu.Lock()
		b.submitted = append(b.submitted, action.Path)
		b.mu.Unlock()
	}
}

// Submitted returns the paths of the forms submitted so far, in order: a silent SSO login
// adds none.
func (b *Browser) Submitted() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.submitted...)
}

// OpenURL starts Open in the background and returns at once, so it can stand in for the
// system browser (flows.BrowserLogin.OpenURL). Wait returns its result.
func (b *Browser) OpenURL(u string) error {
	b.mu.Lock()
	done := make(chan struct{})
	b.done = done
	b.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		last, err := b.Open(ctx, u)
		b.mu.Lock()
		b.lastURL, b.lastErr = last, err
		b.mu.Unlock()
		close(done)
	}()
	return nil
}

// Wait waits for the navigation started by the latest OpenURL and returns the URL of the
// last page and the error, if any.
func (b *Browser) Wait() (string, error) {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done == nil {
		return "", errors.New("browser: OpenURL was not called")
	}
	<-done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastURL, b.lastErr
}
