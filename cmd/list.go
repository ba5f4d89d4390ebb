package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/keystore"
)

func init() { subcommands = append(subcommands, newListCmd) }

// listOptions are the inputs of dcrctl list.
type listOptions struct {
	G      *GlobalOptions
	Issuer string         // --issuer given on the command line: only its credentials
	Store  keystore.Store // tests
}

func newListCmd(g *GlobalOptions) *cobra.Command {
	opts := &listOptions{G: g}
	return &cobra.Command{
		Use:   "list",
		Short: "List the stored credentials (never touches a secret)",
		Long: `List the stored client credentials: name, client_id, issuer, template and when each was
issued. It reads only the index, never the keyring, so it never raises an unlock prompt.
With --issuer URL on the command line, only the credentials of that issuer (DCRCTL_ISSUER and
profiles do not filter).`,
		Example: `  dcrctl list
  dcrctl list --issuer http://127.0.0.1:8414
  dcrctl list -o json | jq -r '.[].name'`,
		Aliases: []string{"ls"},
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if c.Flags().Changed("issuer") {
				opts.Issuer = g.Issuer
			}
			ctx, cancel := g.Context(c)
			defer cancel()
			return listRun(ctx, opts)
		},
	}
}

// listItem is one credential in -o json and -o yaml.
type listItem struct {
	Name                  string   `json:"name"`
	Issuer                string   `json:"issuer,omitempty"`
	Resource              string   `json:"resource,omitempty"` // registered with --resource
	ClientID              string   `json:"client_id,omitempty"`
	RegistrationClientURI string   `json:"registration_client_uri,omitempty"`
	Template              string   `json:"template,omitempty"`
	Keystore              string   `json:"keystore,omitempty"`
	GrantTypes            []string `json:"grant_types,omitempty"`
	RedirectURIs          []string `json:"redirect_uris,omitempty"`
	IssuedAt              string   `json:"issued_at,omitempty"`
	SecretExpiresAt       string   `json:"secret_expires_at,omitempty"`
}

func listRun(ctx context.Context, opts *listOptions) error {
	g := opts.G
	st := opts.Store
	if st == nil {
		kind := g.Keystore
		if kind == keystoreNone {
			kind = keystoreOS
		}
		var err error
		if st, err = g.openStoreKind(kind); err != nil {
			return err
		}
	}
	list, err := st.List(ctx)
	if err != nil {
		return err
	}
	items := make([]listItem, 0, len(list))
	for _, c := range list {
		if opts.Issuer != "" && !sameIssuer(c.Issuer, opts.Issuer) {
			continue
		}
		it := listItem{Name: c.Name, Issuer: c.Issuer, Resource: c.Resource, ClientID: c.ClientID, RegistrationClientURI: c.RegistrationClientURI,
			Template: c.Template, Keystore: c.Keystore, GrantTypes: c.GrantTypes, RedirectURIs: c.RedirectURIs}
		if !c.IssuedAt.IsZero() {
			it.IssuedAt = c.IssuedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		if !c.SecretExpiresAt.IsZero() {
			it.SecretExpiresAt = c.SecretExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		items = append(items, it)
	}
	return writeData(g.IO.Out, g.Output, items, func(w io.Writer) error {
		if len(items) == 0 && opts.Issuer != "" {
			fmt.Fprintf(g.IO.ErrOut, "no credentials stored for %s (dcrctl list without --issuer shows all)\n", opts.Issuer)
			return nil
		} else if len(items) == 0 {
			fmt.Fprintln(g.IO.ErrOut, "no credentials stored yet: register one with dcrctl register (see dcrctl register --help)")
			return nil
		}
		rows := [][]string{{"NAME", "CLIENT_ID", "ISSUER", "TEMPLATE", "KEYSTORE", "ISSUED"}}
		for _, it := range items {
			rows = append(rows, []string{it.Name, it.ClientID, it.Issuer, orDash(it.Template), orDash(it.Keystore), orDash(it.IssuedAt)})
		}
		_, err := io.WriteString(w, columns(rows, g.IO.outColour()))
		return err
	})
}

// sameIssuer compares issuer identifiers as the stored ones are written: a trailing slash
// does not count.
func sameIssuer(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// columns lays rows out in aligned columns separated by two spaces; the first row is the
// header, bold when colour is on.
func columns(rows [][]string, colour bool) string {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for n, r := range rows {
		for i, c := range r {
			pad := ""
			if i < len(r)-1 {
				pad = strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2)
			}
			b.WriteString(paint(colour && n == 0, sgrBold, c) + pad)
		}
		b.WriteString("\n")
	}
	return b.String()
}
