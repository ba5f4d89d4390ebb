package cmd

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/cimd"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
)

// TestExitCodes checks the one place that maps errors to exit codes for the errors of
// packages client and keystore, wrapped as the commands wrap them.
func TestExitCodes(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("dcrctl: get %q: %w", "app", err) }
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usageErrorf("bad"), ExitUsage},
		{"invalid_token", wrap(&client.Error{Op: "read", StatusCode: 401, Code: "invalid_token"}), ExitAuth},
		{"401 without a code", wrap(&client.Error{Op: "register", StatusCode: 401}), ExitAuth},
		{"insufficient_scope", wrap(&client.Error{Op: "register", StatusCode: 403, Code: "insufficient_scope"}), ExitAuth},
		{"invalid_client_metadata", wrap(&client.Error{Op: "register", StatusCode: 400, Code: "invalid_client_metadata"}), ExitServer},
		{"server error 500", wrap(&client.Error{Op: "update", StatusCode: 500}), ExitServer},
		{"incomplete response", wrap(client.ErrIncompleteResponse), ExitServer},
		{"issuer mismatch", wrap(client.ErrIssuerMismatch), ExitServer},
		{"probe found a violation", &ProbeViolationsError{N: 1}, ExitServer},
		{"not found", wrap(keystore.ErrNotFound), ExitKeystore},
		{"not found (cmd)", notFound("x"), ExitKeystore},
		{"secrets missing", wrap(keystore.ErrSecretsMissing), ExitKeystore},
		{"unavailable", wrap(&keystore.UnavailableError{Reason: "no bus"}), ExitKeystore},
		{"locked", wrap(&keystore.LockedError{}), ExitKeystore},
		{"too big", wrap(&keystore.TooBigError{Size: 2, Max: 1}), ExitKeystore},
		{"corrupt", wrap(&keystore.CorruptError{Path: "p", Err: errors.New("x")}), ExitKeystore},
		{"wrong keystore", wrap(&keystore.WrongKeystoreError{Name: "a", Has: "file", Opened: "os"}), ExitKeystore},
		{"store failed after registering", &registrar.StoreError{Op: "register", Err: errors.New("x")}, ExitKeystore},
		{"name taken", wrap(&registrar.NameTakenError{Name: "a"}), ExitUsage},
		{"forget failed", wrap(&registrar.ForgetError{Name: "a", Err: keystore.ErrNotFound}), ExitKeystore},
		{"flows invalid_client", wrap(&flows.Error{Code: "invalid_client"}), ExitAuth},
		{"flows expired_token", wrap(&flows.Error{Code: "expired_token"}), ExitTimeout},
		{"flows server_error", wrap(&flows.Error{Code: "server_error"}), ExitServer},
		{"keyring timeout", wrap(&keystore.TimeoutError{Op: "read", After: time.Second}), ExitTimeout},
		{"--timeout", wrap(context.DeadlineExceeded), ExitTimeout},
		{"interrupted", wrap(context.Canceled), ExitCanceled},
		{"plan: changes needed", &changesError{n: 1}, ExitChanges},
		{"apply: a failed entry", &failedStepsError{names: []string{"a"}, first: wrap(&client.Error{Op: "register", StatusCode: 400})}, ExitServer},
		{"cimd document invalid", invalidDocument("d.json", cimd.Problems{{Message: "x"}}), ExitInvalid},
		{"cimd warnings only", invalidDocument("d.json", cimd.Problems{{Message: "x", Warning: true}}), ExitOK},
		{"other", errors.New("x"), ExitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestEveryCommandHasExamples: each visible command's help shows examples.
func TestEveryCommandHasExamples(t *testing.T) {
	ios, _, _, _ := TestStreams()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() || s.Name() == "help" {
				continue
			}
			if s.Example == "" {
				t.Errorf("%s has no examples", s.CommandPath())
			}
			walk(s)
		}
	}
	walk(NewRootCmd(ios, BuildInfo{}))
}
