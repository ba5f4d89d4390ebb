package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
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
	opts := &applyOptions{declareOptions: declareOptions{G: g, File: file, Store: mem}}
	if err := planRun(ctx, &opts.declareOptions); ExitCode(err) != ExitChanges {
		t.Fatalf("plan of the example: %v (exit %d), want exit 2", err, ExitCode(err))
	}
	if err := applyRun(ctx, opts); err != nil {
		t.Fatalf("apply of the example: %v", err)
	}
	list, _ := mem.List(ctx)
	if len(list) != 2 || list[0].Name != "shop-mobile" || list[0].Template != "native-app" || list[1].Name != "shop-web" {
		t.Errorf("stored after apply: %v, want shop-mobile (native-app) and shop-web", list)
	}
	if err := planRun(ctx, &opts.declareOptions); err != nil {
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

// TestApplyTwiceSendsNoWrite: the CLI's apply against a real read-rotating server (Curity's
// behaviour), with one entry whose bootstrap secret comes from an environment variable and
// one whose initial token comes from a file: the first run registers both, the second sends
// no write (no POST to the registration endpoint, no PUT, no DELETE reaches the server) and
// leaves credentials that still work.
func TestApplyTwiceSendsNoWrite(t *testing.T) {
	var mu sync.Mutex
	writes := map[string]int{}
	srv := servertest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/token") {
				mu.Lock()
				writes[r.Method]++
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}, func(c *testserver.Config) { c.BehaveLike = "curity" })
	ctx := context.Background()
	boot := srv.Config.Clients[0]
	dir := t.TempDir()
	tok, err := flows.ClientCredentials{Issuer: srv.Issuer(), TokenURL: srv.URL("/token"), ClientID: boot.ClientID,
		ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "iat"), []byte(tok.AccessToken), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clients.yaml")
	text := "registrations:\n  svc:\n    token: {client_id: bootstrap, client_secret_env: BOOT_SECRET}\n" +
		"    metadata: {client_name: Svc, grant_types: [client_credentials], token_endpoint_auth_method: client_secret_basic}\n" +
		"  inst:\n    token: {token_file: iat}\n    template: native-app\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	g, out, _ := testGlobals(t, srv.Issuer())
	g.IO.Getenv = func(k string) string {
		if k == "BOOT_SECRET" {
			return boot.ClientSecret
		}
		return ""
	}
	g.Output = "json"
	mem := keystore.NewMemory()
	opts := &applyOptions{declareOptions: declareOptions{G: g, File: file, Store: mem}}
	wantWrites := []map[string]int{{"POST": 2}, {}}
	for i, want := range []string{"created", "unchanged"} {
		out.Reset()
		if err := applyRun(ctx, opts); err != nil {
			t.Fatalf("apply %d: %v", i+1, err)
		}
		var steps []declare.Step
		if err := json.Unmarshal([]byte(out.String()), &steps); err != nil || len(steps) != 2 || steps[0].Result != want || steps[1].Result != want {
			t.Fatalf("apply %d printed %s (%v), want both %s", i+1, out.String(), err, want)
		}
		mu.Lock()
		if !reflect.DeepEqual(writes, wantWrites[i]) {
			t.Errorf("apply %d: writes %v, want %v", i+1, writes, wantWrites[i])
		}
		writes = map[string]int{}
		mu.Unlock()
	}
	for _, name := range []string{"svc", "inst"} {
		c, err := mem.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&client.Client{}).Read(ctx, regOf(c)); err != nil {
			t.Errorf("%s: the stored credential no longer works after the rotating reads: %v", name, err)
		}
	}
}

// TestConcurrentAppliesCLI: two `dcrctl apply` runs of one file at once, 4 rounds, each
// run with its own file keystore on one directory (as two processes), against a server that
// rotates on every read and update. Every round exactly one registration or update reaches
// the server, both runs succeed, and one reports the change while the other finds it done.
func TestConcurrentAppliesCLI(t *testing.T) {
	var mu sync.Mutex
	writes := map[string]int{}
	srv := servertest.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/token") {
				mu.Lock()
				writes[r.Method]++
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}, func(c *testserver.Config) { c.BehaveLike = "curity" })
	dir := t.TempDir()
	secret := filepath.Join(dir, "boot.secret")
	if err := os.WriteFile(secret, []byte(srv.Config.Clients[0].ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DCRCTL_CONFIG_DIR": filepath.Join(dir, "config"), "DCRCTL_KEYSTORE": "file"}
	file := filepath.Join(dir, "clients.yaml")
	ctx := context.Background()
	for round := range 4 {
		text := fmt.Sprintf("registrations:\n  racer:\n    issuer: %s\n    token: {client_id: bootstrap, client_secret_file: %s}\n"+
			"    metadata: {client_name: Racer %d, grant_types: [client_credentials], token_endpoint_auth_method: client_secret_basic}\n", srv.Issuer(), secret, round)
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		results := make([]string, 2)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				r := runCLI(t, ctx, "", env, "apply", "-f", file, "-o", "json")
				var steps []declare.Step
				if r.Code != ExitOK || json.Unmarshal([]byte(r.Stdout), &steps) != nil || len(steps) != 1 {
					results[i] = fmt.Sprintf("exit %d: %s", r.Code, r.Stderr)
					return
				}
				results[i] = steps[0].Result
			})
		}
		wg.Wait()
		did, method := "updated", "PUT"
		if round == 0 {
			did, method = "created", "POST"
		}
		if !(results[0] == did && results[1] == "unchanged" || results[1] == did && results[0] == "unchanged") {
			t.Errorf("round %d: results %q, want one %s and one unchanged", round, results, did)
		}
		mu.Lock()
		if !reflect.DeepEqual(writes, map[string]int{method: 1}) {
			t.Errorf("round %d: writes %v, want one %s", round, writes, method)
		}
		writes = map[string]int{}
		mu.Unlock()
	}
	if r := runCLI(t, ctx, "", env, "plan", "-f", file); r.Code != ExitOK {
		t.Errorf("plan after the rounds: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestApplyProfileEntry: an entry that names a profile gets its issuer and its token flow
// (client, secret file) from the config file; a profile that does not exist is a usage
// error naming the file and line.
func TestApplyProfileEntry(t *testing.T) {
	s := startCLIServer(t, nil)
	ctx := context.Background()
	g, _, _ := testGlobals(t, "")
	cfg := fmt.Sprintf("profiles:\n  local:\n    issuer: %s\n    client_id: bootstrap\n    client_secret_file: %s\n    flow: client-credentials\n", s.cfg.Issuer, s.secretFile)
	if err := os.WriteFile(filepath.Join(g.settings.ConfigDir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(file, []byte("registrations:\n  svc:\n    profile: local\n    template: service\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mem := keystore.NewMemory()
	if err := applyRun(ctx, &applyOptions{declareOptions: declareOptions{G: g, File: file, Store: mem}}); err != nil {
		t.Fatal(err)
	}
	if c, err := mem.Get(ctx, "svc"); err != nil || c.Issuer != s.cfg.Issuer || c.Template != "service" {
		t.Fatalf("stored %v (%v), want an instance of service at %s", c, err, s.cfg.Issuer)
	}
	if err := os.WriteFile(file, []byte("registrations:\n  svc:\n    profile: nope\n    template: service\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := planRun(ctx, &declareOptions{G: g, File: file, Store: mem})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "clients.yaml:2: registrations.svc.profile: no profile \"nope\"") {
		t.Errorf("unknown profile: %v (exit %d)", err, ExitCode(err))
	}
}
