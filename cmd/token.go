package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/flows"
)

func init() { subcommands = append(subcommands, newTokenCmd) }

// tokenOptions are the inputs of dcrctl token.
type tokenOptions struct {
	IO        *IOStreams
	Issuer    string
	Output    string
	EnvPrefix string // -o env: the start of the variable names

	ClientCredentials bool
	Login             bool
	Device            bool

	ClientID         string
	ClientSecretFile string
	AuthMethod       string
	Scopes           []string
	CallbackPort     int
	NoBrowser        bool
	ForceLogin       bool
	LoginTimeout     time.Duration
	// HTTPClient makes every request; nil means the flows' default (--verbose sets a tracing one).
	HTTPClient *http.Client

	// argvSecret is set only if someone tries --client-secret: it is refused.
	argvSecret string
}

func newTokenCmd(g *GlobalOptions) *cobra.Command {
	opts := &tokenOptions{IO: g.IO}
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
desktop's default browser. Over SSH or without a display the URL is only printed, as with
--no-browser. Messages go to stderr; stdout carries only the token (-o json: an object with
access_token, token_type, expires_in, scope, and refresh_token and id_token when issued).`,
		Example: `  dcrctl token --issuer https://idp.example --client-credentials --client-id ci-bot \
      --client-secret-file ~/.config/ci-bot.secret
  printf %s "$SECRET" | dcrctl token --issuer https://idp.example --client-credentials \
      --client-id ci-bot --client-secret-file - -o json
  dcrctl token --issuer https://idp.example --login --client-id dcrctl
  dcrctl token --issuer https://idp.example --device --client-id dcrctl`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Issuer, opts.Output, opts.EnvPrefix, opts.HTTPClient = g.Issuer, g.Output, g.EnvPrefix, g.httpClient()
			// A profile supplies what the flags do not: the client, its secret file, the flow.
			p := g.settings.Profile
			if opts.ClientID == "" {
				opts.ClientID = p.ClientID
			}
			if opts.ClientSecretFile == "" {
				opts.ClientSecretFile = p.ClientSecretFile
			}
			if !opts.ClientCredentials && !opts.Login && !opts.Device {
				switch p.Flow {
				case "client-credentials":
					opts.ClientCredentials = true
				case "login":
					opts.Login = true
				case "device":
					opts.Device = true
				}
			}
			ctx, cancel := g.Context(c)
			defer cancel()
			return tokenRun(ctx, opts)
		},
	}
	f := c.Flags()
	f.BoolVar(&opts.ClientCredentials, "client-credentials", false, "use the client credentials grant")
	f.BoolVar(&opts.Login, "login", false, "log in in the browser (authorization code + PKCE)")
	f.BoolVar(&opts.Device, "device", false, "use the device authorization grant")
	f.StringVar(&opts.ClientID, "client-id", "", "the client's id")
	f.StringVar(&opts.ClientSecretFile, "client-secret-file", "", `read the client secret from FILE ("-" = stdin); default: env DCRCTL_CLIENT_SECRET`)
	f.StringVar(&opts.AuthMethod, "auth-method", "", "token_endpoint_auth_method: client_secret_basic, client_secret_post or none (default: basic with a secret, none without)")
	f.StringSliceVar(&opts.Scopes, "scope", []string{"dcr"}, "scopes to request (repeat, or separate with commas or spaces)")
	f.IntVar(&opts.CallbackPort, "callback-port", 0, "--login: loopback port for the redirect (0 = any free port)")
	f.BoolVar(&opts.NoBrowser, "no-browser", false, "--login: print the URL, do not open a browser")
	f.BoolVar(&opts.ForceLogin, "force-login", false, "--login: ask for the password even with an SSO session (prompt=login)")
	// --client-secret exists only to explain why it does not: a secret on the command line is
	// visible in ps and kept in shell history.
	f.StringVar(&opts.argvSecret, "client-secret", "", "")
	_ = f.MarkHidden("client-secret")
	f.DurationVar(&opts.LoginTimeout, "login-timeout", flows.DefaultLoginTimeout, "--login: time allowed to finish the login in the browser")
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
	if opts.argvSecret != "" {
		return usageErrorf("--client-secret is not accepted: a secret on the command line shows in ps and in shell history; use --client-secret-file FILE, --client-secret-file - (stdin) or DCRCTL_CLIENT_SECRET")
	}
	modes := 0
	for _, on := range []bool{opts.ClientCredentials, opts.Login, opts.Device} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return usageErrorf("choose exactly one of --client-credentials, --login or --device")
	}
	if opts.Issuer == "" {
		return usageErrorf("no issuer: give --issuer URL, set DCRCTL_ISSUER, or choose a profile with --profile")
	}
	if opts.ClientID == "" {
		return usageErrorf("no client id: give --client-id ID")
	}
	var scopes []string
	for _, s := range opts.Scopes {
		scopes = append(scopes, strings.Fields(s)...)
	}
	if len(scopes) == 0 {
		return usageErrorf("--scope is empty: name at least one scope, e.g. --scope dcr")
	}
	if opts.CallbackPort < 0 || opts.CallbackPort > 65535 {
		return usageErrorf("--callback-port %d is not a TCP port: use 1-65535, or 0 for any free port", opts.CallbackPort)
	}
	secret, err := readSecret(opts.IO, "client secret", opts.ClientSecretFile, "DCRCTL_CLIENT_SECRET")
	if err != nil {
		return err
	}
	status := opts.IO.ErrOut

	var tok *flows.Token
	switch {
	case opts.ClientCredentials:
		tok, err = flows.ClientCredentials{
			Issuer: opts.Issuer, ClientID: opts.ClientID, ClientSecret: secret,
			AuthMethod: opts.AuthMethod, Scopes: scopes, HTTPClient: opts.HTTPClient,
		}.Token(ctx)
	case opts.Login:
		tok, err = flows.BrowserLogin{
			Issuer: opts.Issuer, ClientID: opts.ClientID, ClientSecret: secret,
			AuthMethod: opts.AuthMethod, Scopes: scopes,
			CallbackPort: opts.CallbackPort, ForceLogin: opts.ForceLogin, NoBrowser: opts.NoBrowser,
			OpenURL: flows.Browser{Getenv: opts.IO.getenv, Stderr: status}.Open,
			Timeout: opts.LoginTimeout, Status: status, HTTPClient: opts.HTTPClient,
		}.Token(ctx)
	default: // --device
		tok, err = flows.DeviceFlow{
			Issuer: opts.Issuer, ClientID: opts.ClientID, ClientSecret: secret,
			AuthMethod: opts.AuthMethod, Scopes: scopes, Status: status, HTTPClient: opts.HTTPClient,
		}.Token(ctx)
	}
	if err != nil {
		return err
	}
	for _, s := range scopes {
		if !tok.HasScope(s) {
			fmt.Fprintf(status, "warning: the server granted scope %q, without %q: requests that need %q will be refused\n", tok.Scope, s, s)
		}
	}
	return writeToken(opts.IO.Out, opts.Output, opts.EnvPrefix, tok)
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
