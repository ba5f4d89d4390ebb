package cmd

import (
	"errors"
	"fmt"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
)

// This file is the one place where the command line adds its own advice — flag and command
// names — to the library errors of packages client, flows, keystore and registrar, which
// describe the failure in protocol and storage terms only.

// adviceError is a library error with the command line's next step; it unwraps to the
// library error, so exit codes are decided as without it.
type adviceError struct {
	err    error
	advice string
}

func (e *adviceError) Error() string { return e.err.Error() + "; " + e.advice }
func (e *adviceError) Unwrap() error { return e.err }

// withAdvice adds the command line's advice to err, if there is any for it.
func withAdvice(err error) error {
	if err == nil {
		return nil
	}
	if a := cliAdvice(err); a != "" {
		return &adviceError{err: err, advice: a}
	}
	return err
}

// cliAdvice returns the next step, in dcrctl's terms, for a library error; "" for none.
func cliAdvice(err error) string {
	var (
		se *registrar.StoreError
		nt *registrar.NameTakenError
		ct *registrar.ClientIDTakenError
		nm *registrar.NotManagedError
		fe *registrar.ForgetError
		ce *client.Error
		re *flows.RedirectURIError
	)
	switch {
	case errors.As(err, &re) && !re.RegisteredHasPort:
		return "register a redirect URI with a fixed port (dcrctl update NAME --set 'redirect_uris=[\"http://127.0.0.1:8765/callback\"]'), and use --callback-port 8765 where the command has it"
	case errors.As(err, &se):
		return storeAdvice(se)
	case errors.As(err, &nt):
		return fmt.Sprintf("choose another --name, or remove it first (dcrctl delete %s, or dcrctl forget %s)", nt.Name, nt.Name)
	case errors.As(err, &ct):
		return fmt.Sprintf("keep using %q (dcrctl show %s), or run dcrctl forget %s before importing it under another name", ct.Existing, ct.Existing, ct.Existing)
	case errors.As(err, &nm):
		return notManagedAdvice(nm)
	case errors.Is(err, client.ErrNotResource):
		return "check that --resource is the resource's own URL (an MCP server's endpoint, say), or give its authorization server with --issuer instead"
	case errors.As(err, &fe):
		return fmt.Sprintf("run dcrctl forget %s", fe.Name)
	case errors.As(err, &ce):
		var ne *namedError
		if errors.As(err, &ne) {
			if a := namedAdvice(ne, ce); a != "" {
				return a
			}
		}
		return protocolAdvice(ce)
	}
	if isA[*resourceLookupError](err) {
		return networkAdvice(err, "--resource")
	}
	return networkAdvice(err, "--issuer (or the profile)")
}

// namedAdvice is the advice for a protocol error of a command on a stored credential.
func namedAdvice(ne *namedError, ce *client.Error) string {
	n := ne.Name
	switch {
	case ce.StatusCode == 401 && (ce.Op == "read" || ce.Op == "update"):
		return fmt.Sprintf("the registration was deleted at the server, or its registration access token rotated elsewhere (another machine, a lost answer): dcrctl delete %s --already-gone, or dcrctl forget %s", n, n)
	case ce.StatusCode == 401 && ce.Op == "delete":
		return fmt.Sprintf("if the client was already deleted at the server, run dcrctl delete %s --already-gone", n)
	case ne.Command == "login" && ce.Code == "invalid_client":
		return fmt.Sprintf("the client may have been deleted at the server, or its secret rotated elsewhere: dcrctl get %s tells (a 401 there means it is gone, then dcrctl forget %s)", n, n)
	}
	return ""
}

// protocolAdvice names the flags that fix a protocol error.
func protocolAdvice(ce *client.Error) string {
	switch {
	case ce.Op == "delete" && ce.StatusCode == 401:
		return "if the client was already deleted at the server, run dcrctl delete NAME --already-gone"
	case ce.Code == "invalid_client" && (ce.Op == "client credentials" || ce.Op == "code exchange" || ce.Op == "device token" || ce.Op == "device authorization"):
		return "check --client-id, the secret and --auth-method"
	case ce.Code == "insufficient_scope" && ce.Op == "register":
		return "get the initial token with --scope dcr (register's default: check a --scope flag or the profile)"
	case ce.Code == "invalid_scope":
		return "request another scope with --scope"
	case ce.Code == "unsupported_grant_type":
		return "use another of --client-credentials, --login or --device"
	}
	return ""
}

func storeAdvice(se *registrar.StoreError) string {
	switch {
	case se.RolledBack:
		return "fix the keystore, then run dcrctl register again"
	case se.RecoveryFile != "":
		return fmt.Sprintf("run dcrctl import %s", se.RecoveryFile)
	case se.Op == "register":
		return fmt.Sprintf("ask the server's administrator to delete client %s, fix the keystore, and register again (with -o json --show-secrets the secrets are printed when nothing else can keep them)", se.ClientID)
	}
	return fmt.Sprintf("fix the keystore, then run dcrctl get %s -o json --show-secrets (it fails if the token rotated)", se.Name)
}

func notManagedAdvice(nm *registrar.NotManagedError) string {
	switch nm.Op {
	case "read":
		return fmt.Sprintf("it can only be shown: dcrctl show %s", nm.Name)
	case "delete":
		return fmt.Sprintf("ask the server's administrator to delete client %s, then run dcrctl forget %s", nm.ClientID, nm.Name)
	}
	return "register a new client instead (dcrctl register)"
}

// noTokenAdvice is the advice for a registration refused with 401 when no initial access
// token was sent.
const noTokenAdvice = "no initial access token was sent and the server wants one: add --client-credentials --client-id ID, --login, --device or --token-file"

// isStoreError reports a store failure after the server acted.
func isStoreError(err error) bool {
	var se *registrar.StoreError
	return errors.As(err, &se)
}

// orEmpty returns changes, or an empty list for nil (so -o json always has the key).
func orEmpty(changes []registrar.Change) []registrar.Change {
	if changes == nil {
		return []registrar.Change{}
	}
	return changes
}
