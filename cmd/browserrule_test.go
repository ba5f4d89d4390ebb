package cmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestBrowserRule: token --login, register --login and login NAME open a browser under one
// rule. The browser here is a DCRCTL_BROWSER or BROWSER command that writes the URL to a file;
// when it is not started, the user copies the URL from stderr. Either way the scripted
// browser then finishes the login, so every run must succeed.
func TestBrowserRule(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) { c.Registration = testserver.ModeUser })
	commands := map[string][]string{
		"token --login":    {"token", "--login", "--client-id", testserver.DefaultNativeClient},
		"register --login": {"register", "--template", testserver.DefaultTemplate, "--login", "--client-id", testserver.DefaultNativeClient},
		"login NAME":       {"login", "app"},
	}
	cases := []struct {
		name   string
		flags  []string
		env    string // DCRCTL_BROWSER, BROWSER or ""
		ci     bool
		opened bool
	}{
		{name: "not interactive, not asked", opened: false},
		{name: "--browser", flags: []string{"--browser"}, env: "", opened: true},
		{name: "DCRCTL_BROWSER set is asking", env: "DCRCTL_BROWSER", ci: true, opened: true},
		{name: "BROWSER set is asking", env: "BROWSER", opened: true},
		{name: "--no-browser beats DCRCTL_BROWSER", flags: []string{"--no-browser"}, env: "DCRCTL_BROWSER", opened: false},
	}
	for cmdName, args := range commands {
		for _, tc := range cases {
			t.Run(cmdName+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				urlFile := filepath.Join(dir, "opened")
				env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config"),
					"DISPLAY": ":0"}
				if tc.ci {
					env["CI"] = "true"
				}
				// --browser without a command would start the desktop's browser: name one.
				name := tc.env
				if name == "" && tc.opened {
					name = "DCRCTL_BROWSER"
				}
				if name != "" {
					env[name] = "sh -c 'echo \"$1\" > " + urlFile + "' browser %s"
				}
				br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
				if cmdName == "login NAME" { // a stored native client to log in as
					r := runUser(t, env, br, urlFile, "register", "--template", testserver.DefaultTemplate, "--name", "app",
						"--login", "--no-browser", "--client-id", testserver.DefaultNativeClient, "--issuer", s.cfg.Issuer)
					if r.Code != ExitOK {
						t.Fatalf("register: exit %d, %s", r.Code, r.Stderr)
					}
					_ = os.Remove(urlFile)
				}
				full := append(append(append([]string{}, args...), tc.flags...), "--issuer", s.cfg.Issuer)
				r := runUser(t, env, br, urlFile, full...)
				if r.Code != ExitOK {
					t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
				}
				_, err := os.Stat(urlFile)
				if opened := err == nil; opened != tc.opened {
					t.Errorf("browser started: %v, want %v; stderr %q", opened, tc.opened, r.Stderr)
				}
				note := strings.Contains(r.Stderr, "not interactive: open the URL below yourself, or run with --browser")
				if wantNote := !tc.opened && !slices.Contains(tc.flags, "--no-browser"); note != wantNote {
					t.Errorf("the not-interactive note: %v, want %v; stderr %q", note, wantNote, r.Stderr)
				}
			})
		}
	}
}

// runUser runs dcrctl while a user finishes its login: from the URL the browser command
// wrote to urlFile, or else from the URL printed on stderr.
func runUser(t *testing.T, env map[string]string, br *flowstest.Browser, urlFile string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(k string) string { return env[k] }}
	done := make(chan struct{})
	var openErr error
	go func() {
		defer close(done)
		printed := regexp.MustCompile(`\n  (http://\S+/authorize\?\S+)\n`)
		for ctx.Err() == nil {
			if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
				openErr = br.Open(strings.TrimSpace(string(b)))
				return
			}
			if m := printed.FindStringSubmatch(errOut.String()); m != nil {
				openErr = br.Open(m[1])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code := Run(ctx, ios, BuildInfo{Version: "test"}, args)
	cancel()
	<-done
	stderr := errOut.String()
	if openErr != nil {
		stderr += "\n[the scripted browser failed: " + openErr.Error() + "]"
	}
	return cliResult{Code: code, Stdout: out.String(), Stderr: stderr}
}
