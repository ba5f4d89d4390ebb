package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/flows"
)

func init() { subcommands = append(subcommands, newTokenCmd) }

// tokenOptions are the inputs of dcrctl token.
type tokenOptions struct {
	grantOptions
	G *GlobalOptions

	// argvSecret is set only if someone tries --client-secret: it is refused.
	argvSecret string
}

func newTokenCmd(g *GlobalOptions) *cobra.Command {
	opts := &tokenOptions{G: g}
	c := &cobra.Command{
		Use:   "token --issuer URL (--client-credentials | --login | --device) --client-id ID",
		Short: "Get an access token (by default with scope dcr, for registration)",
		Long: `Get an access token from the issuer's token endpoint and print it.

  --client-credentials  the client credentials grant (RFC 6749 §4.4), for scripts and CI
  --login               a browser login: authorization code + PKCE on a loopback redirect
                        (RFC 8252); a second login in the same browser is silent (SSO)
  --device              the device authorization grant (RFC 8628), for machines without a browser

The client secret, for confidential clients, is never taken from the command line: it is read
from --client-secret-file FILE, from standard input with --client-secret-file -, or from the
environment variable DCRCTL_CLIENT_SECRET.

The browser is DCRCTL_BROWSER, else BROWSER (a command; %s stands for the URL), else the
desktop's default browser. It is opened when asked for (--browser, or DCRCTL_BROWSER or
BROWSER set) or in an interactive session (stdin a terminal, CI not true); otherwise, over SSH
or without a display, the URL is only printed, as with --no-browser. Messages go to stderr; stdout carries only the token (-o json: an object with
access_token, token_type, expires_in, scope, and refresh_token and id_token when issued).`,
		Example: `  dcrctl token --issuer https://idp.example --client-credentials --client-id ci-bot \
      --client-secret-file ~/.config/ci-bot.secret
  printf %s "$SECRET" | dcrctl token --issuer https://idp.example --client-credentials \
      --client-id ci-bot --client-secret-file - -o json
  dcrctl token --issuer https://idp.example --login --client-id dcrctl
  dcrctl token --issuer https://idp.example --device --client-id dcrctl`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// A profile supplies what the flags do not: the client, its secret file, the flow.
			opts.fromProfile(g.IO, g.settings.Profile)
			ctx, cancel := g.Context(c)
			defer cancel()
			return tokenRun(ctx, opts)
		},
	}
	f := c.Flags()
	opts.addFlags(f)
	f.BoolVar(&opts.Check, "check", false, "with --resource: send one request with the token to the resource, which must accept it")
	// --client-secret exists only to explain why it does not: a secret on the command line is
	// visible in ps and kept in shell history.
	f.StringVar(&opts.argvSecret, "client-secret", "", "")
	_ = f.MarkHidden("client-secret")
	return c
}

// tokenOutput is what -o json and -o yaml print.
type tokenOutput struct {
	AccessToken  string `json:"access_token" yaml:"access_token"`
	TokenType    string `json:"token_type" yaml:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty" yaml:"expires_in,omitempty"`
	Scope        string `json:"scope" yaml:"scope"`
	RefreshToken string `json:"refresh_token,omitempty" yaml:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty" yaml:"id_token,omitempty"`
}

// tokenRun gets the token with the chosen flow and prints it.
func tokenRun(ctx context.Context, opts *tokenOptions) error {
	g := opts.G
	if opts.argvSecret != "" {
		return usageErrorf("--client-secret is not accepted: a secret on the command line shows in ps and in shell history; use --client-secret-file FILE, --client-secret-file - (stdin) or DCRCTL_CLIENT_SECRET")
	}
	if opts.modes() != 1 {
		return usageErrorf("choose exactly one of --client-credentials, --login or --device")
	}
	if err := g.fromResource(ctx); err != nil {
		return err
	}
	opts.Resource = g.Resource
	meta := g.explicitMetadata()
	if g.Issuer == "" && meta.TokenEndpoint == "" {
		return usageErrorf("no issuer: give --issuer URL (or --token-endpoint URL), set DCRCTL_ISSUER, or choose a profile with --profile")
	}
	if opts.ClientID == "" {
		return usageErrorf("no client id: give --client-id ID")
	}
	if opts.Scopes = scopeList(opts.Scopes); len(opts.Scopes) == 0 {
		return usageErrorf("--scope is empty: name at least one scope, e.g. --scope dcr")
	}
	tok, err := opts.token(ctx, g, g.Issuer, meta)
	if err != nil {
		return err
	}
	for _, s := range opts.Scopes {
		if !tok.HasScope(s) {
			g.IO.warnf("the server granted scope %q, without %q: requests that need %q will be refused", tok.Scope, s, s)
		}
	}
	if err := opts.checkToken(ctx, g, tok); err != nil {
		return err
	}
	return writeToken(g.IO.Out, g.Output, g.EnvPrefix, tok)
}

// writeToken prints the token in the chosen format: the bare access token by default.
func writeToken(w io.Writer, format, envPrefix string, tok *flows.Token) error {
	out := tokenOutput{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresIn: tok.ExpiresIn,
		Scope: tok.Scope, RefreshToken: tok.RefreshToken, IDToken: tok.IDToken,
	}
	switch format {
	case "json":
		return writeJSON(w, out)
	case "yaml":
		enc := yaml.NewEncoder(w)
		if err := enc.Encode(out); err != nil {
			return err
		}
		return enc.Close()
	case "env":
		return writeEnv(w, envPrefix, []envVar{{"ACCESS_TOKEN", tok.AccessToken}, {"TOKEN_TYPE", tok.TokenType},
			{"SCOPE", tok.Scope}, {"REFRESH_TOKEN", tok.RefreshToken}})
	default:
		_, err := fmt.Fprintln(w, tok.AccessToken)
		return err
	}
}
