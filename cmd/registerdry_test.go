package cmd

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
)

// requestLog collects "METHOD path" of every request the test server answers (its Logger).
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }
func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	var method, path string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	l.reqs = append(l.reqs, method+" "+path)
	l.mu.Unlock()
	return nil
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reqs
	l.reqs = nil
	return r
}

// TestRegisterDryRun: --dry-run prints the request register would send (method, URL, every
// header, the JSON body) with the token and secret members redacted, sends nothing but
// discovery, fetches no initial token (client credentials) and spends none (a single-use
// token from a file still registers afterwards), and stores nothing.
func TestRegisterDryRun(t *testing.T) {
	log := &requestLog{}
	s := startCLIServer(t, func(c *testserver.Config) { c.Logger = slog.New(log) })
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "NO_COLOR": "1",
		"DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret}
	ctx := context.Background()
	secretFile := filepath.Join(t.TempDir(), "hook.json")
	os.WriteFile(secretFile, []byte(`{"x_webhook_secret": "hook-secret-value", "client_name": "Dry"}`), 0o600)

	log.take()
	r := runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--client-credentials", "--client-id", testserver.DefaultBootstrapClient,
		"--template", "service", "-f", secretFile, "--dry-run", "-o", "json")
	var got dryRequest
	if r.Code != ExitOK || json.Unmarshal([]byte(r.Stdout), &got) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	var body map[string]any
	json.Unmarshal(got.Body, &body)
	want := dryRequest{Method: "POST", URL: s.cfg.Issuer + "/register", InitialToken: "the client credentials grant of bootstrap",
		Headers: map[string]string{"Accept": "application/json", "Authorization": "Bearer [REDACTED]", "Content-Type": "application/json", "User-Agent": "dcrctl/test"}}
	got.Body = nil
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(body, map[string]any{"software_id": "service", "client_name": "Dry", "x_webhook_secret": "[REDACTED]"}) {
		t.Errorf("dry run printed %+v, body %v\nwant %+v", got, body, want)
	}
	if reqs := log.take(); !reflect.DeepEqual(reqs, []string{"GET /.well-known/oauth-authorization-server"}) {
		t.Errorf("the server saw %q, want discovery only", reqs)
	}
	if strings.Contains(r.Stdout+r.Stderr, "hook-secret-value") || strings.Contains(r.Stdout+r.Stderr, s.cfg.Clients[0].ClientSecret) {
		t.Error("a secret was printed")
	}
	wantErr := "dry run: nothing was sent to the registration endpoint and nothing was stored; the initial access token would come from the client credentials grant of bootstrap (not fetched)\n"
	if r.Stderr != wantErr {
		t.Errorf("stderr %q, want %q", r.Stderr, wantErr)
	}

	// A single-use initial token from a file: the dry run does not spend it.
	tok := runCLI(t, ctx, "", env, "token", "--issuer", s.cfg.Issuer, "--client-credentials", "--client-id", testserver.DefaultBootstrapClient)
	tokFile := filepath.Join(t.TempDir(), "initial.token")
	os.WriteFile(tokFile, []byte(tok.Stdout), 0o600)
	log.take()
	r = runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--token-file", tokFile, "--template", "service", "--dry-run")
	wantText := "POST " + s.cfg.Issuer + "/register\nAccept: application/json\nAuthorization: Bearer [REDACTED]\nContent-Type: application/json\nUser-Agent: dcrctl/test\n\n{\n  \"software_id\": \"service\"\n}\n"
	if r.Code != ExitOK || r.Stdout != wantText || !strings.Contains(r.Stderr, "would come from the file "+tokFile+" (not fetched)") {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant stdout %q", r.Code, r.Stdout, r.Stderr, wantText)
	}
	if strings.Contains(r.Stdout+r.Stderr, strings.TrimSpace(tok.Stdout)) {
		t.Error("the initial token was printed")
	}
	if reqs := log.take(); len(reqs) != 1 {
		t.Errorf("the server saw %q, want discovery only", reqs)
	}
	if l := runCLI(t, ctx, "", env, "list", "-o", "json"); strings.TrimSpace(l.Stdout) != "[]" {
		t.Errorf("after the dry runs the keystore holds %s", l.Stdout)
	}
	if r := runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--token-file", tokFile, "--template", "service", "--name", "real"); r.Code != ExitOK {
		t.Errorf("registering with the token the dry run did not spend: exit %d, %s", r.Code, r.Stderr)
	}

	// open registration: no Authorization header; -o env is refused
	r = runCLI(t, ctx, "", map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir()}, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--dry-run")
	if r.Code != ExitOK || strings.Contains(r.Stdout, "Authorization") || !strings.Contains(r.Stderr, "would come from none (open registration)") {
		t.Errorf("open: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--dry-run", "-o", "env"); r.Code != ExitUsage {
		t.Errorf("-o env: exit %d, %q", r.Code, r.Stderr)
	}
}
