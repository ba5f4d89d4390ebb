package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
)

func init() { subcommands = append(subcommands, newUpdateCmd) }

// updateOptions are the inputs of dcrctl update.
type updateOptions struct {
	manageOptions
	Edits metadataEdits
}

func newUpdateCmd(g *GlobalOptions) *cobra.Command {
	opts := &updateOptions{manageOptions: manageOptions{G: g}}
	c := &cobra.Command{
		Use:   "update NAME (-f FILE | --set key=value | --unset key)...",
		Short: "Change a registration (RFC 7592 full replacement) and store any rotated credential",
		Long: `Change the client's metadata. dcrctl reads the current registration from the server (RFC
7592 §2.1), merges -f FILE (its members replace the current ones), every --set and every --unset
over it, and sends the result as the full replacement RFC 7592 §2.2 requires: members you do not
touch are kept. Rotated registration access tokens and client secrets, from the read and from
the update, are stored before anything is printed.`,
		Example: `  dcrctl update my-app --set client_name="Shop (staging)"
  dcrctl update my-app --set 'redirect_uris=["http://127.0.0.1/callback","com.example.shop:/cb"]'
  dcrctl update my-app --unset logo_uri -o json
  dcrctl update my-app -f changes.json`,
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return updateRun(ctx, opts) }),
	}
	f := c.Flags()
	f.StringVarP(&opts.Edits.File, "file", "f", "", `metadata members to change, as a JSON object from FILE ("-" = stdin)`)
	f.StringArrayVar(&opts.Edits.Set, "set", nil, "set a metadata member: key=value (value parsed as JSON if valid, else a string)")
	f.StringArrayVar(&opts.Edits.Unset, "unset", nil, "remove a metadata member")
	f.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the client secret and the registration access token")
	return c
}

func updateRun(ctx context.Context, opts *updateOptions) error {
	g := opts.G
	if opts.Edits.empty() {
		return usageErrorf("nothing to change: give -f FILE, --set key=value or --unset key")
	}
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	res, err := r.Update(ctx, opts.Name, func(md client.Metadata) (client.Metadata, error) {
		members, err := membersOf(md)
		if err != nil {
			return md, err
		}
		if members, err = opts.Edits.apply(g.IO, members); err != nil {
			return md, err
		}
		return toMetadata(members)
	})
	if res == nil || isStoreError(err) {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "updated %q (client %s)\n", res.Name(), res.Registration.ClientID)
	writeChanges(g.IO, res.Changes)
	v := opts.view(res.Credential, res.Registration)
	v.Changes = orEmpty(res.Changes)
	if werr := writeRegistration(g.IO.Out, g.Output, g.EnvPrefix, v); werr != nil {
		return werr
	}
	return err
}
