package cmd

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// outputFormats is the one table of the -o values each command honours, by command path.
// Any other value is refused with exit code 2 before the command does anything, so no
// command silently prints plain text for -o json. A new command must be listed here
// (TestEveryCommandDeclaresItsOutputs).
var outputFormats = map[string][]string{
	"dcrctl apply":        {"table", "json", "yaml"},
	"dcrctl bench":        {"table", "json"},
	"dcrctl cimd":         {"table"},
	"dcrctl cimd check":   {"table", "json", "yaml"},
	"dcrctl cimd init":    {"table"},
	"dcrctl completion":   {"table"},
	"dcrctl delete":       {"table", "json", "yaml"},
	"dcrctl discover":     {"table", "json", "yaml", "env"},
	"dcrctl export":       {"table", "json", "yaml"},
	"dcrctl forget":       {"table", "json", "yaml"},
	"dcrctl get":          {"table", "json", "yaml", "env"},
	"dcrctl import":       {"table"},
	"dcrctl list":         {"table", "json", "yaml"},
	"dcrctl login":        {"table", "json", "yaml", "env"},
	"dcrctl plan":         {"table", "json", "yaml"},
	"dcrctl probe":        {"table", "json", "markdown"},
	"dcrctl quickstart":   {"table", "json", "yaml"},
	"dcrctl register":     {"table", "json", "yaml", "env"},
	"dcrctl rename":       {"table"},
	"dcrctl serve":        {"table", "json"},
	"dcrctl serve export": {"table"},
	"dcrctl show":         {"table", "json", "yaml", "env"},
	"dcrctl status":       {"table", "json", "yaml"},
	"dcrctl token":        {"table", "json", "yaml", "env"},
	"dcrctl update":       {"table", "json", "yaml", "env"},
	"dcrctl version":      {"table", "json", "yaml", "env"},
}

// allOutputs are the values -o knows at all.
var allOutputs = []string{"table", "json", "yaml", "env", "markdown"}

// checkOutput refuses an -o value that c does not honour.
func checkOutput(c *cobra.Command, format string) error {
	if format == "" {
		return nil
	}
	if !slices.Contains(allOutputs, format) {
		return usageErrorf("unknown output format %q: use -o table, json, yaml or env", format)
	}
	known, ok := outputFormats[c.CommandPath()]
	if !ok || slices.Contains(known, format) {
		return nil // help and cobra's own commands
	}
	return usageErrorf("-o %s: %s prints %s", format, c.CommandPath(), strings.Join(known, ", "))
}
