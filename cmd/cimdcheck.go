package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/cimd"
)

// cimdCheckOptions are the inputs of dcrctl cimd check.
type cimdCheckOptions struct {
	G      *GlobalOptions
	Source string // a URL or a file ("-" = stdin)
	URL    string // --url: where a file will be served
}

func newCIMDCheckCmd(g *GlobalOptions) *cobra.Command {
	opts := &cimdCheckOptions{G: g}
	c := &cobra.Command{
		Use:   "check URL|FILE",
		Short: "Check a Client ID Metadata Document against the draft, one line per problem",
		Long: `Check a Client ID Metadata Document. A URL (https://…) is fetched as an authorization
server fetches it: no redirects followed, only 200 OK, at most 64 KiB, Content-Type
application/json; then the document is checked: client_id equal to the URL, an https URL with
a path (no fragment, user info or dot segments), no secret-based token_endpoint_auth_method,
no client_secret, no private keys in jwks, redirect URIs present and valid.

A FILE ("-" for stdin) is checked the same way, without the HTTP rules; its client_id must be
a valid Client Identifier URL, and equal to --url when given.

Each problem is one line on stdout, citing the rule (draft §N, or the RFC); "warning:" lines
are recommendations (SHOULD) and do not fail the check. Exit code 0: valid; ` + fmt.Sprint(ExitInvalid) + `: the
document breaks a rule; 2: bad arguments; 1 or 6: it could not be fetched (network, TLS,
time limit).`,
		Example: `  dcrctl cimd check https://app.example/client-metadata.json
  dcrctl cimd check client.json --url https://app.example/client-metadata.json
  dcrctl cimd check https://app.example/client-metadata.json -o json | jq .problems`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Source = args[0]
			ctx, cancel := g.Context(c)
			defer cancel()
			return cimdCheckRun(ctx, opts)
		},
	}
	c.Flags().StringVar(&opts.URL, "url", "", "FILE: the URL it will be served at (its client_id must equal it)")
	return c
}

// cimdCheckResult is what -o json prints.
type cimdCheckResult struct {
	Source   string        `json:"source"`
	ClientID string        `json:"client_id,omitempty"`
	Valid    bool          `json:"valid"`
	Problems cimd.Problems `json:"problems"`
}

func cimdCheckRun(ctx context.Context, opts *cimdCheckOptions) error {
	g := opts.G
	var doc *cimd.Document
	var ps cimd.Problems
	if isURLArg(opts.Source) {
		if opts.URL != "" {
			return usageErrorf("--url is for a FILE: a URL is checked against itself")
		}
		res, err := cimd.Fetch(ctx, g.httpClient(), opts.Source)
		if err != nil {
			return err
		}
		doc, ps = res.Document, res.Problems
	} else {
		body, err := readDocument(g.IO, opts.Source)
		if err != nil {
			return err
		}
		doc, ps = cimd.Check(body, cimd.Source{URL: opts.URL})
	}
	res := cimdCheckResult{Source: opts.Source, Valid: ps.Err() == nil, Problems: ps}
	if res.Problems == nil {
		res.Problems = cimd.Problems{}
	}
	if doc != nil {
		res.ClientID = doc.ClientID
	}
	err := writeData(g.IO.Out, g.Output, res, func(w io.Writer) error {
		for _, p := range ps {
			fmt.Fprintln(w, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if res.Valid {
		fmt.Fprintf(g.IO.ErrOut, "%s: a valid Client ID Metadata Document (client_id %s)\n", opts.Source, res.ClientID)
	}
	return invalidDocument(opts.Source, ps)
}

// isURLArg tells a URL argument from a file name.
func isURLArg(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// readDocument reads FILE ("-" = stdin), one byte past the largest document Check accepts.
func readDocument(ios *IOStreams, name string) ([]byte, error) {
	var r io.Reader = ios.In
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("%v: give a readable file, an https:// URL, or - for stdin", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, cimd.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("cimd check: read %s: %w", name, err)
	}
	return b, nil
}
