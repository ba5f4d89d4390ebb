package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// usageArgs makes every argument check of c and its subcommands a usage error (exit code 2),
// as a flag error is.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				var ue *UsageError
				if errors.As(err, &ue) {
					return err
				}
				return &UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
			}
			return nil
		}
	}
	for _, s := range c.Commands() {
		usageArgs(s)
	}
}
