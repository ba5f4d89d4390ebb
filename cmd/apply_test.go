package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestApplyExplainExampleApplies: the annotated example that apply --explain prints, with
// its issuer pointed at a real server of the default configuration, parses, plans, applies
// (its token sources: the bootstrap secret file beside it, and a token in the environment
// variable it names), and plans as unchanged after.
func TestApplyExplainExampleApplies(t *testing.T) {
	s := startCLIServer(t, nil)
	ctx := context.Background()
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	if err := applyRun(ctx, &applyOptions{declareOptions: declareOptions{G: g}}); ExitCode(err) != ExitUsage {
		t.Fatalf("apply without -f: %v, want a usage error", err)
	}
	cmd := newApplyCmd(g)
	cmd.SetArgs([]string{"--explain"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if out.String() != string(declare.Example()) {
		t.Fatalf("--explain printed %q, want the package's example", out.String())
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.yaml")
	text := strings.ReplaceAll(out.String(), testserver.DefaultIssuer, s.cfg.Issuer)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, _ := os.ReadFile(s.secretFile)
	if err := os.WriteFile(filepath.Join(dir, "bootstrap.secret"), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := flows.ClientCredentials{Issuer: s.cfg.Issuer, TokenURL: s.cfg.Issuer + "/token", ClientID: "bootstrap",
		ClientSecret: strings.TrimSpace(string(secret)), Scopes: []string{"dcr"}}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.IO.Getenv = func(k string) string {
		if k == "DCRCTL_SHOP_TOKEN" {
			return tok.AccessToken
		}
		return ""
	}
	mem := keystore.NewMemory()
	opts := declareOptions{G: g, File: file, Store: mem}
	if err := planRun(ctx, &opts); ExitCode(err) != ExitChanges {
		t.Fatalf("plan of the example: %v (exit %d), want exit 2", err, ExitCode(err))
	}
	if err := applyRun(ctx, &applyOptions{declareOptions: opts}); err != nil {
		t.Fatalf("apply of the example: %v", err)
	}
	list, _ := mem.List(ctx)
	if len(list) != 2 || list[0].Name != "shop-mobile" || list[0].Template != "native-app" || list[1].Name != "shop-web" {
		t.Errorf("stored after apply: %v, want shop-mobile (native-app) and shop-web", list)
	}
	if err := planRun(ctx, &opts); err != nil {
		t.Errorf("plan after apply: %v, want no change", err)
	}
}

// TestApplyAsksOnTerminal: on a terminal apply shows the plan and asks; "n" changes
// nothing, "y" applies; without a terminal it does not ask.
func TestApplyAsksOnTerminal(t *testing.T) {
	s := startCLIServer(t, nil)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "clients.yaml")
	text := "registrations:\n  svc:\n    token: {client_id: bootstrap, client_secret_file: " + s.secretFile + "}\n    template: service\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mem := keystore.NewMemory()
	for _, tc := range []struct {
		answer string
		stored int
	}{{"n\n", 0}, {"y\n", 1}} {
		g, _, errOut := testGlobals(t, s.cfg.Issuer)
		g.IO.In, g.IO.InTTY, g.IO.ErrTTY = strings.NewReader(tc.answer), true, true
		err := applyRun(ctx, &applyOptions{declareOptions: declareOptions{G: g, File: file, Store: mem}})
		if list, _ := mem.List(ctx); len(list) != tc.stored {
			t.Errorf("answer %q: %d stored (%v), want %d", tc.answer, len(list), err, tc.stored)
		}
		if !strings.Contains(errOut.String(), "+ svc: create") || !strings.Contains(errOut.String(), "Make these 1 change(s)? [y/N] ") {
			t.Errorf("answer %q: stderr %q, want the plan and the question", tc.answer, errOut.String())
		}
		if (err == nil) != (tc.stored == 1) {
			t.Errorf("answer %q: %v", tc.answer, err)
		}
	}
	g, out, errOut := testGlobals(t, s.cfg.Issuer)
	text = strings.Replace(text, "template: service", "template: native-app", 1)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	err := applyRun(ctx, &applyOptions{declareOptions: declareOptions{G: g, File: file, Store: mem}})
	if strings.Contains(errOut.String(), "[y/N]") {
		t.Errorf("asked without a terminal: %q", errOut.String())
	}
	if ExitCode(err) != ExitError || !strings.Contains(out.String(), "~ svc: update: failed\n    software_id: \"service\" → \"native-app\"\n    error: declare: svc: blocked: the client is an instance of template \"service\"; an instance cannot change template") {
		t.Errorf("changing the template: %v (exit %d), stdout %q, want a blocked update", err, ExitCode(err), out.String())
	}
}
