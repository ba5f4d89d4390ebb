package cmd

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/cimd"
)

func init() { subcommands = append(subcommands, newCIMDCmd) }

func newCIMDCmd(g *GlobalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "cimd",
		Short: "Write and check Client ID Metadata Documents (an https URL as client_id)",
		Long: `A Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document, "CIMD")
lets a client use an https URL as its client_id: the JSON document served at that URL is its
registration, fetched by the authorization server when the client first shows up. There is no
registration request and no secret: the client is public and logs in with PKCE.

  dcrctl cimd init    writes a document for a public client
  dcrctl cimd check   checks a document (a URL or a file) against the draft
  dcrctl login --client-id https://…   logs in with one at a server that supports it`,
		Example: `  dcrctl cimd init --client-uri https://app.example --redirect-uri http://127.0.0.1/callback > client-metadata.json
  dcrctl cimd check https://app.example/client-metadata.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newCIMDInitCmd(g), newCIMDCheckCmd(g))
	return c
}

// cimdInitOptions are the inputs of dcrctl cimd init.
type cimdInitOptions struct {
	Template cimd.Template
	Write    string
	Force    bool
}

func newCIMDInitCmd(g *GlobalOptions) *cobra.Command {
	opts := &cimdInitOptions{}
	c := &cobra.Command{
		Use:   "init --client-uri URL --redirect-uri URI",
		Short: "Write a Client ID Metadata Document for a public client",
		Long: `Write the document of a public client (token_endpoint_auth_method none) that uses the
authorization code grant with PKCE and refresh tokens, to stdout or to --write FILE.

The document must then be served, as application/json, at its client_id: --client-id URL, by
default <client-uri>/client-metadata.json. The command checks what it wrote as dcrctl cimd check
does and exits ` + fmt.Sprint(ExitInvalid) + ` (after writing it) when it breaks a rule.`,
		Example: `  dcrctl cimd init --client-uri https://app.example --redirect-uri http://127.0.0.1/callback
  dcrctl cimd init --client-id https://app.example/oauth/client.json --client-uri https://app.example \
    --client-name "Example App" --redirect-uri http://127.0.0.1/callback --write client.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return cimdInitRun(g, opts) },
	}
	f := c.Flags()
	f.StringVar(&opts.Template.ClientURI, "client-uri", "", "the client's home page (client_uri); the document's default place is below it")
	f.StringVar(&opts.Template.ClientID, "client-id", "", "the https URL the document will be served at (default <client-uri>/client-metadata.json)")
	f.StringVar(&opts.Template.ClientName, "client-name", "", "the name the authorization server shows the user")
	f.StringArrayVar(&opts.Template.RedirectURIs, "redirect-uri", nil, "a redirect URI (repeat for more); a loopback http URI matches any port")
	f.StringVar(&opts.Write, "write", "", "write the document to FILE instead of stdout (-o is the output format)")
	f.BoolVar(&opts.Force, "force", false, "with --write: replace FILE if it exists")
	return c
}

func cimdInitRun(g *GlobalOptions, opts *cimdInitOptions) error {
	t := opts.Template
	switch {
	case t.ClientURI == "" && t.ClientID == "":
		return usageErrorf("give --client-uri URL (the client's home page) or --client-id URL (where the document is served)")
	case len(t.RedirectURIs) == 0:
		return usageErrorf("give at least one --redirect-uri, e.g. --redirect-uri http://127.0.0.1/callback for a native app")
	case t.ClientID == "":
		t.ClientID = strings.TrimSuffix(t.ClientURI, "/") + "/client-metadata.json"
	}
	doc, ps := cimd.New(t)
	out := g.IO.Out
	if opts.Write != "" {
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if opts.Force {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		// The document is public: it is served to anyone who asks.
		f, err := os.OpenFile(opts.Write, flag, 0o644)
		if errors.Is(err, os.ErrExist) {
			return usageErrorf("--write %s: the file exists: choose another, or add --force to replace it", opts.Write)
		}
		if err != nil {
			return fmt.Errorf("cimd init: %w", err)
		}
		defer f.Close()
		out = f
	}
	if _, err := out.Write(doc); err != nil {
		return fmt.Errorf("cimd init: write the document: %w", err)
	}
	if opts.Write != "" {
		fmt.Fprintf(g.IO.ErrOut, "wrote %s\n", opts.Write)
	}
	fmt.Fprintf(g.IO.ErrOut, "serve it as application/json at %s (its client_id)\n", t.ClientID)
	return printProblems(g, ps, t.ClientID)
}

// printProblems prints one problem per line on stderr (init) and returns an error when one
// of them breaks a MUST.
func printProblems(g *GlobalOptions, ps cimd.Problems, what string) error {
	for _, p := range ps {
		fmt.Fprintln(g.IO.ErrOut, p)
	}
	return invalidDocument(what, ps)
}

// invalidDocumentError is a document that breaks the draft: exit code ExitInvalid.
type invalidDocumentError struct {
	what string
	err  *cimd.InvalidError
}

func (e *invalidDocumentError) Error() string {
	n := len(e.err.Problems.Errors())
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("%s is not a valid Client ID Metadata Document: %d problem%s listed above; fix them and run dcrctl cimd check again", e.what, n, s)
}

func (e *invalidDocumentError) Unwrap() error { return e.err }

func invalidDocument(what string, ps cimd.Problems) error {
	var ie *cimd.InvalidError
	if errors.As(ps.Err(), &ie) {
		return &invalidDocumentError{what: what, err: ie}
	}
	return nil
}
