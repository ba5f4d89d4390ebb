package cmd

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManWritesAPagePerCommand checks that the release build's man-page generator writes a
// page for every visible command in the tree, each a valid roff page naming its command.
func TestManWritesAPagePerCommand(t *testing.T) {
	dir := t.TempDir()
	ios, _, _, errOut := TestStreams()
	if code := Run(context.Background(), ios, BuildInfo{}, []string{"man", dir}); code != ExitOK {
		t.Fatalf("dcrctl man: exit %d, stderr %q", code, errOut)
	}

	var want []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.Parent() != nil {
			return
		}
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	root := NewRootCmd(ios, BuildInfo{})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	sort.Strings(want)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("man pages\n got: %v\nwant: %v", got, want)
	}
	page, err := os.ReadFile(filepath.Join(dir, "dcrctl-version.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`.TH "DCRCTL" "1"`, "dcrctl-version", "Print the version"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("dcrctl-version.1 lacks %q:\n%s", s, page)
		}
	}
}
