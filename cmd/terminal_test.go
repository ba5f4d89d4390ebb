//go:build unix

package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
)

// TestSecretPromptInTerminal runs dcrctl in a real terminal (tmux): without a secret from a
// file or the environment, token --client-credentials asks for it, and what is typed is not
// echoed.
func TestSecretPromptInTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required here (CI=true): .ci/test installs it")
		}
		t.Skip("tmux is not installed")
	}
	s := startCLIServer(t, nil)
	secret := s.cfg.Clients[0].ClientSecret
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	command := fmt.Sprintf("env -u CI DCRCTL_TEST_RUN_MAIN=1 DCRCTL_CONFIG_DIR=%s %s token --issuer %s --client-credentials --client-id %s; echo EXIT=$?; sleep 60",
		dir, exe, s.cfg.Issuer, testserver.DefaultBootstrapClient)
	run := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v: %s", args[0], err, out)
		}
		return string(out)
	}
	run("new-session", "-d", "-x", "200", "-y", "20", command)
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })
	screen := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			pane := strings.ReplaceAll(run("capture-pane", "-p", "-J"), secret, "<SECRET>") // never log it
			if strings.Contains(pane, want) || time.Now().After(deadline) {
				return pane
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if pane := screen("client secret of bootstrap: "); !strings.Contains(pane, "client secret of bootstrap: ") {
		t.Fatalf("no prompt for the secret; the terminal shows:\n%s", pane)
	}
	run("send-keys", "-l", "--", secret) // a secret may start with "-"
	run("send-keys", "Enter")
	pane := screen("EXIT=")
	if !strings.Contains(pane, "EXIT=0") || !regexp.MustCompile(`(?m)^[A-Za-z0-9_~.+/=-]{20,}$`).MatchString(pane) {
		t.Fatalf("the token command did not print a token; the terminal shows:\n%s", pane)
	}
	if strings.Contains(pane, "<SECRET>") {
		t.Fatalf("the typed secret was echoed; the terminal shows:\n%s", pane)
	}
}
