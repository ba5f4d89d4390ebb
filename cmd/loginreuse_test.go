package cmd

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestLoginReusesThenRefreshes: dcrctl login NAME, as gh does, reuses the access token of its
// last login while it is valid, else refreshes it with the stored refresh token, else (the
// refresh token refused, or --force-login) opens the browser. A read that rotates the
// client's credentials (the Curity-like profile) keeps the stored tokens.
func TestLoginReusesThenRefreshes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lifetime time.Duration // of access tokens
		second   string        // what the second login says
	}{
		{"valid token reused", time.Hour, "reused the access token of the last login"},
		{"short-lived token refreshed", 30 * time.Second, "refreshed the access token with the stored refresh token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startCLIServer(t, func(c *testserver.Config) {
				c.Registration, c.BehaveLike, c.Lifetimes.AccessToken = testserver.ModeUser, "curity", tc.lifetime
			})
			dir := t.TempDir()
			urlFile := filepath.Join(dir, "opened")
			env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config")}
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			run := func(args ...string) cliResult {
				t.Helper()
				r := runUser(t, env, br, urlFile, append(args, "--issuer", s.cfg.Issuer)...)
				if r.Code != ExitOK {
					t.Fatalf("%s: exit %d, stderr %q", args[0], r.Code, r.Stderr)
				}
				return r
			}
			run("register", "--template", testserver.DefaultTemplate, "--name", "app", "--login", "--no-browser", "--client-id", testserver.DefaultNativeClient)
			first := run("login", "app", "--no-browser")
			visits := len(br.Visits())
			run("get", "app") // rotates the secret and the registration access token: tokens stay
			second := run("login", "app", "--no-browser")
			if !strings.Contains(second.Stderr, tc.second) || len(br.Visits()) != visits {
				t.Fatalf("second login: stderr %q, %d browser visits (want none); want it to say %q", second.Stderr, len(br.Visits())-visits, tc.second)
			}
			if reused := second.Stdout == first.Stdout; reused != (tc.lifetime == time.Hour) {
				t.Errorf("second token equal to the first: %v", reused)
			}
			// The server revokes every token of the client: the refresh token is refused and
			// the login falls back to the browser (silent: the SSO session is still there).
			if err := s.srv.RevokeClientTokens(context.Background(), clientIDOf(t, env, "app")); err != nil {
				t.Fatal(err)
			}
			if tc.lifetime != time.Hour {
				third := run("login", "app", "--no-browser")
				if !strings.Contains(third.Stderr, "the stored refresh token was refused (invalid_grant): logging in again") || len(br.Visits()) == visits {
					t.Errorf("after revocation: stderr %q; want a note and a browser login", third.Stderr)
				}
			}
			visits = len(br.Visits())
			forced := run("login", "app", "--no-browser", "--force-login")
			if len(br.Visits()) == visits || strings.Contains(forced.Stderr, "reused") || strings.Contains(forced.Stderr, "refreshed") {
				t.Errorf("--force-login: stderr %q, browser visits %d; want a browser login", forced.Stderr, len(br.Visits())-visits)
			}
		})
	}
}

// clientIDOf is the client_id of a stored credential, as dcrctl show prints it.
func clientIDOf(t *testing.T, env map[string]string, name string) string {
	t.Helper()
	r := runCLI(t, context.Background(), "", env, "show", name, "-o", "json")
	var v struct {
		ClientID string `json:"client_id"`
	}
	if r.Code != ExitOK || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.ClientID == "" {
		t.Fatalf("show %s: exit %d, %q", name, r.Code, r.Stdout)
	}
	return v.ClientID
}

// TestLoginUsesRecordedEndpoints: a server whose discovery leaves out its registration, token
// and authorization endpoints. register is given them explicitly; the credential records them,
// so that dcrctl login NAME later works without the flags.
func TestLoginUsesRecordedEndpoints(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) {
		c.Registration = testserver.ModeUser
		c.Switches = map[string]any{"discovery_hide": []any{"registration_endpoint", "token_endpoint", "authorization_endpoint"}}
	})
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "opened")
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config")}
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	iss := s.cfg.Issuer
	if r := runUser(t, env, br, urlFile, "login", "nothing-yet", "--issuer", iss); r.Code == ExitOK {
		t.Fatal("login of an unknown name worked")
	}
	r := runUser(t, env, br, urlFile, "register", "--issuer", iss, "--template", testserver.DefaultTemplate, "--name", "app",
		"--login", "--no-browser", "--client-id", testserver.DefaultNativeClient,
		"--registration-endpoint", iss+"/register", "--token-endpoint", iss+"/token", "--authorization-endpoint", iss+"/authorize")
	if r.Code != ExitOK {
		t.Fatalf("register: exit %d, %s", r.Code, r.Stderr)
	}
	r = runUser(t, env, br, urlFile, "login", "app", "--no-browser", "-o", "json")
	if r.Code != ExitOK || !strings.Contains(r.Stdout, `"access_token"`) {
		t.Fatalf("login without the endpoint flags: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
