package cmd

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Example: `  dcrctl version
  dcrctl version -o json | jq -r .version`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			v := map[string]string{
				"version":    g.Build.Version,
				"commit":     g.Build.Commit,
				"date":       g.Build.Date,
				"go_version": runtime.Version(),
				"platform":   runtime.GOOS + "/" + runtime.GOARCH,
			}
			switch g.Output {
			case "json", "yaml":
				return writeData(g.IO.Out, g.Output, v, nil)
			case "env":
				return writeEnv(g.IO.Out, g.EnvPrefix, []envVar{{"VERSION", v["version"]}, {"COMMIT", v["commit"]},
					{"BUILD_DATE", v["date"]}, {"GO_VERSION", v["go_version"]}, {"PLATFORM", v["platform"]}})
			}
			var b strings.Builder
			fmt.Fprintf(&b, "dcrctl %s", v["version"])
			if v["commit"] != "" {
				fmt.Fprintf(&b, " (commit %s", v["commit"])
				if v["date"] != "" {
					fmt.Fprintf(&b, ", built %s", v["date"])
				}
				b.WriteString(")")
			}
			fmt.Fprintf(&b, " %s %s\n", v["go_version"], v["platform"])
			_, err := fmt.Fprint(g.IO.Out, b.String())
			return err
		},
	}
}
