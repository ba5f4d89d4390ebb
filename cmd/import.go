package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newImportCmd) }

// importOptions are the inputs of dcrctl import.
type importOptions struct {
	G     *GlobalOptions
	File  string
	Name  string
	Store keystore.Store // tests
}

func newImportCmd(g *GlobalOptions) *cobra.Command {
	opts := &importOptions{G: g}
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Store a credential from a recovery file",
		Long: `Store the credential saved in a recovery file (written, mode 0600, when a registration or a
rotation could not be stored). Delete the file afterwards: it holds secrets in plaintext.`,
		Example: `  dcrctl import ~/.config/dcrctl/recovery/my-app-20250101T000000Z-1a2b3c4d.json
  dcrctl import FILE --name my-app-restored`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("import needs exactly one recovery file")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			ctx, cancel := g.Context(c)
			defer cancel()
			return importRun(ctx, opts)
		},
	}
	c.Flags().StringVar(&opts.Name, "name", "", "store it under this name instead of the one in the file")
	return c
}

func importRun(ctx context.Context, opts *importOptions) error {
	g := opts.G
	cred, err := keystore.ReadRecovery(opts.File)
	if err != nil {
		return fmt.Errorf("%w: check that FILE is a dcrctl recovery file", err)
	}
	if opts.Name != "" {
		if !registrar.ValidName(opts.Name) {
			return usageErrorf("--name %q: use letters, digits, '.', '_' and '-'", opts.Name)
		}
		cred.Name = opts.Name
	}
	st := opts.Store
	if st == nil {
		if st, err = g.openStore(); err != nil {
			return err
		}
	}
	if err := g.registrar(st).Import(ctx, cred); err != nil {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "stored %q (client %s); now delete %s, which holds its secrets in plaintext\n", cred.Name, cred.ClientID, opts.File)
	return nil
}
