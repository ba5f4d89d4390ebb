package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newShowCmd) }

func newShowCmd(g *GlobalOptions) *cobra.Command {
	opts := &manageOptions{G: g}
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a stored credential (no request to the server)",
		Long: `Show what is stored for NAME: the last known registration and, with --show-secrets, the
client secret and registration access token (read from the keystore). No request is sent; use
dcrctl get NAME for the server's current view.`,
		Example: `  dcrctl show my-app
  dcrctl show my-app -o env --show-secrets > app.env
  dcrctl show my-app -o json --show-secrets | jq -r .client_secret`,
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return showRun(ctx, opts) }),
	}
	c.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "read and print the client secret and the registration access token")
	return c
}

func showRun(ctx context.Context, opts *manageOptions) error {
	var cred keystore.Credential
	if opts.ShowSecrets {
		var err error
		if cred, _, err = (storeAccess{g: opts.G, store: opts.Store}).get(ctx, opts.Name); err != nil {
			return err
		}
	} else {
		// Without secrets, the index is enough: no keyring prompt.
		st := opts.Store
		if st == nil {
			kind := opts.G.Keystore
			if kind == keystoreNone {
				kind = keystoreOS
			}
			var err error
			if st, err = opts.G.openStoreKind(kind); err != nil {
				return err
			}
		}
		list, err := st.List(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, c := range list {
			if c.Name == opts.Name {
				cred, found = c, true
			}
		}
		if !found {
			return notFound(opts.Name)
		}
	}
	reg, err := registrar.RegistrationFrom(cred)
	if err != nil {
		return err
	}
	if !opts.ShowSecrets {
		// The index has no secrets. Mark the ones that must exist as present, so that the
		// table says "hidden" rather than "none"; they are never printed without --show-secrets.
		reg.ClientSecret, reg.RegistrationAccessToken = "", ""
		if reg.TokenEndpointAuthMethod != "none" {
			reg.ClientSecret = "hidden"
		}
		if reg.RegistrationClientURI != "" {
			reg.RegistrationAccessToken = "hidden"
		}
	}
	return writeRegistration(opts.G.IO.Out, opts.G.Output, opts.G.EnvPrefix, opts.view(cred, reg))
}

// notFound is the error for an unknown credential name.
func notFound(name string) error {
	return &keystoreNotFound{name}
}

type keystoreNotFound struct{ name string }

func (e *keystoreNotFound) Error() string {
	return "no credential named " + quote(e.name) + ": see dcrctl list for the stored names (or --keystore / --profile if it is kept elsewhere)"
}
func (e *keystoreNotFound) Unwrap() error { return keystore.ErrNotFound }

func quote(s string) string { return "\"" + s + "\"" }
