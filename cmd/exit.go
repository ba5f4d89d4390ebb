package cmd

import (
	"context"
	"errors"
)

// Exit codes. They are part of the command-line interface: scripts rely on them, and the
// root command's help and the README list them.
const (
	ExitOK       = 0   // success
	ExitError    = 1   // any other failure
	ExitUsage    = 2   // bad flags or arguments
	ExitServer   = 3   // the server answered with a protocol error
	ExitAuth     = 4   // authentication failed: bad or missing token, wrong credentials, login refused
	ExitKeystore = 5   // the credential store failed (no keyring, locked, too big, not found)
	ExitTimeout  = 6   // a time limit ran out (--timeout, a browser login, a device approval)
	ExitCanceled = 130 // interrupted (Ctrl-C)
)

// exitCodeHelp is shown in the root command's help.
const exitCodeHelp = `Exit codes:
  0    success
  1    other failure
  2    usage error (bad flags or arguments)
  3    the server answered with a protocol error
  4    authentication failed (token, credentials, login)
  5    credential store error (keyring unavailable, locked, not found)
  6    timed out
  130  interrupted`

// UsageError marks an error in the command line itself.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a UsageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmtErrorf(format, args...)}
}

// classifiers maps errors from the packages below to exit codes. Each package's commands
// add their own entries in init, next to the code that knows the error types.
var classifiers []func(error) (int, bool)

// ExitCode decides, in one place, the process exit code for an error returned by a command.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ExitTimeout
	}
	for _, c := range classifiers {
		if code, ok := c(err); ok {
			return code
		}
	}
	return ExitError
}
