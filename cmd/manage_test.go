package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// TestDeleteAlreadyGoneAndForget: a client deleted at the server behind dcrctl's back makes
// delete fail with exit 4 and the advice; --already-gone then forgets it. forget removes a
// credential locally and leaves the registration at the server.
func TestDeleteAlreadyGoneAndForget(t *testing.T) {
	s := startCLIServer(t, nil)
	g, _, errOut := testGlobals(t, s.cfg.Issuer)
	mem := keystore.NewMemory()
	ctx := context.Background()
	for _, name := range []string{"gone", "kept"} {
		o := registerOpts(g, s, mem)
		o.Name = name
		if err := registerRun(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := mem.Get(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&client.Client{}).Delete(ctx, regOf(gone)); err != nil {
		t.Fatal(err)
	}

	err = withAdvice(deleteRun(ctx, &deleteOptions{manageOptions: manageOptions{G: g, Name: "gone", Store: mem}}))
	if ExitCode(err) != ExitAuth || !strings.HasSuffix(err.Error(), "; if the client was already deleted at the server, run dcrctl delete NAME --already-gone") {
		t.Errorf("delete of a deleted client: %v (exit %d), want exit 4 with the advice", err, ExitCode(err))
	}
	if err := deleteRun(ctx, &deleteOptions{manageOptions: manageOptions{G: g, Name: "gone", Store: mem}, Gone: true}); err != nil {
		t.Fatalf("delete --already-gone: %v", err)
	}
	if _, err := mem.Get(ctx, "gone"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("after delete --already-gone: %v, want not found", err)
	}

	kept, err := mem.Get(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if err := forgetRun(ctx, &manageOptions{G: g, Name: "kept", Store: mem}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Get(ctx, "kept"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("after forget: %v, want not found", err)
	}
	want := fmt.Sprintf("forgot \"kept\"; client %s is still registered at %s (dcrctl delete removes a registration at the server)\n", kept.ClientID, s.cfg.Issuer)
	if !strings.HasSuffix(errOut.String(), want) {
		t.Errorf("stderr ends %q, want %q", errOut.String(), want)
	}
	if _, err := (&client.Client{}).Read(ctx, regOf(kept)); err != nil {
		t.Errorf("the forgotten client is no longer registered: %v", err)
	}
	if err := forgetRun(ctx, &manageOptions{G: g, Name: "kept", Store: mem}); ExitCode(err) != ExitKeystore {
		t.Errorf("forget twice: %v, want exit 5", err)
	}
}

// TestSpinner: on an interactive terminal the spinner draws on stderr and clears its line
// before status text; elsewhere it draws nothing.
func TestSpinner(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interactive bool
		env         map[string]string
	}{
		{"terminal", true, nil},
		{"not a terminal", false, nil},
		{"CI=true", true, map[string]string{"CI": "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errOut := &lockedBuffer{}
			ios := &IOStreams{ErrOut: errOut, InTTY: tc.interactive, ErrTTY: tc.interactive, NoColor: true,
				Getenv: func(k string) string { return tc.env[k] }}
			sp := startSpinner(ios, "waiting…")
			// The spinner draws its first frame before it looks at Stop: no sleep needed.
			fmt.Fprint(sp.Writer(), "open http://127.0.0.1/x\n")
			sp.Stop()
			got := errOut.String()
			wantSpin := tc.interactive && tc.env["CI"] != "true"
			drawn := strings.Contains(got, "\r| waiting…")
			if drawn != wantSpin || !strings.Contains(got, "open http://127.0.0.1/x\n") {
				t.Errorf("stderr %q: spinner drawn %v, want %v; the status text must always show", got, drawn, wantSpin)
			}
			if wantSpin && !strings.HasSuffix(got, "\r\033[K") {
				t.Errorf("stderr %q does not end by clearing the spinner's line", got)
			}
		})
	}
}
