//go:build unix

package cmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestREADMECompletionCommandsOnAFreshHome runs each completion command of the README's
// "Shell completion by hand" block with an empty HOME: each writes exactly what
// dcrctl completion SHELL prints, and bash can load its file. The PowerShell line needs
// PowerShell (not on this machine's distribution): for it only the script is checked.
func TestREADMECompletionCommandsOnAFreshHome(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Shell completion by hand.")
	_, rest, ok2 := strings.Cut(rest, "```sh\n")
	block, _, ok3 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no sh block after \"Shell completion by hand.\"")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shells := map[string]string{"bash": ".local/share/bash-completion/completions/dcrctl", "zsh": ".zfunc/_dcrctl",
		"fish": ".config/fish/completions/dcrctl.fish"}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		shell := strings.Fields(strings.SplitN(line, "dcrctl completion ", 2)[1])[0]
		seen[shell] = true
		home := t.TempDir()
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
		want := runTool(t, ctx, env, "dcrctl", "completion", shell)
		if len(want) < 1000 {
			t.Errorf("dcrctl completion %s printed %d bytes", shell, len(want))
		}
		if shell == "powershell" {
			continue
		}
		runTool(t, ctx, env, "sh", "-c", line)
		got, err := os.ReadFile(filepath.Join(home, shells[shell]))
		if err != nil || string(got) != want {
			t.Errorf("%s: the file is %d bytes (%v), want the %d bytes of dcrctl completion %s", line, len(got), err, len(want), shell)
		}
		if shell == "bash" {
			if out := runTool(t, ctx, env, "bash", "-c", "source ~/"+shells[shell]+" && complete -p dcrctl"); !strings.Contains(out, "-F __start_dcrctl dcrctl") {
				t.Errorf("bash loaded the file but has no completion for dcrctl: %q", out)
			}
		}
	}
	for _, s := range []string{"bash", "zsh", "fish", "powershell"} {
		if !seen[s] {
			t.Errorf("the README's block has no line for %s", s)
		}
	}
}

func runTool(t *testing.T, ctx context.Context, env []string, name string, args ...string) string {
	t.Helper()
	c := exec.CommandContext(ctx, name, args...)
	c.Env = env
	out, err := c.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %q: %v; stderr %s", name, args, err, stderr)
	}
	return string(out)
}
