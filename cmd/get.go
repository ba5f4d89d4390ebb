package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newGetCmd) }

func newGetCmd(g *GlobalOptions) *cobra.Command {
	opts := &manageOptions{G: g}
	c := &cobra.Command{
		Use:   "get NAME",
		Short: "Read a registration from the server (RFC 7592) and store any rotated credential",
		Long: `Read the client's current registration from the server with its registration access token
(RFC 7592 §2.1). Servers may rotate the registration access token and the client secret on
every read: whatever comes back is stored before anything is printed.`,
		Example: `  dcrctl get my-app
  dcrctl get my-app -o json | jq .redirect_uris`,
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return getRun(ctx, opts) }),
	}
	c.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the client secret and the registration access token")
	return c
}

func getRun(ctx context.Context, opts *manageOptions) error {
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	res, err := r.Read(ctx, opts.Name)
	if res == nil || isStoreError(err) {
		return err
	}
	if werr := writeRegistration(opts.G.IO.Out, opts.G.Output, opts.G.EnvPrefix, opts.view(res.Credential, res.Registration)); werr != nil {
		return werr
	}
	return err
}
