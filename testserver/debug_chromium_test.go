package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// startChromium runs a real headless Chromium for one test; it fails with CI=true when
// Chromium is missing.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	if err != nil {
		// A missing browser must not turn this test into a silent pass in CI.
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium at %s is missing (%v) and CI=true: install the Debian package chromium", chromiumPath, err)
		}
		t.Skipf("Chromium at %s is missing (%v): install the Debian package chromium; with CI=true this fails", chromiumPath, err)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// shownExchange is an exchange as the page's DOM shows it.
type shownExchange struct {
	Kind, Status, Client, Error, Explain, Rotated string
}

const readExchanges = `Array.from(document.querySelectorAll('#exchanges li.exchange')).reverse().map(li => {
  const f = n => { const e = li.querySelector('[data-field=' + n + ']'); return e ? e.textContent.trim() : '' };
  return {Kind: li.dataset.kind, Status: li.dataset.status, Client: li.dataset.client, Error: f('error'), Explain: f('explain'), Rotated: f('rotated')};
})`

// TestDebugPageChromium runs a client's life against the server, then checks the debugger
// page in real Chromium: every exchange with its status and explanation, a registration
// appearing live, no secret in the page source, and the revoke button.
func TestDebugPageChromium(t *testing.T) {
	e := start(t, func(c *Config) {
		c.RotateClientSecret, c.RotateRegistrationToken = RotateOnReadAndUpdate, RotateOnReadAndUpdate
		c.Clients[0].Scope = "dcr profile"
	})
	boot := e.cfg.Clients[0]
	var secrets []string
	keep := func(s ...string) {
		for _, x := range s {
			if x != "" {
				secrets = append(secrets, x)
			}
		}
	}
	keep(boot.ClientSecret)

	// The life of client A: registration, a read that rotates, a failed registration without
	// dcr, a login with the form, a silent login, a refresh, deletion.
	tok := e.bootstrapToken("dcr")
	keep(tok)
	reg := e.jsonReq(http.MethodPost, "/register", tok, map[string]any{"client_name": "Debugger demo app",
		"redirect_uris": []string{"http://127.0.0.1/cb"}, "grant_types": []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_method": "client_secret_basic", "scope": "openid profile offline_access"})
	if reg.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.Status, reg.Raw)
	}
	a, secret, rat := str(reg.Body["client_id"]), str(reg.Body["client_secret"]), str(reg.Body["registration_access_token"])
	keep(secret, rat)
	read := e.jsonReq(http.MethodGet, "/register/"+a, rat, nil)
	if read.Status != 200 || str(read.Body["client_secret"]) == "" || str(read.Body["registration_access_token"]) == "" {
		t.Fatalf("read with rotation: %d %s", read.Status, read.Raw)
	}
	secret, rat = str(read.Body["client_secret"]), str(read.Body["registration_access_token"])
	keep(secret, rat)
	noDCR := e.bootstrapToken("profile")
	keep(noDCR)
	if r := e.jsonReq(http.MethodPost, "/register", noDCR, map[string]any{"redirect_uris": []string{"http://127.0.0.1/cb"}}); r.Status != http.StatusForbidden {
		t.Fatalf("registration without dcr: %d %s", r.Status, r.Raw)
	}
	var rt string
	login := func() {
		t.Helper()
		q := callback(t, e.browserLogin(loginParams(a, "http://127.0.0.1/cb", "openid profile offline_access"), DefaultUser, DefaultUserPassword))
		keep(q.Get("code"))
		r := e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}, a, secret)
		if r.Status != 200 {
			t.Fatalf("code exchange: %d %s", r.Status, r.Raw)
		}
		keep(str(r.Body["access_token"]), str(r.Body["refresh_token"]), str(r.Body["id_token"]))
		rt = str(r.Body["refresh_token"])
	}
	login() // with the form
	login() // silent, by SSO
	for _, ck := range e.hc.Jar.Cookies(mustURL(t, e.url("/"))) {
		keep(ck.Value)
	}
	if r := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, a, secret); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	} else {
		keep(str(r.Body["access_token"]), str(r.Body["refresh_token"]), str(r.Body["id_token"]))
	}
	if r := e.jsonReq(http.MethodDelete, "/register/"+a, rat, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	// A template instance, to be listed under its template.
	inst := e.register(map[string]any{"software_id": DefaultTemplate})
	if inst.Status != http.StatusCreated {
		t.Fatalf("template instance: %d %s", inst.Status, inst.Raw)
	}
	b := str(inst.Body["client_id"])
	keep(str(inst.Body["client_secret"]), str(inst.Body["registration_access_token"]))

	ctx := startChromium(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.url("/debug")),
		chromedp.WaitVisible(chromedp.CSS("#exchanges"))); err != nil {
		t.Fatalf("loading /debug: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]shownExchange](readExchanges))
	if err != nil {
		t.Fatal(err)
	}
	source := pageSource(t, ctx)
	const noDCRExplain = "the initial access token had no dcr scope: request it in the token call"
	cc := "token request (client_credentials)"
	code := "token request (authorization_code)"
	want := []shownExchange{
		{cc, "200", "bootstrap", "", "", ""},
		{"registration", "201", a, "", "", ""},
		{"RFC 7592 read", "200", a, "", "", "rotated: client secret, registration access token"},
		{cc, "200", "bootstrap", "", "", ""},
		{"registration", "403", "bootstrap", "insufficient_scope", noDCRExplain, ""},
		{"login form shown", "200", a, "", "", ""},
		{"login with the form", "303", a, "", "", ""},
		{code, "200", a, "", "", ""},
		{"silent login (SSO)", "302", a, "", "", ""},
		{code, "200", a, "", "", ""},
		{"refresh", "200", a, "", "", ""},
		{"RFC 7592 delete", "204", a, "", "", ""},
		{cc, "200", "bootstrap", "", "", ""},
		{"registration", "201", b, "", "", ""},
	}
	if !slices.Equal(shown, want) {
		t.Errorf("the page shows the exchanges\n%s\nwant\n%s", dump(shown), dump(want))
	}
	checkNoSecrets(t, "/debug", source, secrets)
	for _, s := range []string{`<code>` + DefaultTemplate + `</code>`, `data-client="` + b + `"`, `>deleted<`, `>demo<`} {
		if !strings.Contains(source, s) {
			t.Errorf("/debug lacks %s", s)
		}
	}
	screenshot(t, ctx, "debug-desktop.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "debug-375.png")
	scrollW, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || scrollW > 375 {
		t.Errorf("at 375 px the page is %d px wide (%v): it must not scroll sideways", scrollW, err)
	}

	// Live: a registration made now appears without a reload.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('live').textContent.startsWith('Live')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("live updates did not start: %v", err)
	}
	live := e.register(map[string]any{"redirect_uris": []string{"http://127.0.0.1/live"}, "client_name": "live"})
	c := str(live.Body["client_id"])
	keep(str(live.Body["client_secret"]), str(live.Body["registration_access_token"]))
	sel := chromedp.CSS(`#exchanges li.exchange[data-client="` + c + `"][data-kind="registration"]`)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(sel)); err != nil {
		t.Fatalf("the new registration did not appear live: %v", err)
	}
	if st, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "data-status")); err != nil || st.Value != "201" {
		t.Errorf("the live registration shows status %q (%v), want 201", st.Value, err)
	}
	source = pageSource(t, ctx)
	checkNoSecrets(t, "/debug after the live update", source, secrets)

	// Revoke from the page: the unused token without dcr, on the bootstrap client's page.
	btn := chromedp.CSS(fmt.Sprintf(`li.token[data-masked="%s"] button`, maskSecret(noDCR)))
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if err := chromedp.Do(rctx, chromedp.Navigate(e.url("/debug/client/bootstrap")), chromedp.WaitVisible(btn)); err != nil {
		t.Fatalf("the bootstrap client's page has no revoke button for %s: %v\n%s", maskSecret(noDCR), err, pageSource(t, ctx))
	}
	if err := chromedp.Do(rctx, chromedp.Click(btn), chromedp.WaitVisible(chromedp.CSS("#flash"))); err != nil {
		t.Fatalf("revoking from the page: %v\n%s", err, pageSource(t, ctx))
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#flash")))
	if err != nil {
		t.Fatal(err)
	}
	source = pageSource(t, ctx)
	if want := "revoked the access token " + maskSecret(noDCR) + " of bootstrap"; flash != want {
		t.Errorf("after revoke the page says %q, want %q", flash, want)
	}
	checkNoSecrets(t, "/debug/client/bootstrap", source, secrets)
	if r := e.form("/introspect", url.Values{"token": {noDCR}}, boot.ClientID, boot.ClientSecret); r.Body["active"] != false {
		t.Errorf("introspection after the revoke button: %s", r.Raw)
	}

	// End the SSO session from the page: the next login shows the form again.
	sessBtn := chromedp.CSS(`li.session button`)
	if err := chromedp.Do(rctx, chromedp.Navigate(e.url("/debug")), chromedp.WaitVisible(sessBtn), chromedp.Click(sessBtn),
		chromedp.WaitVisible(chromedp.CSS("#flash"))); err != nil {
		t.Fatalf("ending the session from the page: %v", err)
	}
	if flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#flash"))); err != nil || flash != "ended the SSO session of demo" {
		t.Errorf("after ending the session the page says %q (%v)", flash, err)
	}
	again := e.do(mustReq(t, http.MethodGet, e.url("/authorize?"+loginParams(inst.Body["client_id"].(string), "http://127.0.0.1/callback", "openid").Encode()), nil))
	if again.Status != 200 || !strings.Contains(again.Raw, `id="login"`) {
		t.Errorf("a login after the session was ended: %d, want the login form", again.Status)
	}
}

func pageSource(t *testing.T, ctx context.Context) string {
	t.Helper()
	src, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func checkNoSecrets(t *testing.T, page, source string, secrets []string) {
	t.Helper()
	if len(secrets) < 15 {
		t.Fatalf("only %d secrets collected: the test lost some", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(source, s) {
			t.Errorf("%s: the page source holds a clear secret (ending %s)", page, s[len(s)-4:])
		}
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := t.ArtifactDir()
	if d := os.Getenv("DCRCTL_SCREENSHOT_DIR"); d != "" {
		dir = d
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func dump(xs []shownExchange) string {
	var b strings.Builder
	for _, x := range xs {
		j, _ := json.Marshal(x)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(errors.New("bad URL " + s))
	}
	return u
}
