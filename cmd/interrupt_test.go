package cmd

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
)

// TestInterruptedSaysWhichStep: --timeout and Ctrl-C name the request they stopped, and for
// register whether anything may have been registered. The real server holds the request
// (an injected delay).
func TestInterruptedSaysWhichStep(t *testing.T) {
	s := startCLIServer(t, nil)
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	register := []string{"register", "--issuer", s.cfg.Issuer, "--template", "service", "--client-credentials", "--client-id", "bootstrap"}
	for _, tc := range []struct {
		name     string
		endpoint string
		cancel   bool // Ctrl-C instead of --timeout
		code     int
		says     string
	}{
		{"timeout at the token endpoint", testserver.EndpointToken, false, ExitTimeout,
			`; --timeout 400ms ran out while waiting for the answer to POST http://127\.0\.0\.1:\d+/token; nothing was registered\n$`},
		{"timeout at the registration endpoint", testserver.EndpointRegistration, false, ExitTimeout,
			`; --timeout 400ms ran out while waiting for the answer to POST http://127\.0\.0\.1:\d+/register; the registration request had been sent, so the server may have created a client that dcrctl could not store: if so, ask its administrator to delete it\n$`},
		{"Ctrl-C at the registration endpoint", testserver.EndpointRegistration, true, ExitCanceled,
			`; interrupted while waiting for the answer to POST http://127\.0\.0\.1:\d+/register; the registration request had been sent`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.srv.InjectFault(tc.endpoint, testserver.Fault{Count: 1, Delay: 30 * time.Second}); err != nil {
				t.Fatal(err)
			}
			defer s.srv.ClearFaults()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := register
			if tc.cancel {
				time.AfterFunc(400*time.Millisecond, cancel)
			} else {
				args = append(args, "--timeout", "400ms")
			}
			r := runCLI(t, ctx, "", env, args...)
			if r.Code != tc.code || !regexp.MustCompile(tc.says).MatchString(r.Stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d matching %q", r.Code, r.Stderr, tc.code, tc.says)
			}
		})
	}
}

// TestDeletedElsewhere: a registration deleted at the server behind dcrctl's back. get and
// update answer 401 and name delete --already-gone and forget for this credential; login of
// the deleted client names get and forget, not flags login does not have.
func TestDeletedElsewhere(t *testing.T) {
	s := startCLIServer(t, nil)
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	ctx := context.Background()
	if r := runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--name", "svc",
		"--client-credentials", "--client-id", "bootstrap"); r.Code != ExitOK {
		t.Fatalf("register: %d %s", r.Code, r.Stderr)
	}
	if err := s.srv.DeleteClient(ctx, clientIDOf(t, env, "svc")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"get", "svc"}, "; the registration was deleted at the server, or its registration access token rotated elsewhere (another machine, a lost answer): dcrctl delete svc --already-gone, or dcrctl forget svc\n"},
		{[]string{"update", "svc", "--set", "client_name=x"}, "; the registration was deleted at the server, or its registration access token rotated elsewhere (another machine, a lost answer): dcrctl delete svc --already-gone, or dcrctl forget svc\n"},
		{[]string{"delete", "svc"}, "; if the client was already deleted at the server, run dcrctl delete svc --already-gone\n"},
		{[]string{"login", "svc"}, "; the client may have been deleted at the server, or its secret rotated elsewhere: dcrctl get svc tells (a 401 there means it is gone, then dcrctl forget svc)\n"},
	} {
		r := runCLI(t, ctx, "", env, append(tc.args, "--issuer", s.cfg.Issuer)...)
		if r.Code != ExitAuth || !strings.HasSuffix(r.Stderr, tc.says) || strings.Contains(r.Stderr, "--client-id") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d ending %q", tc.args, r.Code, r.Stderr, ExitAuth, tc.says)
		}
	}
}

// TestOneStdinReader: -f - and --client-secret-file - would both read stdin: a usage error
// before anything is read or sent.
func TestOneStdinReader(t *testing.T) {
	r := runCLI(t, context.Background(), `{"client_name":"x"}`, map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir()},
		"register", "--issuer", "http://127.0.0.1:1", "-f", "-", "--client-credentials", "--client-id", "b", "--client-secret-file", "-")
	want := "dcrctl: --client-secret-file - and -f - both read standard input, which can be read only once: give all but one a file (a secret file of mode 0600, or the environment: DCRCTL_CLIENT_SECRET, DCRCTL_TOKEN)\n"
	if r.Code != ExitUsage || r.Stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 2, %q", r.Code, r.Stderr, want)
	}
}
