package cmd

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestResourceDiscoveryCLI is the MCP client story through the command line, against dcrctl
// serve as an authorization server and a protected resource: --resource finds the issuer
// (RFC 9728), the credential remembers the resource, its tokens are for it (RFC 8707), and
// --check shows the resource accepts them; a credential is never used at another issuer.
func TestResourceDiscoveryCLI(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) { c.ResourcePath = "/mcp"; c.Registration = testserver.ModeUser })
	res := s.cfg.Issuer + "/mcp"
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "opened")
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config"),
		"DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	run := func(code int, args ...string) cliResult {
		t.Helper()
		r := runUser(t, env, br, urlFile, args...)
		if r.Code != code {
			t.Fatalf("%v: exit %d (want %d), stderr %q", args, r.Code, code, r.Stderr)
		}
		return r
	}
	found := "resource " + res + ": authorization server " + s.cfg.Issuer + " (from its metadata, " + s.cfg.Issuer + "/.well-known/oauth-protected-resource/mcp)\n"

	d := run(ExitOK, "discover", "--resource", res, "-o", "json")
	if !strings.HasPrefix(d.Stderr, found) || !strings.Contains(d.Stdout, `"issuer": "`+s.cfg.Issuer+`"`) {
		t.Errorf("discover --resource: stderr %q, stdout %.200s", d.Stderr, d.Stdout)
	}
	secretless := map[string]string{}
	for k, v := range env {
		if k != "DCRCTL_CLIENT_SECRET" {
			secretless[k] = v
		}
	}
	r := runUser(t, secretless, br, urlFile, "register", "--resource", res, "--template", testserver.DefaultTemplate, "--name", "mcp",
		"--login", "--no-browser", "--client-id", testserver.DefaultNativeClient, "-o", "json")
	if r.Code != ExitOK || !strings.HasPrefix(r.Stderr, found) {
		t.Fatalf("register --resource: exit %d, stderr %q", r.Code, r.Stderr)
	}
	l := runUser(t, secretless, br, urlFile, "login", "mcp", "--no-browser", "--check", "-o", "json")
	if l.Code != ExitOK || !strings.Contains(l.Stderr, "the resource "+res+" accepted the token (200 OK)\n") {
		t.Fatalf("login --check: exit %d, stderr %q", l.Code, l.Stderr)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(l.Stdout), &tok); err != nil {
		t.Fatal(err)
	}
	in := introspect(t, s, tok.AccessToken)
	if aud, _ := in["aud"].([]any); len(aud) != 1 || aud[0] != res {
		t.Errorf("the login's token: aud %v, want [%s]", in["aud"], res)
	}
	c := run(ExitOK, "token", "--resource", res, "--client-credentials", "--client-id", testserver.DefaultBootstrapClient, "--check")
	if !strings.Contains(c.Stderr, "accepted the token") {
		t.Errorf("token --resource --check: %q", c.Stderr)
	}
	other := run(ExitUsage, "get", "mcp", "--issuer", "http://127.0.0.1:1")
	if !strings.Contains(other.Stderr, `"mcp" was registered at `+s.cfg.Issuer+", not at --issuer http://127.0.0.1:1") {
		t.Errorf("get at another issuer: %q", other.Stderr)
	}
	run(ExitUsage, "token", "--issuer", s.cfg.Issuer, "--client-credentials", "--client-id", testserver.DefaultBootstrapClient, "--check")
	nores := run(ExitError, "discover", "--resource", s.cfg.Issuer+"/nothing")
	if !strings.Contains(nores.Stderr, "not a protected resource: ") || !strings.HasSuffix(nores.Stderr, "or give its authorization server with --issuer instead\n") {
		t.Errorf("discover --resource of no resource: %q", nores.Stderr)
	}
}

// introspect asks the server about a token as its bootstrap client (RFC 7662).
func introspect(t *testing.T, s *cliServer, token string) map[string]any {
	t.Helper()
	boot := s.cfg.Clients[0]
	req, _ := http.NewRequest(http.MethodPost, s.cfg.Issuer+"/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(boot.ClientID, boot.ClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
