package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
)

func init() { subcommands = append(subcommands, newDeleteCmd) }

// deleteOptions are the inputs of dcrctl delete.
type deleteOptions struct {
	manageOptions
	Gone bool
	Yes  bool
}

func newDeleteCmd(g *GlobalOptions) *cobra.Command {
	opts := &deleteOptions{manageOptions: manageOptions{G: g}}
	c := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a registration at the server (RFC 7592) and forget it locally",
		Long: `Deprovision the client at the server with its registration access token (RFC 7592 §2.3),
then remove the stored credential. If the server refuses the token with 401 because the client
is already gone (a delete whose answer was lost), --already-gone treats that as done, and says
that nothing was deleted. On a terminal it asks first (--yes skips the question); without one
it does not ask. -o json prints {name, client_id, issuer, deleted_at_server, forgotten}.`,
		Example: `  dcrctl delete my-app
  dcrctl delete my-app --already-gone   # the client was deleted at the server already`,
		Aliases:           []string{"rm"},
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return deleteRun(ctx, opts) }),
	}
	c.Flags().BoolVar(&opts.Gone, "already-gone", false, "treat 401 Unauthorized from the server as already deleted (RFC 7592 §2.3), then forget it")
	c.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation on a terminal")
	return c
}

func deleteRun(ctx context.Context, opts *deleteOptions) error {
	r, err := opts.registrar(ctx)
	if err != nil {
		return err
	}
	g := opts.G
	cred, reg, err := r.Load(ctx, opts.Name)
	if err != nil {
		return err
	}
	if err := confirm(g.IO, fmt.Sprintf("Delete client %s (%q) at %s?", cred.ClientID, cred.Name, orNone(cred.Issuer)), opts.Yes); err != nil {
		return err
	}
	gone := false
	dopts := []client.DeleteOption{client.ReportGone(&gone)}
	if opts.Gone {
		dopts = append(dopts, client.TreatUnauthorizedAsDeleted())
	}
	if _, err := r.Delete(ctx, opts.Name, dopts...); err != nil {
		return err
	}
	if gone {
		fmt.Fprintf(g.IO.ErrOut, "the server answered 401: client %s was gone already, nothing was deleted there; forgot %q\n", reg.ClientID, cred.Name)
	} else {
		fmt.Fprintf(g.IO.ErrOut, "deleted client %s at the server and forgot %q\n", reg.ClientID, cred.Name)
	}
	return writeRemoved(g, removedView{Name: cred.Name, ClientID: cred.ClientID, Issuer: cred.Issuer, DeletedAtServer: !gone, Forgotten: true})
}

// removedView is what delete and forget print with -o json or yaml.
type removedView struct {
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
	Issuer   string `json:"issuer,omitempty"`
	// DeletedAtServer is false for forget, and for delete --already-gone on a 401.
	DeletedAtServer bool `json:"deleted_at_server"`
	Forgotten       bool `json:"forgotten"`
}

// writeRemoved prints v for -o json and yaml; the table format said it on stderr already.
func writeRemoved(g *GlobalOptions, v removedView) error {
	if g.Output != "json" && g.Output != "yaml" {
		return nil
	}
	return writeData(g.IO.Out, g.Output, v, nil)
}
