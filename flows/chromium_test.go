package flows

import (
	"context"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/testserver"
)

const chromiumPath = "/usr/bin/chromium"

// chromium is a real headless Chromium driven through chromedp, used as the system browser.
// It records every navigation that commits in the main frame, so a test can see which pages
// the user was shown.
type chromium struct {
	t   *testing.T
	ctx context.Context

	mu        sync.Mutex
	committed []string // paths of committed main-frame navigations, in order
}

func startChromium(t *testing.T) *chromium {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	requireComponent(t, err == nil, "Chromium at "+chromiumPath+" (Debian package chromium)")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	c := &chromium{t: t, ctx: ctx}
	err = chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdppage.EventFrameNavigated); ok && e.Frame.ParentID == "" {
			if u, err := url.Parse(e.Frame.URL); err == nil {
				c.mu.Lock()
				c.committed = append(c.committed, u.Path)
				c.mu.Unlock()
			}
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return c
}

// navigations returns and forgets the committed navigations so far.
func (c *chromium) navigations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.committed
	c.committed = nil
	return n
}

// open is a BrowserLogin.OpenURL: it loads u in the tab; if the server shows its login form,
// it types the demo user's credentials and submits, like a user would; it returns once the
// tab shows the loopback redirect URI's page.
func (c *chromium) open(u string) error {
	ctx, cancel := context.WithTimeout(c.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return err
	}
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		return err
	}
	if path == "/authorize" {
		err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), testserver.DefaultUser),
			chromedp.SendKeys(chromedp.CSS(`#password`), testserver.DefaultUserPassword),
			chromedp.Click(chromedp.CSS(`form#login button[type=submit]`)),
		)
		if err != nil {
			return err
		}
	}
	// Wait, bounded, for the redirect to the application.
	for range 600 {
		if path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err == nil && path == CallbackPath {
			return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`h1`)))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return context.DeadlineExceeded
}

// TestChromiumLoginThenSilentLoginAsNewClient is the end-to-end test in a real browser: a
// login through the real login page with scope dcr, a registration of a new client with that
// token, then a login as the new client in the same browser — which must show no login page.
func TestChromiumLoginThenSilentLoginAsNewClient(t *testing.T) {
	br := startChromium(t)
	issuer, _ := startServer(t, func(c *testserver.Config) { c.Registration = testserver.ModeUser })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	login := func(l BrowserLogin) *Token {
		t.Helper()
		rec := &recorder{open: br.open}
		l.Issuer, l.OpenURL, l.Timeout = issuer, rec.Open, time.Minute
		tok, err := l.Token(ctx)
		rec.wait()
		if err != nil {
			t.Fatalf("login as %s: %v", l.ClientID, err)
		}
		return tok
	}

	tok := login(BrowserLogin{ClientID: testserver.DefaultNativeClient})
	if got, want := br.navigations(), []string{"/authorize", CallbackPath}; !slices.Equal(got, want) {
		t.Errorf("first login: pages shown %v, want %v (the login page, then the redirect)", got, want)
	}
	if !tok.HasScope("dcr") {
		t.Fatalf("first login: scope %q, want dcr", tok.Scope)
	}

	cl := &client.Client{}
	md, err := cl.Discover(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := cl.RegisterTemplate(ctx, md.RegistrationEndpoint, tok.AccessToken, testserver.DefaultTemplate, client.Metadata{})
	if err != nil {
		t.Fatalf("register: %v", err)
	}

	tok2 := login(BrowserLogin{ClientID: reg.ClientID, Scopes: []string{"openid", "profile"}})
	if got, want := br.navigations(), []string{CallbackPath}; !slices.Equal(got, want) {
		t.Errorf("login as the new client: pages shown %v, want %v (no login page: SSO)", got, want)
	}
	if tok2.AccessToken == "" || tok2.IDToken == "" {
		t.Errorf("login as the new client: token %v, want an access token and an ID token", tok2)
	}

	// And --force-login shows the login page again, in the same browser.
	login(BrowserLogin{ClientID: reg.ClientID, Scopes: []string{"openid"}, ForceLogin: true})
	if got, want := br.navigations(), []string{"/authorize", CallbackPath}; !slices.Equal(got, want) {
		t.Errorf("forced login: pages shown %v, want %v", got, want)
	}
}
