package cmd

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newImportCmd) }

// importOptions are the inputs of dcrctl import.
type importOptions struct {
	G          *GlobalOptions
	File       string
	Name       string
	RemoveFile bool
	Store      keystore.Store // tests
}

func newImportCmd(g *GlobalOptions) *cobra.Command {
	opts := &importOptions{G: g}
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Store a credential from a recovery file or from dcrctl show -o json",
		Long: `Store a credential from FILE ("-" = stdin): a recovery file (written, mode 0600, when a
registration or a rotation could not be stored), or what dcrctl show NAME --show-secrets -o json
printed on another machine. It is stored under the name in the file, or --name NAME.

FILE holds secrets in clear. Afterwards --remove-file removes it; on a terminal dcrctl offers to
remove it; otherwise it says that the file is still there.`,
		Example: `  dcrctl import ~/.config/dcrctl/recovery/my-app-20250101T000000Z-1a2b3c4d.json --remove-file
  dcrctl import FILE --name my-app-restored
  # move a credential to another machine
  dcrctl show my-app --show-secrets -o json | ssh other dcrctl import -`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("import needs exactly one file (a recovery file, or - for stdin)")
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
	c.Flags().BoolVar(&opts.RemoveFile, "remove-file", false, "remove FILE once the credential is stored (it holds secrets in clear)")
	return c
}

func importRun(ctx context.Context, opts *importOptions) error {
	g := opts.G
	if opts.Name != "" && !registrar.ValidName(opts.Name) {
		return usageErrorf("--name %q: use letters, digits, '.', '_' and '-'", opts.Name)
	}
	if opts.RemoveFile && opts.File == "-" {
		return usageErrorf("--remove-file: there is no file to remove when reading stdin")
	}
	cred, err := readImport(g.IO.In, opts.File)
	if err != nil {
		return err
	}
	if opts.Name != "" {
		cred.Name = opts.Name
	}
	if cred.Name == "" {
		return usageErrorf("import: %s names no credential: give it one with --name NAME", opts.File)
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
	fmt.Fprintf(g.IO.ErrOut, "stored %q (client %s)\n", cred.Name, cred.ClientID)
	return opts.removeFile()
}

// removeFile removes the imported file when asked (--remove-file, or yes on a terminal), or
// says plainly that it still holds secrets.
func (opts *importOptions) removeFile() error {
	ios, file := opts.G.IO, opts.File
	if file == "-" {
		return nil
	}
	if !opts.RemoveFile && ios.Interactive() {
		opts.RemoveFile = ask(ios, fmt.Sprintf("Remove %s? It holds the secrets in clear.", file)) == nil
	}
	if !opts.RemoveFile {
		fmt.Fprintf(ios.ErrOut, "%s still holds the secrets in clear: remove it (rm %s), or import with --remove-file\n", file, file)
		return nil
	}
	if err := os.Remove(file); err != nil {
		return fmt.Errorf("import: the credential is stored, but %s (secrets in clear) could not be removed: %w; remove it yourself", file, err)
	}
	fmt.Fprintf(ios.ErrOut, "removed %s\n", file)
	return nil
}
