package cmd

import (
	"context"
	"net/url"
	"regexp"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestUserAuthenticatedRegistrationThenSilentLogin is the native-app story: the user logs in
// in the browser to get the initial access token (user-authenticated registration), dcrctl
// registers an instance of the native-app template, and dcrctl login as that instance is
// silent thanks to the browser's SSO session; --force-login asks again.
func TestUserAuthenticatedRegistrationThenSilentLogin(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) { c.Registration = testserver.ModeUser })
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	b := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	// The login ends when the redirect reaches dcrctl, possibly before the browser has
	// finished recording its visit: wait for the browser before counting its login pages.
	var wg sync.WaitGroup
	open := func(u string) error {
		wg.Add(1)
		defer wg.Done()
		return b.Open(u)
	}
	mem := keystore.NewMemory()
	ctx := context.Background()

	err := registerRun(ctx, &registerOptions{G: g, Store: mem, Template: testserver.DefaultTemplate, Name: "app",
		Token: initialTokenOptions{grantOptions: grantOptions{Login: true, ClientID: testserver.DefaultNativeClient, Scopes: []string{"dcr"}, OpenURL: open}}})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := b.LoginPages(); n != 1 {
		t.Fatalf("login pages after the registration login: %d, want 1", n)
	}

	cred, err := mem.Get(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	tokenLine := regexp.MustCompile(`^[A-Za-z0-9_~.+/=-]{20,}\n$`)
	for _, tc := range []struct {
		name      string
		force     bool
		wantPages int
	}{
		{"silent with SSO", false, 1},
		{"forced login", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			err := loginRun(ctx, &loginOptions{manageOptions: manageOptions{G: g, Name: "app", Store: mem},
				grantOptions: grantOptions{Browser: true, ForceLogin: tc.force, OpenURL: open}})
			if err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if n := b.LoginPages(); n != tc.wantPages {
				t.Errorf("login pages in all: %d, want %d", n, tc.wantPages)
			}
			u, err := url.Parse(b.Last().URL)
			if err != nil || u.Query().Get("client_id") != cred.ClientID {
				t.Errorf("the login was not as the registered instance %s: %v", cred.ClientID, err)
			}
			if !tokenLine.MatchString(out.String()) {
				t.Error("stdout is not one access token line")
			}
		})
	}
}

// TestLoginAnyLoopbackRedirect: dcrctl login works for a client whose only redirect URI is a
// loopback URI with another host and path than http://127.0.0.1/callback.
func TestLoginAnyLoopbackRedirect(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) {
		c.Registration = testserver.ModeUser
		c.Switches = map[string]any{"allow_localhost": true}
	})
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	b := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	mem := keystore.NewMemory()
	ctx := context.Background()
	err := registerRun(ctx, &registerOptions{G: g, Store: mem, Name: "native",
		Edits: metadataEdits{Set: []string{`redirect_uris=["http://localhost/native/done"]`, `grant_types=["authorization_code"]`,
			`response_types=["code"]`, "token_endpoint_auth_method=none", "scope=openid", "application_type=native"}},
		Token: initialTokenOptions{grantOptions: grantOptions{Login: true, ClientID: testserver.DefaultNativeClient, Scopes: []string{"dcr"}, OpenURL: b.Open}}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := loginRun(ctx, &loginOptions{manageOptions: manageOptions{G: g, Name: "native", Store: mem}, grantOptions: grantOptions{Browser: true, OpenURL: b.Open}}); err != nil {
		t.Fatalf("login: %v", err)
	}
	u, _ := url.Parse(b.Last().URL)
	r, _ := url.Parse(u.Query().Get("redirect_uri"))
	if r.Hostname() != "localhost" || r.Path != "/native/done" {
		t.Errorf("redirect_uri %s, want http://localhost:PORT/native/done", r)
	}
}
