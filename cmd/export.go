package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newExportCmd) }

// exportOptions are the inputs of dcrctl export.
type exportOptions struct {
	G *GlobalOptions
	// Store, when set, replaces the keystore chosen by --keystore (tests).
	Store keystore.Store
}

func newExportCmd(g *GlobalOptions) *cobra.Command {
	opts := &exportOptions{G: g}
	return &cobra.Command{
		Use:   "export [--issuer URL] > clients.yaml",
		Short: "Write the declarative file (dcrctl apply -f) for the stored credentials",
		Long: `Write the file that dcrctl plan and apply read for the credentials in the keystore (of
--issuer only, when given): per name the issuer, and the template or the metadata last sent
for it (else the registration as stored). It reads the keystore's index only: no secret is
read or written, and no server is called. Applying the file right after changes nothing.

The file has no token sources (the clients exist already): add them before applying it where
the clients must be registered anew. -o json writes the same file as JSON.`,
		Example: `  dcrctl export > clients.yaml && dcrctl plan -f clients.yaml
  dcrctl export --issuer https://idp.example.com -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return exportRun(ctx, opts)
		},
	}
}

func exportRun(ctx context.Context, opts *exportOptions) error {
	g := opts.G
	st := opts.Store
	if st == nil {
		var err error
		if st, err = g.openStore(); err != nil {
			return err
		}
	}
	f, err := declare.Export(ctx, st, g.Issuer)
	if err != nil {
		return err
	}
	format := "yaml"
	if g.Output == "json" {
		format = "json"
	}
	return f.Encode(g.IO.Out, format)
}
