package cmd

import (
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
)

// This file completes flag values: -o (what the command prints), --keystore, --profile (from
// the config file), --auth-method, --template (the templates of the credentials stored for
// the issuer, from the keystore's index: no request, no secret, no keyring prompt), and
// serve's --registration and --behave-like.

// completeFlagValues registers the value completions on root and its subcommands.
func completeFlagValues(root *cobra.Command, g *GlobalOptions) {
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("output", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if f, ok := outputFormats[c.CommandPath()]; ok {
			return f, cobra.ShellCompDirectiveNoFileComp
		}
		return allOutputs, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("keystore", fixed("os\tthe OS keyring", "file\tplaintext files (insecure)", "none\tkeep nothing"))
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return profileNames(g), cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, complete := range map[string]func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective){
			"auth-method": fixed("client_secret_basic", "client_secret_post", "none"),
			"template": func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return usedTemplates(c, g)
			},
			"registration": fixed("open", "client", "user", "disabled"),
			"behave-like":  fixed(testserver.ProfileNames()...),
			"log-format":   fixed("text", "json", "none"),
		} {
			if c.LocalNonPersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, complete)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// profileNames are the profiles of the config file.
func profileNames(g *GlobalOptions) []string {
	dir, err := g.configDir()
	if err != nil {
		return nil
	}
	cf, _, err := loadConfigFile(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(cf.Profiles))
	for n, p := range cf.Profiles {
		names = append(names, n+"\t"+p.Issuer)
	}
	sort.Strings(names)
	return names
}

// usedTemplates are the templates of the stored credentials of the issuer in use (all of
// them without one), most used first.
func usedTemplates(c *cobra.Command, g *GlobalOptions) ([]string, cobra.ShellCompDirective) {
	list, err := indexList(c, g)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	count := map[string]int{}
	for _, cr := range list {
		if cr.Template != "" && (g.Issuer == "" || cr.Issuer == g.Issuer) {
			count[cr.Template]++
		}
	}
	out := make([]string, 0, len(count))
	for t := range count {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}

// indexList lists the stored credentials from the keystore's index alone: completion never
// reads a secret, so it never raises a keyring prompt.
func indexList(c *cobra.Command, g *GlobalOptions) ([]keystore.Credential, error) {
	if err := g.setup(); err != nil {
		return nil, err
	}
	kind := g.Keystore
	if kind == keystoreNone {
		kind = keystoreOS
	}
	st, err := keystore.Open(kind, keystore.Options{ConfigDir: g.settings.ConfigDir})
	if err != nil {
		return nil, err
	}
	return st.List(c.Context())
}
