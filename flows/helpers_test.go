package flows

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// requireComponent fails the test when a real component it needs is missing and CI=true, and
// skips it otherwise.
func requireComponent(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required with CI=true but missing", what)
	}
	t.Skipf("%s is missing (set CI=true to make this a failure)", what)
}

// TestHelperProcess is not a test: it is the "browser" program that Browser.Open starts in
// the tests below (the test binary runs itself). Its arguments after "--" are
// OUTFILE ARGS…: it prints a line to stdout and one to stderr (which must not reach our
// stdout), then writes ARGS, one per line, to OUTFILE.
func TestHelperProcess(t *testing.T) {
	args := os.Args
	i := 0
	for i < len(args) && args[i] != "--" {
		i++
	}
	if i >= len(args)-1 || os.Getenv("DCRCTL_HELPER_PROCESS") != "1" {
		return // an ordinary test run: nothing to do
	}
	args = args[i+1:]
	fmt.Fprintln(os.Stdout, "helper-stdout")
	fmt.Fprintln(os.Stderr, "helper-stderr")
	if err := os.WriteFile(args[0]+".tmp", []byte(strings.Join(args[1:], "\n")), 0o600); err != nil {
		os.Exit(2)
	}
	if err := os.Rename(args[0]+".tmp", args[0]); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

// helperCommand is a command line (for DCRCTL_BROWSER or BROWSER) that runs TestHelperProcess
// writing its arguments to outFile, with extra arguments before the URL.
func helperCommand(t *testing.T, outFile string, extra ...string) string {
	t.Helper()
	t.Setenv("DCRCTL_HELPER_PROCESS", "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{shq(exe), "-test.run=^TestHelperProcess$", "--", shq(outFile)}
	for _, e := range extra {
		parts = append(parts, shq(e))
	}
	return strings.Join(parts, " ")
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
