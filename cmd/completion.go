package cmd

import (
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newCompletionCmd) }

// completionOptions are the inputs of dcrctl completion.
type completionOptions struct {
	G      *GlobalOptions
	Shell  string
	NoDesc bool
}

func newCompletionCmd(g *GlobalOptions) *cobra.Command {
	opts := &completionOptions{G: g}
	c := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for your shell. Besides commands and flags, it completes the
names of stored credentials (for show, get, update, delete, login, forget) from the keystore's
index, which never touches a secret or raises a keyring prompt.`,
		Example: `  # bash (needs the bash-completion package)
  dcrctl completion bash > ~/.local/share/bash-completion/completions/dcrctl
  # zsh
  dcrctl completion zsh > "${fpath[1]}/_dcrctl"
  # fish
  dcrctl completion fish > ~/.config/fish/completions/dcrctl.fish
  # PowerShell
  dcrctl completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("name one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Shell = args[0]
			return completionRun(c.Root(), opts)
		},
	}
	c.Flags().BoolVar(&opts.NoDesc, "no-descriptions", false, "leave out the descriptions of completions")
	return c
}

func completionRun(root *cobra.Command, opts *completionOptions) error {
	w := opts.G.IO.Out
	switch opts.Shell {
	case "bash":
		return root.GenBashCompletionV2(w, !opts.NoDesc)
	case "zsh":
		if opts.NoDesc {
			return root.GenZshCompletionNoDesc(w)
		}
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, !opts.NoDesc)
	case "powershell":
		if opts.NoDesc {
			return root.GenPowerShellCompletion(w)
		}
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return usageErrorf("unknown shell %q: use bash, zsh, fish or powershell", opts.Shell)
}
