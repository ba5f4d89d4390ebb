package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
)

// TestDeleteConfirmsAndReports: on a terminal delete asks first (no → nothing deleted, yes →
// deleted), --yes and a non-terminal do not ask; -o json prints what happened, and
// --already-gone says when the server deleted nothing.
func TestDeleteConfirmsAndReports(t *testing.T) {
	s := startCLIServer(t, nil)
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": s.cfg.Clients[0].ClientSecret,
		"NO_COLOR": "1"}
	ctx := context.Background()
	register := func(name string) string {
		t.Helper()
		r := runCLI(t, ctx, "", env, "register", "--issuer", s.cfg.Issuer, "--template", "service", "--name", name,
			"--client-credentials", "--client-id", testserver.DefaultBootstrapClient)
		if r.Code != ExitOK {
			t.Fatalf("register %s: exit %d, %s", name, r.Code, r.Stderr)
		}
		return clientIDOf(t, env, name)
	}
	onTTY := func(answer string, args ...string) cliResult {
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		ios := &IOStreams{In: strings.NewReader(answer), Out: out, ErrOut: errOut, InTTY: true, ErrTTY: true,
			Getenv: func(k string) string { return env[k] }}
		code := Run(ctx, ios, BuildInfo{Version: "test"}, args)
		return cliResult{Code: code, Stdout: out.String(), Stderr: errOut.String()}
	}
	id := register("svc")
	// show -o json carries every field its table shows, the keystore and template among them.
	sh := runCLI(t, ctx, "", env, "show", "svc", "-o", "json")
	var shown map[string]any
	if sh.Code != ExitOK || json.Unmarshal([]byte(sh.Stdout), &shown) != nil || shown["keystore"] != "file" || shown["template"] != "service" {
		t.Errorf("show -o json: exit %d, %s; want keystore file and template service", sh.Code, sh.Stdout)
	}
	r := onTTY("n\n", "delete", "svc")
	question := "Delete client " + id + ` ("svc") at ` + s.cfg.Issuer + "? [y/N] "
	if r.Code != ExitError || r.Stderr != question+"dcrctl: not confirmed; nothing was sent or changed\n" {
		t.Fatalf("answered no: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if got := clientIDOf(t, env, "svc"); got != id {
		t.Fatalf("after no: stored %q", got)
	}
	r = onTTY("y\n", "delete", "svc", "-o", "json")
	var v map[string]any
	if r.Code != ExitOK || json.Unmarshal([]byte(r.Stdout), &v) != nil {
		t.Fatalf("answered yes: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	want := map[string]any{"name": "svc", "client_id": id, "issuer": s.cfg.Issuer, "deleted_at_server": true, "forgotten": true}
	if !mapsEqual(v, want) || !strings.HasPrefix(r.Stderr, question) {
		t.Errorf("answered yes: %v, stderr %q; want %v", v, r.Stderr, want)
	}
	if r := onTTY("", "delete", "svc", "--yes"); r.Code != ExitKeystore {
		t.Errorf("deleted twice: exit %d, %q", r.Code, r.Stderr)
	}

	id = register("gone")
	if err := s.srv.DeleteClient(ctx, id); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, ctx, "", env, "delete", "gone", "--already-gone", "-o", "json") // not a terminal: no question
	want = map[string]any{"name": "gone", "client_id": id, "issuer": s.cfg.Issuer, "deleted_at_server": false, "forgotten": true}
	v = nil
	if r.Code != ExitOK || json.Unmarshal([]byte(r.Stdout), &v) != nil || !mapsEqual(v, want) ||
		r.Stderr != "the server answered 401: client "+id+` was gone already, nothing was deleted there; forgot "gone"`+"\n" {
		t.Errorf("--already-gone: exit %d, stdout %q, stderr %q; want %v", r.Code, r.Stdout, r.Stderr, want)
	}
}

func mapsEqual(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
