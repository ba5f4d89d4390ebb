package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newRenameCmd) }

func newRenameCmd(g *GlobalOptions) *cobra.Command {
	opts := &manageOptions{G: g}
	var newName string
	return &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Give a stored credential another name (nothing is sent to the server)",
		Long: `Rename the stored credential OLD to NEW. Only the local name changes: the registration at
the server, the secrets and the tokens stay as they are, and no secret is read (no keyring
prompt). A credential called NEW is never replaced: remove it first (dcrctl forget NEW).`,
		Example: `  dcrctl rename native-app-3f2a1b0c my-app`,
		// The count is checked in RunE, after -o (checkOutput runs before RunE, not before Args).
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeNames(g),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("rename needs two names: OLD (see dcrctl list) and NEW")
			}
			newName = args[1]
			return runNamed(g, &opts.Name, func(ctx context.Context) error { return renameRun(ctx, opts, newName) })(c, args)
		},
	}
}

func renameRun(ctx context.Context, opts *manageOptions, newName string) error {
	if !registrar.ValidName(newName) {
		return usageErrorf("NEW %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", newName)
	}
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	if err = r.Rename(ctx, opts.Name, newName); errors.Is(err, keystore.ErrNotFound) {
		return notFound(opts.Name)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(opts.G.IO.ErrOut, "renamed %q to %q\n", opts.Name, newName)
	return nil
}
