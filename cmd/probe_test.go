package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client/interop"
	"github.com/dcrctl/dcrctl/client/probe"
)

// TestProbeCLITokenFile: with one initial access token from a file (here single-use), the
// probe registers one client with it, says it cannot have a second one, never reads the
// file twice (stdin), and keeps the token out of the output.
func TestProbeCLITokenFile(t *testing.T) {
	s := startCLIServer(t, nil)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}
	req, _ := http.NewRequest(http.MethodPost, s.hs.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.cfg.Clients[0].ClientID, s.cfg.Clients[0].ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir()}
	got := runCLI(t, context.Background(), tok.AccessToken+"\n", env, "probe", s.hs.URL, "--token-file", "-", "-o", "json")
	if got.Code != ExitOK || strings.Contains(got.Stdout+got.Stderr, tok.AccessToken) {
		t.Fatalf("exit %d (stderr %q), or the token is in the output", got.Code, got.Stderr)
	}
	var rep probe.Report
	if err := json.Unmarshal([]byte(got.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	reuse, _ := rep.Check("initial_token_reuse")
	native, _ := rep.Check("native_loopback")
	ins, _ := rep.Check("insufficient_scope")
	if reuse.Result != probe.No || native.Result != probe.Skipped || !strings.Contains(native.Skipped, "no second one can be had") ||
		ins.Result != probe.Skipped || len(rep.Registered) != 1 || len(rep.Undeleted) != 0 {
		t.Errorf("initial_token_reuse %s, native_loopback %s (%s), insufficient_scope %s, registered %v, undeleted %v",
			reuse.Result, native.Result, native.Skipped, ins.Result, rep.Registered, rep.Undeleted)
	}
}

// TestProbeCLIMarkdownGolden: -o markdown of dcrctl serve (strict) with the bootstrap
// client: the table of checks is testdata/probe-strict.md, with the run's own values
// (ports, ids) replaced. It is the README's example. Regenerate with -update.
func TestProbeCLIMarkdownGolden(t *testing.T) {
	s := startCLIServer(t, nil)
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir()}
	got := runCLI(t, context.Background(), "", env, "probe", s.hs.URL, "--client-credentials", "--client-id", s.cfg.Clients[0].ClientID,
		"--client-secret-file", s.secretFile, "-o", "markdown")
	if got.Code != ExitOK {
		t.Fatalf("exit %d: %s", got.Code, got.Stderr)
	}
	md := normalizeProbe(got.Stdout, s.hs.URL)
	golden := filepath.Join("testdata", "probe-strict.md")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if md != string(want) {
		t.Errorf("-o markdown differs from %s (run with -update to accept):\n%s", golden, md)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the probe tests")

// normalizeProbe replaces what changes from run to run: the server's address, and the
// random loopback port of loopback_any_port.
func normalizeProbe(s, issuer string) string {
	s = strings.ReplaceAll(s, issuer, "http://127.0.0.1:8414")
	return regexp.MustCompile(`port \d+`).ReplaceAllString(s, "port 50000")
}

// TestREADMEProbeSection: the README's dcrctl probe section names every check id and every
// member of the -o json schema, so the documented schema cannot fall behind the code.
func TestREADMEProbeSection(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec, ok := strings.CutPrefix(string(b)[strings.Index(string(b), "## Compatibility report: `dcrctl probe`"):], "## Compatibility report")
	if !ok {
		t.Fatal("README has no dcrctl probe section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, id := range probe.IDs() {
		if !strings.Contains(sec, "`"+id+"`") {
			t.Errorf("the README's probe section does not name check %s", id)
		}
	}
	doc, _ := json.Marshal(probe.Report{Checks: []probe.Check{{ID: "x", Value: "v", RFC: "r", Detail: "d", Skipped: "s"}},
		Issuer: "i", RegistrationEndpoint: "e", Undeleted: []probe.Undeleted{{}}})
	var top map[string]json.RawMessage
	_ = json.Unmarshal(doc, &top)
	var checks []map[string]any
	_ = json.Unmarshal(top["checks"], &checks)
	var members []string
	for k := range top {
		members = append(members, "`"+k+"`")
	}
	for k := range checks[0] {
		members = append(members, "`checks[]."+k+"`")
	}
	for _, m := range members {
		if !strings.Contains(sec, m) {
			t.Errorf("the README's -o json schema does not document %s", m)
		}
	}
	for _, r := range []probe.Result{probe.Yes, probe.No, probe.Violation, probe.Skipped} {
		if !strings.Contains(sec, "`"+string(r)+"`") {
			t.Errorf("the README does not document the result %s", r)
		}
	}
}

// TestCLIProbeNodeOIDCProvider runs dcrctl probe against node-oidc-provider with the
// bootstrap client's client credentials: the command's own token sources work against a
// third-party server (a fresh initial token per registration, and a token without dcr,
// which this server refuses with 401), the report has no violation (exit 0), every client
// is deleted, and neither the bootstrap secret nor a token appears in the output.
func TestCLIProbeNodeOIDCProvider(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": op.BootstrapClientSecret}
	got := runCLI(t, context.Background(), "", env, "probe", op.Issuer, "--client-credentials", "--client-id", op.BootstrapClientID, "-o", "json")
	if got.Code != ExitOK || strings.Contains(got.Stdout+got.Stderr, op.BootstrapClientSecret) {
		t.Fatalf("exit %d (stderr %q), or the bootstrap secret is in the output", got.Code, got.Stderr)
	}
	var rep probe.Report
	if err := json.Unmarshal([]byte(got.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"insufficient_scope": "no 401", "initial_token_reuse": "no ", "native_loopback": "yes 127.0.0.1,[::1],localhost",
		"unknown_metadata": "yes stripped", "rat_rotation_on_update": "yes ", "rat_rotation_on_read": "no ", "pkce_s256": "yes "}
	for id, w := range want {
		c, _ := rep.Check(id)
		if g := string(c.Result) + " " + c.Value; g != w {
			t.Errorf("%s = %q (%s%s), want %q", id, g, c.Detail, c.Skipped, w)
		}
	}
	if len(rep.Registered) != 2 || len(rep.Undeleted) != 0 {
		t.Errorf("registered %v, undeleted %v", rep.Registered, rep.Undeleted)
	}
}
