package cmd

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// report prints the registration; err is the registrar's (an incomplete response, or a
// store failure after which the registration was rolled back or saved).
func (opts *registerOptions) report(res *registrar.Result, st keystore.Store, err error) error {
	g := opts.G
	view := registrationView{Name: res.Name(), Issuer: res.Credential.Issuer, Resource: res.Credential.Resource, Keystore: g.Keystore, Template: res.Credential.Template, Reg: res.Registration,
		Secrets: opts.ShowSecrets, Changes: orEmpty(res.Changes)}
	var se *registrar.StoreError
	switch {
	case errors.As(err, &se):
		// The only copy is in hand: print it when the user asked for the secrets in a
		// machine-readable format.
		if se.RolledBack || se.RecoveryFile != "" || !opts.ShowSecrets || g.Output == "table" || g.Output == "" {
			return err
		}
		view.Keystore = "none (not stored)"
		if werr := writeRegistration(g.IO.Out, g.Output, g.EnvPrefix, view); werr != nil {
			return err
		}
		return &adviceError{err: err, advice: "the credential is on standard output only: keep it safe now"}
	case st == nil:
		view.Keystore = "none (not stored)"
	default:
		fmt.Fprintf(g.IO.ErrOut, "registered client %s at %s; stored as %q (keystore %s)\n", res.Registration.ClientID, view.Issuer, view.Name, view.Keystore)
	}
	writeChanges(g.IO, res.Changes)
	if werr := writeRegistration(g.IO.Out, g.Output, g.EnvPrefix, view); werr != nil {
		return werr
	}
	if err != nil && st != nil {
		return fmt.Errorf("%w (the client was registered and stored as %q; check it with dcrctl get %s)", err, view.Name, view.Name)
	}
	return err
}

// callbackPort adds http://127.0.0.1:PORT/callback as the redirect URI of a native client
// that names none (--callback-port; not for a template, whose redirect URIs are the
// template's), so that servers that insist on the exact registered port (against RFC 8252
// §7.3) accept dcrctl login NAME --callback-port PORT.
func (opts *registerOptions) callbackPort(members map[string]json.RawMessage) error {
	p := opts.Token.CallbackPort
	if p == 0 {
		return nil
	}
	if p < 1 || p > 65535 {
		return usageErrorf("--callback-port %d is not a TCP port: use 1-65535", p)
	}
	if _, ok := members["redirect_uris"]; ok || opts.Template != "" {
		return nil
	}
	u, _ := json.Marshal([]string{fmt.Sprintf("http://127.0.0.1:%d/callback", p)})
	members["redirect_uris"] = u
	if _, ok := members["application_type"]; !ok {
		members["application_type"] = json.RawMessage(`"native"`)
	}
	return nil
}
