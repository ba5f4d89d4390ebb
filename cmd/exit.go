package cmd

import (
	"context"
	"errors"
	"slices"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/cimd"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
)

// Exit codes. They are part of the command-line interface: scripts rely on them, and the
// root command's help and the README list them.
const (
	ExitOK       = 0   // success
	ExitError    = 1   // any other failure
	ExitUsage    = 2   // bad flags or arguments
	ExitChanges  = 2   // dcrctl plan: changes are needed (as diff(1) and terraform plan -detailed-exitcode)
	ExitServer   = 3   // the server answered with a protocol error, or probe found a violation
	ExitAuth     = 4   // authentication failed: bad or missing token, wrong credentials, login refused
	ExitKeystore = 5   // the credential store failed (no keyring, locked, too big, not found)
	ExitTimeout  = 6   // a time limit ran out (--timeout, a browser login, a device approval)
	ExitInvalid  = 7   // a checked document breaks a rule (dcrctl cimd check, cimd init)
	ExitCanceled = 130 // interrupted (Ctrl-C)
)

// exitCodeHelp is shown in the root command's help.
const exitCodeHelp = `Exit codes:
  0    success
  1    other failure
  2    usage error (bad flags or arguments); dcrctl plan: changes are needed
  3    the server answered with a protocol error (probe: the report has a violation)
  4    authentication failed (token, credentials, login)
  5    credential store error (keyring unavailable, locked, not found)
  6    timed out
  7    the document checked is invalid (dcrctl cimd check)
  130  interrupted`

// UsageError marks an error in the command line itself.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a UsageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmtErrorf(format, args...)}
}

// exitRules decides the exit code of a failed command: the first rule that matches wins,
// in this order. A keyring timeout matches context.DeadlineExceeded and so is 6, not 5; a
// store failure after the server acted is 5 whatever the store's error.
var exitRules = []struct {
	code  int
	match func(error) bool
}{
	{ExitChanges, isA[*changesError]},
	{ExitUsage, isA[*UsageError]},
	{ExitUsage, isA[*registrar.NameTakenError]},
	{ExitUsage, isA[*registrar.ClientIDTakenError]},
	{ExitInvalid, isA[*cimd.InvalidError]},
	{ExitCanceled, func(err error) bool { return errors.Is(err, context.Canceled) }},
	{ExitTimeout, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	{ExitKeystore, isA[*registrar.StoreError]},
	{ExitKeystore, isA[*registrar.ForgetError]},
	{ExitTimeout, isProtocolCode("expired_token")},
	{ExitAuth, isProtocolCode("invalid_token", "insufficient_scope", "invalid_client", "unauthorized_client", "invalid_grant",
		"invalid_scope", "access_denied", "login_required", "interaction_required", "consent_required",
		"account_selection_required")},
	{ExitAuth, func(err error) bool {
		var ce *client.Error
		return errors.As(err, &ce) && ce.StatusCode == 401
	}},
	{ExitServer, isA[*client.Error]},
	{ExitServer, isA[*ProbeViolationsError]},
	{ExitServer, func(err error) bool {
		return errors.Is(err, client.ErrIncompleteResponse) || errors.Is(err, client.ErrIssuerMismatch)
	}},
	{ExitAuth, func(err error) bool {
		return errors.Is(err, flows.ErrStateMismatch) || errors.Is(err, flows.ErrIssuerMismatch) || errors.Is(err, flows.ErrIssuerMissing)
	}},
	{ExitKeystore, isKeystoreError},
}

// ExitCode decides, in one place, the process exit code for an error returned by a command.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	for _, r := range exitRules {
		if r.match(err) {
			return r.code
		}
	}
	return ExitError
}

// isA reports whether err wraps an E.
func isA[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

// isProtocolCode matches a protocol error (of package client or flows: one type) with one
// of codes.
func isProtocolCode(codes ...string) func(error) bool {
	return func(err error) bool {
		var ce *client.Error
		return errors.As(err, &ce) && slices.Contains(codes, ce.Code)
	}
}

// isKeystoreError matches package keystore's errors.
func isKeystoreError(err error) bool {
	return errors.Is(err, keystore.ErrNotFound) || errors.Is(err, keystore.ErrSecretsMissing) ||
		isA[*keystore.UnavailableError](err) || isA[*keystore.LockedError](err) || isA[*keystore.TooBigError](err) ||
		isA[*keystore.CorruptError](err) || isA[*keystore.WrongKeystoreError](err)
}
