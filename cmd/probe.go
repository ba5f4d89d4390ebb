package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client/probe"
)

func init() { subcommands = append(subcommands, newProbeCmd) }

// probeOptions are the inputs of dcrctl probe.
type probeOptions struct {
	G           *GlobalOptions
	Token       initialTokenOptions
	NoRegister  bool
	MaxRequests int
}

// ProbeViolationsError is the error of a probe whose report has violations (exit code 3).
type ProbeViolationsError struct{ N int }

func (e *ProbeViolationsError) Error() string {
	return fmt.Sprintf("the server violates the RFCs in %d check(s): see the report", e.N)
}

func newProbeCmd(g *GlobalOptions) *cobra.Command {
	opts := &probeOptions{G: g}
	c := &cobra.Command{
		Use:   "probe [URL]",
		Short: "Report what a server's dynamic client registration does, black-box",
		Long: `Probe an authorization server and report, check by check, what its dynamic client
registration (RFC 7591/7592) does: discovery, registration modes and initial tokens, the
shape of responses, metadata handling, loopback redirects, PKCE and iss at /authorize,
CORS, and RFC 7592 rotation, read, update and delete.

URL is an issuer, or a protected resource (RFC 9728: its metadata, or a 401 naming
resource_metadata); without URL, --issuer, or --registration-endpoint alone for a bare
endpoint. The initial access token is got as for register (--client-credentials, --login,
--device, --token-file, DCRCTL_TOKEN); with --client-credentials a token without dcr is also
asked for, to see whether registration answers 401 or 403.

It is safe against production: --no-register sends only GETs (and one CORS preflight);
otherwise it registers a few clients named dcrctl-probe-…, deletes every one (and lists any
it could not), never logs a user in (authorization requests are sent and their answer read,
never followed), never sends a token or secret to another origin than the registration
endpoint's, and stops after --max-requests requests or --timeout.

Exit code 0 when no check is a violation, 3 when one is.`,
		Example: `  dcrctl probe http://127.0.0.1:8414 --client-credentials --client-id bootstrap --client-secret-file boot.secret
  dcrctl probe https://idp.example --no-register -o markdown
  dcrctl probe https://mcp.example/mcp -o json | jq '.checks[] | select(.result == "violation")'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			target := g.Issuer
			if len(args) == 1 {
				target = args[0]
			}
			return probeRun(ctx, opts, target)
		},
	}
	opts.Token.addFlags(c.Flags())
	c.Flags().BoolVar(&opts.NoRegister, "no-register", false, "send only reads: register nothing")
	c.Flags().IntVar(&opts.MaxRequests, "max-requests", probe.DefaultMaxRequests, "the most requests to send")
	return c
}

func probeRun(ctx context.Context, opts *probeOptions, target string) error {
	g := opts.G
	e := g.endpoints()
	if target == "" && e.Registration == "" {
		return usageErrorf("no URL: give the issuer or protected resource to probe (or --registration-endpoint URL)")
	}
	po := probe.Options{URL: target, Endpoints: e, NoRegister: opts.NoRegister, MaxRequests: opts.MaxRequests,
		HTTPClient: g.httpClient(), UserAgent: g.sdk().UserAgent}
	var src probeTokens
	if !opts.NoRegister {
		po.InitialToken, po.TokenWithoutDCR = src.sources(g, opts.Token)
	}
	rep, err := probe.Run(ctx, po)
	switch {
	case rep == nil:
		return &UsageError{Err: err}
	case src.usage != nil:
		return src.usage // a bad token flag: the report would hide it
	case err != nil:
		return err // nothing answered: the report would only say so
	}
	switch g.Output {
	case "json":
		err = writeJSON(g.IO.Out, rep)
	case "markdown":
		err = rep.WriteMarkdown(g.IO.Out)
	default:
		err = rep.WriteTable(g.IO.Out)
	}
	if err != nil {
		return err
	}
	if rep.Violations() > 0 {
		return &ProbeViolationsError{N: rep.Violations()}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("the probe stopped before its end, so the report is partial: give it more time with --timeout: %w", err)
	}
	return nil
}
