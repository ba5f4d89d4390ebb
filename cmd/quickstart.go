package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newQuickstartCmd) }

// quickstartTemplate is the template the quickstart's embedded server adds to the default
// configuration: a confidential service client, so that the new instance can get a token on
// its own (client credentials) without a browser.
const quickstartTemplate = "service"

// quickstartOptions are the inputs of dcrctl quickstart.
type quickstartOptions struct {
	G    *GlobalOptions
	Keep bool // keep the credential in an explicitly chosen keystore
}

func newQuickstartCmd(g *GlobalOptions) *cobra.Command {
	opts := &quickstartOptions{G: g}
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole registration mission end to end against an embedded server",
		Long: `Run dynamic client registration end to end, with no setup:

  1. start an embedded authorization server (dcrctl serve's) on a free loopback port, with
     temporary storage and RFC 7592 rotation of the registration access token and the client
     secret on every read;
  2. get an initial access token with scope dcr (client credentials grant of its bootstrap client);
  3. register an instance of the template "` + quickstartTemplate + `" (RFC 7591);
  4. store it (in a file keystore in a temporary directory, unless --keystore is given);
  5. read it back through RFC 7592 and store the rotated credentials;
  6. get an access token as the new instance, with the stored (rotated) secret;
  7. delete the registration (RFC 7592) and forget it (unless --keep with --keystore).

The embedded server stops when quickstart exits, taking its storage with it: a credential kept
with --keep names a server that is gone. For one that stays up, run dcrctl serve and dcrctl
register. If stdout closes early (quickstart | head -1), it stops and still removes everything.

Each step is narrated on stdout, without secrets (-o json: a summary object). The exit code is
0 only if every step worked.`,
		Example: `  go run ./cmd/dcrctl quickstart
  dcrctl quickstart -o json | jq .ok
  dcrctl quickstart --keystore os   # use the OS keyring for step 4`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			// quickstart | head -1: stop, and remove the temporary files, once nobody reads.
			ctx, stopWatch := untilStdoutCloses(ctx, g.IO, "dcrctl quickstart")
			defer stopWatch()
			if err := quickstartRun(ctx, opts); errors.Is(context.Cause(ctx), errStdoutClosed) {
				return fmt.Errorf("%w: stopped; the embedded server and its temporary files are removed", errStdoutClosed)
			} else if err != nil {
				return err
			}
			return nil
		},
	}
	c.Flags().BoolVar(&opts.Keep, "keep", false, "with --keystore: keep the credential; its embedded server stops when quickstart exits, so it then works nowhere")
	return c
}

func quickstartRun(ctx context.Context, opts *quickstartOptions) (err error) {
	g := opts.G
	if g.Keystore == keystoreNone {
		return usageErrorf("quickstart stores the credential: use --keystore file or os, or leave --keystore out for a temporary file store")
	}
	if opts.Keep && !g.settings.KeystoreExplicit {
		return usageErrorf("--keep only makes sense with --keystore os or file: without it the store is temporary")
	}
	n := newNarrator(g)
	defer n.finish(&err)
	tmp, err := os.MkdirTemp("", "dcrctl-quickstart-")
	if err != nil {
		return n.step("serve", fmt.Errorf("temporary directory: %w: check TMPDIR", err), "")
	}
	defer os.RemoveAll(tmp)
	q := &quickstart{g: g, keep: opts.Keep, n: n, tmp: tmp}
	defer q.stop()
	for _, step := range []func(context.Context) error{q.serve, q.initialToken, q.register, q.read, q.token, q.finish} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}
