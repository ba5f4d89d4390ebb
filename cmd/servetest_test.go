package cmd

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeControl: --control prints the control API's URL and token in the ready line; the
// API answers with the token only; --behave-like and --clock fake take effect.
func TestServeControl(t *testing.T) {
	r := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--control", "--clock", "fake", "--behave-like", "keycloak", "--seed", "3")
	info := r.readyLine(t)
	ctl, _ := info["control"].(map[string]any)
	url, tok := str(ctl["url"]), str(ctl["token"])
	if !strings.HasSuffix(url, "/_control") || len(tok) < 20 {
		t.Fatalf("control in the ready line: %v", ctl)
	}
	post := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(`{"seconds": 60}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := []int{post("/clock/advance", tok), post("/clock/advance", ""), post("/reset", "wrong")}; got[0] != 200 || got[1] != 401 || got[2] != 401 {
		t.Errorf("control statuses %v, want [200 401 401]", got)
	}
	if info["behave_like"] != "keycloak" {
		t.Errorf("behave_like in the ready line: %v", info["behave_like"])
	}
	eps, _ := info["endpoints"].(map[string]any)
	if reg := str(eps["registration_endpoint"]); !strings.HasSuffix(reg, "/realms/dcrctl/clients-registrations/openid-connect") {
		t.Errorf("keycloak registration endpoint: %q", reg)
	}
}

func TestServeTestFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--memory", "--behave-like", "auth0"}, {"--memory", "--clock", "slow"}} {
		ios, _, _, errOut := TestStreams()
		if code := Run(context.Background(), ios, BuildInfo{}, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)); code != ExitUsage || !strings.Contains(errOut.String(), args[1]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }

// TestServeExportImport: a database's state exported to a file and imported into an
// in-memory server keeps the bootstrap client's generated secret; the file is 0600.
func TestServeExportImport(t *testing.T) {
	dir := t.TempDir()
	db, file := filepath.Join(dir, "serve.db"), filepath.Join(dir, "state.json")
	first := startServe(t, nil, "-o", "json", "--db", db, "--addr", "127.0.0.1:0")
	secret := str(first.readyLine(t)["client_secret"])
	if code := first.stop(t); code != ExitOK {
		t.Fatalf("serve exit %d", code)
	}
	ios, _, _, errOut := TestStreams()
	if code := Run(context.Background(), ios, BuildInfo{}, []string{"serve", "export", "--db", db, file}); code != ExitOK {
		t.Fatalf("export: exit %d: %s", code, errOut.String())
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi.Mode(), err)
	}
	second := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--import", file)
	if got := str(second.readyLine(t)["client_secret"]); got != secret {
		t.Errorf("bootstrap secret after import differs")
	}
}
