package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
)

func init() { subcommands = append(subcommands, newDeleteCmd) }

// deleteOptions are the inputs of dcrctl delete.
type deleteOptions struct {
	manageOptions
	Gone bool
}

func newDeleteCmd(g *GlobalOptions) *cobra.Command {
	opts := &deleteOptions{manageOptions: manageOptions{G: g}}
	c := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a registration at the server (RFC 7592) and forget it locally",
		Long: `Deprovision the client at the server with its registration access token (RFC 7592 §2.3),
then remove the stored credential. If the server refuses the token with 401 because the client
is already gone (a delete whose answer was lost), --already-gone treats that as done.`,
		Example: `  dcrctl delete my-app
  dcrctl delete my-app --already-gone   # the client was deleted at the server already`,
		Aliases:           []string{"rm"},
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return deleteRun(ctx, opts) }),
	}
	c.Flags().BoolVar(&opts.Gone, "already-gone", false, "treat 401 Unauthorized from the server as already deleted (RFC 7592 §2.3), then forget it")
	return c
}

func deleteRun(ctx context.Context, opts *deleteOptions) error {
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	var dopts []client.DeleteOption
	if opts.Gone {
		dopts = append(dopts, client.TreatUnauthorizedAsDeleted())
	}
	cred, err := r.Delete(ctx, opts.Name, dopts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.G.IO.ErrOut, "deleted client %s at the server and forgot %q\n", cred.ClientID, cred.Name)
	return nil
}
