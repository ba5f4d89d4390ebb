package cmd

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandDeclaresItsOutputs: every command is in outputFormats, and every -o value
// it does not honour is refused with exit code 2 before anything runs (no server here: a
// command that ran would fail otherwise, or print).
func TestEveryCommandDeclaresItsOutputs(t *testing.T) {
	ios, _, _, _ := TestStreams()
	var paths []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() || s.Name() == "help" {
				continue
			}
			paths = append(paths, s)
			walk(s)
		}
	}
	walk(NewRootCmd(ios, BuildInfo{}))
	for _, c := range paths {
		known, ok := outputFormats[c.CommandPath()]
		if !ok {
			t.Errorf("%s is not in outputFormats (cmd/outputs.go): say which -o values it prints", c.CommandPath())
			continue
		}
		for _, f := range allOutputs {
			if slices.Contains(known, f) {
				continue
			}
			args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "dcrctl ")), "-o", f)
			if c.Args != nil && c.Args(c, nil) != nil { // needs an argument: give one
				arg := "x"
				if len(c.ValidArgs) > 0 {
					arg = c.ValidArgs[0]
				}
				args = append(args, arg)
			}
			env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_KEYSTORE": "file"}
			r := runCLI(t, context.Background(), "", env, args...)
			want := "dcrctl: -o " + f + ": " + c.CommandPath() + " prints " + strings.Join(known, ", ") + "\n"
			if r.Code != ExitUsage || r.Stderr != want || r.Stdout != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, r.Code, r.Stdout, r.Stderr, want)
			}
		}
	}
	r := runCLI(t, context.Background(), "", nil, "list", "-o", "xml")
	if r.Code != ExitUsage || !strings.Contains(r.Stderr, `unknown output format "xml"`) {
		t.Errorf("-o xml: exit %d, %q", r.Code, r.Stderr)
	}
}
