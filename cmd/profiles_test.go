package cmd

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
)

// TestCLIProfileMatrix runs register, get, update, get and delete through the command line
// against every behaviour profile of dcrctl serve. Each step either works — with the
// credentials the previous step stored, so rotation must have been persisted — or fails with
// an error that names what the server does.
func TestCLIProfileMatrix(t *testing.T) {
	type step struct {
		args []string
		code int
		says string // in stderr
	}
	full := func(login []string) []step {
		return []step{
			{append([]string{"register", "--template", "service", "--name", "svc"}, login...), ExitOK, `stored as "svc"`},
			{[]string{"get", "svc", "-o", "json"}, ExitOK, ""},
			{[]string{"update", "svc", "--set", "client_name=renamed"}, ExitOK, `updated "svc"`},
			{[]string{"get", "svc", "-o", "json"}, ExitOK, ""},
			{[]string{"delete", "svc"}, ExitOK, "deleted client"},
		}
	}
	cc := []string{"--client-credentials", "--client-id", testserver.DefaultBootstrapClient}
	expect := map[string]struct {
		issuerSuffix string
		steps        []step
	}{
		"strict":        {"", full(cc)},
		"curity":        {"", full(cc)},
		"keycloak":      {"", full(cc)},
		"oidc-provider": {"", full(cc)},
		// Hydra does not publish registration_endpoint unless configured to.
		"hydra": {"", []step{{[]string{"register", "--template", "service", "--name", "svc"}, ExitError, "advertises no registration_endpoint"}}},
		// The MCP SDK's issuer ends with "/": asked without it, discovery refuses the
		// mismatch (RFC 8414 §3.3); with it, registration works, and RFC 7592 is absent.
		"mcp-sdk": {"/", []step{
			{[]string{"register", "--template", "service", "--name", "svc"}, ExitOK, `stored as "svc"`},
			{[]string{"get", "svc"}, ExitError, "RFC 7592"},
		}},
	}
	for _, p := range testserver.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			exp, ok := expect[p.Name]
			if !ok {
				t.Fatalf("profile %s has no expectations here: add them", p.Name)
			}
			s := startCLIServer(t, func(c *testserver.Config) { c.BehaveLike = p.Name })
			env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
			if exp.issuerSuffix != "" {
				r := runCLI(t, context.Background(), "", env, "register", "--issuer", s.cfg.Issuer, "--template", "service")
				if r.Code == ExitOK || !strings.Contains(r.Stderr, "issuer mismatch") {
					t.Errorf("register with the issuer without its slash: exit %d, %q", r.Code, r.Stderr)
				}
			}
			for _, st := range exp.steps {
				r := runCLI(t, context.Background(), "", env, append(st.args, "--issuer", s.cfg.Issuer+exp.issuerSuffix)...)
				if r.Code != st.code || !strings.Contains(r.Stderr, st.says) {
					t.Fatalf("%s: exit %d, stderr %q; want exit %d saying %q", st.args[0], r.Code, r.Stderr, st.code, st.says)
				}
			}
		})
	}
}
