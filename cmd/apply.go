package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/declare"
)

func init() { subcommands = append(subcommands, newApplyCmd) }

// applyOptions are the inputs of dcrctl apply.
type applyOptions struct {
	declareOptions
	Yes     bool
	Explain bool
}

func newApplyCmd(g *GlobalOptions) *cobra.Command {
	opts := &applyOptions{declareOptions: declareOptions{G: g}}
	c := &cobra.Command{
		Use:   "apply -f FILE [--prune] [--yes] | apply --explain",
		Short: "Register, update and (with --prune) delete clients so that they match a file",
		Long: `Make the registrations match a file: register what is missing (RFC 7591), update what
differs (RFC 7592 full replacement), and with --prune delete stored credentials of the file's
issuers that it no longer lists. Every credential is stored as dcrctl register stores it. A
second run right after is all unchanged and sends no write.

apply goes on past an entry that fails, reports each, and exits non-zero if any failed (with
the exit code of the first failure); what succeeded stays done, so running it again resumes.
Each credential is changed under its lock: concurrent applies do not interleave on one.

On a terminal it shows the plan and asks before writing, unless --yes. --explain prints an
annotated example of the file.`,
		Example: `  dcrctl apply --explain > clients.yaml
  dcrctl apply -f clients.yaml
  dcrctl apply -f clients.yaml --prune --yes -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Explain {
				_, err := g.IO.Out.Write(declare.Example())
				return err
			}
			ctx, cancel := g.Context(c)
			defer cancel()
			return applyRun(ctx, opts)
		},
	}
	f := c.Flags()
	f.StringVarP(&opts.File, "file", "f", "", `the desired registrations, YAML or JSON ("-" = stdin)`)
	f.BoolVar(&opts.Prune, "prune", false, "also delete stored credentials of the file's issuers that it does not list")
	f.BoolVar(&opts.Yes, "yes", false, "do not ask before writing")
	f.BoolVar(&opts.Explain, "explain", false, "print an annotated example of the file and exit")
	return c
}

func applyRun(ctx context.Context, opts *applyOptions) error {
	g := opts.G
	en, p, err := opts.plan(ctx)
	if err != nil {
		return err
	}
	if err := opts.confirm(p); err != nil {
		return err
	}
	en.Apply(ctx, p)
	if err := writeSteps(g.IO.Out, g.Output, p, true); err != nil {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "apply: %s\n", summary(p, true))
	return failures(p)
}

// confirm shows the plan and asks, on a terminal, unless --yes or nothing is to change.
func (opts *applyOptions) confirm(p *declare.Plan) error {
	ios := opts.G.IO
	if opts.Yes || !ios.Interactive() || p.Changes() == 0 {
		return nil
	}
	if err := writeSteps(ios.ErrOut, "table", p, false); err != nil {
		return err
	}
	return ask(ios, fmt.Sprintf("Make these %d change(s)?", p.Changes()))
}
