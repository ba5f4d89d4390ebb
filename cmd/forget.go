package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newForgetCmd) }

func newForgetCmd(g *GlobalOptions) *cobra.Command {
	opts := &manageOptions{G: g}
	return &cobra.Command{
		Use:   "forget NAME",
		Short: "Remove a stored credential locally (the registration stays at the server)",
		Long: `Remove NAME and its secrets from the keystore. The client stays registered at the server;
to remove it there too, use dcrctl delete NAME instead.`,
		Example:           `  dcrctl forget my-old-app`,
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return forgetRun(ctx, opts) }),
	}
}

func forgetRun(ctx context.Context, opts *manageOptions) error {
	g := opts.G
	st := opts.Store
	if st == nil {
		var err error
		if st, err = g.openStore(); err != nil {
			return err
		}
	}
	// Find it in the index (no secret needed: forgetting must work when the keyring lost them).
	list, err := st.List(ctx)
	if err != nil {
		return err
	}
	var cred *keystore.Credential
	for i := range list {
		if list[i].Name == opts.Name {
			cred = &list[i]
		}
	}
	if cred == nil {
		return notFound(opts.Name)
	}
	err = st.Delete(ctx, opts.Name)
	var wk *keystore.WrongKeystoreError
	if opts.Store == nil && errors.As(err, &wk) && !g.settings.KeystoreExplicit {
		if st, err = g.openStoreKind(wk.Has); err == nil {
			err = st.Delete(ctx, opts.Name)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "forgot %q; client %s is still registered at %s (dcrctl delete removes a registration at the server)\n",
		cred.Name, cred.ClientID, orNone(cred.Issuer))
	return writeRemoved(g, removedView{Name: cred.Name, ClientID: cred.ClientID, Issuer: cred.Issuer, Forgotten: true})
}
