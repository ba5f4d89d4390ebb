package cmd

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() { subcommands = append(subcommands, newManCmd) }

// ManOptions holds the flags of the hidden man command, which the release build runs to
// put man pages into the archives and packages.
type ManOptions struct {
	Dir  string
	Root *cobra.Command
}

func newManCmd(g *GlobalOptions) *cobra.Command {
	opts := &ManOptions{}
	c := &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR (used by the release build)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		Example: `  dcrctl man ./manpages
  man ./manpages/dcrctl-register.1`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.Root = c.Root()
			if err := manRun(opts); err != nil {
				return err
			}
			fmt.Fprintf(g.IO.ErrOut, "wrote man pages to %s\n", opts.Dir)
			return nil
		},
	}
	return c
}

// manRun writes one page per command, section 1, named like the command path
// (dcrctl-register.1). The page date comes from SOURCE_DATE_EPOCH when it is set, so that
// release builds are reproducible.
func manRun(opts *ManOptions) error {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	opts.Root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "DCRCTL", Section: "1", Source: "dcrctl", Manual: "dcrctl manual"}
	if sec, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		d := time.Unix(sec, 0).UTC()
		header.Date = &d
	}
	if err := doc.GenManTree(opts.Root, header, opts.Dir); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	return nil
}
