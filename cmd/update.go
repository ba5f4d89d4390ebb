package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
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
	cred, reg, st, err := opts.load(ctx)
	if err != nil {
		return err
	}
	if reg.RegistrationClientURI == "" || reg.RegistrationAccessToken == "" {
		return fmt.Errorf("%q has no registration access token or client URI: the server does not support RFC 7592 management for it, so it cannot be updated; register a new client instead", cred.Name)
	}
	sdk := g.sdk()
	cred, cur, err := opts.readAndPersist(ctx, sdk, st, cred, reg)
	if err != nil {
		return err
	}
	members, err := membersOf(cur.Metadata)
	if err != nil {
		return err
	}
	if members, err = opts.Edits.apply(g.IO, members); err != nil {
		return err
	}
	stripResponseOnly(members)
	md, err := toMetadata(members)
	if err != nil {
		return err
	}
	upd, err := sdk.Update(ctx, cur, md)
	if upd == nil {
		return err
	}
	cred, perr := persistRotated(ctx, st, cred, upd, opts.recoveryDir())
	if perr != nil {
		return perr
	}
	fmt.Fprintf(g.IO.ErrOut, "updated %q (client %s)\n", cred.Name, upd.ClientID)
	if werr := writeRegistration(g.IO.Out, g.Output, opts.view(cred, upd)); werr != nil {
		return werr
	}
	return err
}
