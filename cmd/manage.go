package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// manageOptions are the inputs shared by the commands that act on one stored credential:
// show, forget, get, update, delete, login.
type manageOptions struct {
	G           *GlobalOptions
	Name        string
	ShowSecrets bool

	// Store, when set, replaces the keystore chosen by --keystore (tests).
	Store keystore.Store
}

// load returns the named credential with its secrets, the registration it describes, and the
// store that holds it, without calling the server (show, login).
func (o *manageOptions) load(ctx context.Context) (keystore.Credential, *client.Registration, keystore.Store, error) {
	cred, st, err := storeAccess{g: o.G, store: o.Store}.get(ctx, o.Name)
	if err != nil {
		return cred, nil, nil, err
	}
	reg, err := registrar.RegistrationFrom(cred)
	return cred, reg, st, err
}

// registrar returns the lifecycle of the named credential: the store that holds it (found
// from the index, without reading a secret) joined with the SDK.
func (o *manageOptions) registrar(ctx context.Context) (*registrar.Registrar, error) {
	st, err := storeAccess{g: o.G, store: o.Store}.find(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	if o.G.settings.IssuerFlag || o.G.Resource != "" { // from the index: no secret read
		list, err := st.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			if c.Name == o.Name {
				if err := o.G.checkCredentialNames(c); err != nil {
					return nil, err
				}
			}
		}
	}
	return o.G.registrar(st), nil
}

// view is the printable form of reg.
func (o *manageOptions) view(cred keystore.Credential, reg *client.Registration) registrationView {
	ks := cred.Keystore // set by the store's Get and List
	if ks == "" {
		ks = o.G.Keystore
	}
	return registrationView{Name: cred.Name, Issuer: cred.Issuer, Resource: cred.Resource, Keystore: ks, Template: cred.Template, Reg: reg, Secrets: o.ShowSecrets}
}

// completeNames completes stored credential names from the keystore's index: List never
// touches a secret, so completion never raises a keyring prompt.
func completeNames(g *GlobalOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := indexList(c, g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		names := make([]string, 0, len(list))
		for _, cr := range list {
			desc := cr.ClientID
			if cr.Issuer != "" {
				desc += " at " + cr.Issuer
			}
			names = append(names, cr.Name+"\t"+desc)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// runNamed is the RunE of the commands that take one credential name: it stores the name in
// *name and calls run under the command's context (bounded by --timeout).
func runNamed(g *GlobalOptions, name *string, run func(context.Context) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		*name = args[0]
		ctx, cancel := g.Context(c)
		defer cancel()
		if err := run(ctx); err != nil {
			return &namedError{Name: *name, Command: c.Name(), Err: err}
		}
		return nil
	}
}

// namedError is a failure of a command on the stored credential Name, so that the advice
// can name it (advice.go).
type namedError struct {
	Name, Command string
	Err           error
}

func (e *namedError) Error() string { return e.Err.Error() }
func (e *namedError) Unwrap() error { return e.Err }

// oneName is the Args check of the commands that take a credential name.
func oneName(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErrorf("%s needs exactly one credential name (see dcrctl list)", c.CommandPath())
	}
	return nil
}
