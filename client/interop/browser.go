package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/dcrctl/dcrctl/flows/flowstest"
)

// Browser drives node-oidc-provider's pages with the one scripted browser of this module,
// flowstest.Browser: it keeps cookies (so a second login is silent, thanks to the SSO
// session), follows redirects, and submits the provider's login, device and confirmation
// forms. It never runs scripts.
type Browser struct {
	// HTTPClient is the browser's client, cookie jar included.
	HTTPClient *http.Client
	// Login and Password are typed into the login form. node-oidc-provider's development
	// login accepts any login and any non-empty password.
	Login, Password string
	// UserCode is typed into an empty user_code field (device flow without
	// verification_uri_complete).
	UserCode string

	host string // the provider's host:port
	b    *flowstest.Browser

	mu      sync.Mutex
	done    chan struct{}
	lastURL string
	lastErr error
}

// NewBrowser returns a Browser with an empty cookie jar that signs in as user.
func (p *OIDCProvider) NewBrowser(user string) *Browser {
	u, _ := url.Parse(p.Issuer)
	fb := flowstest.New(user, "any-password")
	return &Browser{HTTPClient: fb.Client(), Login: user, Password: "any-password", host: u.Host, b: fb}
}

// Open navigates to u and submits the provider's forms until it reaches a page without one
// (the client's redirect URI, or a final page). It returns the URL of that last page; an
// error status on one of the provider's own pages is an error.
func (b *Browser) Open(ctx context.Context, u string) (string, error) {
	b.b.Username, b.b.Password, b.b.UserCode = b.Login, b.Password, b.UserCode
	v, err := b.b.OpenContext(ctx, u)
	if err != nil {
		return v.FinalURL, fmt.Errorf("browser: %w", err)
	}
	if at, perr := url.Parse(v.FinalURL); perr == nil && at.Host == b.host && v.Status >= 400 {
		return v.FinalURL, fmt.Errorf("browser: %s answered %d", v.FinalURL, v.Status)
	}
	return v.FinalURL, nil
}

// Submitted returns the paths of the forms submitted so far, in order: a silent SSO login
// adds none.
func (b *Browser) Submitted() []string {
	var paths []string
	for _, v := range b.b.Visits() {
		paths = append(paths, v.Submitted...)
	}
	return paths
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
