package cmd

import (
	"context"
	"strings"
	"testing"
)

// TestColour: on terminals, the list header is bold, warnings yellow and the error prefix
// red; NO_COLOR, --no-color, TERM=dumb and non-terminals get plain text.
func TestColour(t *testing.T) {
	s := startCLIServer(t, nil)
	dir := t.TempDir()
	base := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": dir, "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	if r := runCLI(t, context.Background(), "", base, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--name", "svc",
		"--client-credentials", "--client-id", "bootstrap"); r.Code != ExitOK {
		t.Fatalf("register: %d %s", r.Code, r.Stderr)
	}
	run := func(tty bool, env map[string]string, args ...string) cliResult {
		e := map[string]string{}
		for k, v := range base {
			e[k] = v
		}
		for k, v := range env {
			e[k] = v
		}
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, OutTTY: tty, ErrTTY: tty, Getenv: func(k string) string { return e[k] }}
		code := Run(context.Background(), ios, BuildInfo{Version: "test"}, args)
		return cliResult{Code: code, Stdout: out.String(), Stderr: errOut.String()}
	}
	const bold, red, yellow = "\x1b[1mNAME\x1b[0m", "\x1b[31mdcrctl:\x1b[0m ", "\x1b[33mwarning:\x1b[0m "
	warn := []string{"register", "--issuer", s.cfg.Issuer, "--template", "service", "--token", "not-a-token"} // warns: a token on argv
	for _, tc := range []struct {
		name string
		tty  bool
		env  map[string]string
		flag []string
		on   bool
	}{
		{"terminal", true, nil, nil, true},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, nil, false},
		{"--no-color", true, nil, []string{"--no-color"}, false},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, nil, false},
		{"a pipe", false, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := run(tc.tty, tc.env, append([]string{"list"}, tc.flag...)...)
			bad := run(tc.tty, tc.env, append([]string{"show", "nonexistent"}, tc.flag...)...)
			w := run(tc.tty, tc.env, append(warn, tc.flag...)...)
			got := []bool{strings.HasPrefix(list.Stdout, bold), strings.HasPrefix(bad.Stderr, red), strings.Contains(w.Stderr, yellow)}
			for i, what := range []string{"bold list header", "red error prefix", "yellow warning"} {
				if got[i] != tc.on {
					t.Errorf("%s: %v, want %v (list %q, error %q, warning %q)", what, got[i], tc.on, list.Stdout, bad.Stderr, w.Stderr)
				}
			}
			if !tc.on && strings.Contains(list.Stdout+bad.Stderr+w.Stderr, "\x1b[") {
				t.Errorf("an escape sequence without colour: %q %q %q", list.Stdout, bad.Stderr, w.Stderr)
			}
		})
	}
}
