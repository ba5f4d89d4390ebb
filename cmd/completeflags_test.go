package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
)

// TestFlagValueCompletion runs the shell completion of flag values as a shell would
// (dcrctl __complete …): -o per command, --keystore, --profile from the config file,
// --template from the credentials stored for the issuer, and serve's values.
func TestFlagValueCompletion(t *testing.T) {
	s := startCLIServer(t, nil)
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": dir, "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("profiles:\n  local:\n    issuer: "+s.cfg.Issuer+"\n  staging:\n    issuer: https://staging.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if r := runCLI(t, context.Background(), "", env, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--name", name,
			"--client-credentials", "--client-id", testserver.DefaultBootstrapClient); r.Code != ExitOK {
			t.Fatalf("register: %d %s", r.Code, r.Stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "-o", ""}, "table\njson\nyaml\nenv\n:4\n"},
		{[]string{"list", "-o", ""}, "table\njson\nyaml\n:4\n"},
		{[]string{"list", "--keystore", ""}, "os\tthe OS keyring\nfile\tplaintext files (insecure)\nnone\tkeep nothing\n:4\n"},
		{[]string{"list", "--profile", ""}, "local\t" + s.cfg.Issuer + "\nstaging\thttps://staging.example\n:4\n"},
		{[]string{"register", "--issuer", s.cfg.Issuer, "--template", ""}, "service\n:4\n"},
		{[]string{"register", "--issuer", "https://other.example", "--template", ""}, ":4\n"},
		{[]string{"token", "--auth-method", ""}, "client_secret_basic\nclient_secret_post\nnone\n:4\n"},
		{[]string{"serve", "--behave-like", ""}, strings.Join(testserver.ProfileNames(), "\n") + "\n:4\n"},
	} {
		r := runCLI(t, context.Background(), "", env, append([]string{"__complete"}, tc.args...)...)
		if r.Code != ExitOK || r.Stdout != tc.want {
			t.Errorf("complete %q: exit %d, got\n%q\nwant\n%q", tc.args, r.Code, r.Stdout, tc.want)
		}
	}
}
