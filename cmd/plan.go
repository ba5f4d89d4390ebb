package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newPlanCmd) }

func newPlanCmd(g *GlobalOptions) *cobra.Command {
	opts := &declareOptions{G: g}
	c := &cobra.Command{
		Use:   "plan -f FILE [--prune]",
		Short: "Show what apply would change to make the registrations match a file",
		Long: `Compare the registrations a file asks for (dcrctl apply --explain shows the format) with what
is stored and with each server's current registration, and print per name: create, update
(member by member, secret values left out), unchanged, or with --prune delete (stored
credentials of the file's issuers that the file no longer lists).

plan sends no write. It reads each stored registration (RFC 7592); a server that rotates
credentials on every read gets them stored, as every dcrctl command does. Members the server
does not keep as asked (a template instance's scope, a vendor member it drops) are shown as
"not kept by the server", not as a change.

Exit code 0: no change is needed; 2: changes are needed; other codes as for any command
(an entry that could not be planned).`,
		Example: `  dcrctl plan -f clients.yaml
  dcrctl plan -f clients.yaml --prune -o json | jq '.[] | select(.action != "unchanged")'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return planRun(ctx, opts)
		},
	}
	c.Flags().StringVarP(&opts.File, "file", "f", "", `the desired registrations, YAML or JSON ("-" = stdin)`)
	c.Flags().BoolVar(&opts.Prune, "prune", false, "also plan to delete stored credentials of the file's issuers that it does not list")
	return c
}

func planRun(ctx context.Context, opts *declareOptions) error {
	g := opts.G
	_, p, err := opts.plan(ctx)
	if err != nil {
		return err
	}
	if err := writeSteps(g.IO.Out, g.Output, p, false); err != nil {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "plan: %s\n", summary(p, false))
	if err := failures(p); err != nil {
		return err
	}
	if n := p.Changes(); n > 0 {
		return &changesError{n: n}
	}
	return nil
}
