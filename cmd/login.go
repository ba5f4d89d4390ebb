package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
)

func init() { subcommands = append(subcommands, newLoginCmd) }

// loginOptions are the inputs of dcrctl login.
type loginOptions struct {
	manageOptions
	Scopes       []string
	Browser      bool
	NoBrowser    bool
	ForceLogin   bool
	LoginTimeout time.Duration

	// OpenURL replaces the system browser (tests).
	OpenURL func(string) error
}

func newLoginCmd(g *GlobalOptions) *cobra.Command {
	opts := &loginOptions{manageOptions: manageOptions{G: g}}
	c := &cobra.Command{
		Use:   "login NAME",
		Short: "Get an access token as a registered client (browser login or client credentials)",
		Long: `Authenticate as the stored client NAME and print its access token:

  - a client with redirect URIs logs in in the browser (authorization code + PKCE on a loopback
    redirect, RFC 8252); with a single sign-on session from an earlier login (for example the
    one that got the initial access token) this is silent;
  - any other client uses the client credentials grant with its stored secret.

The scopes are the registration's, unless --scope names others. When stdin is not a terminal,
or CI=true, the browser is opened only with --browser; otherwise the URL is printed.`,
		Example: `  dcrctl login my-app
  dcrctl login my-service -o json | jq -r .access_token
  dcrctl login my-app --scope "openid profile" --force-login`,
		Args:              oneName,
		ValidArgsFunction: completeNames(g),
		RunE:              runNamed(g, &opts.Name, func(ctx context.Context) error { return loginRun(ctx, opts) }),
	}
	f := c.Flags()
	f.StringSliceVar(&opts.Scopes, "scope", nil, "scopes to request (default: the registration's scope)")
	f.BoolVar(&opts.Browser, "browser", false, "open the browser even when not interactive (stdin not a terminal, or CI=true)")
	f.BoolVar(&opts.NoBrowser, "no-browser", false, "print the login URL, do not open a browser")
	f.BoolVar(&opts.ForceLogin, "force-login", false, "ask for the password even with an SSO session (prompt=login)")
	f.DurationVar(&opts.LoginTimeout, "login-timeout", flows.DefaultLoginTimeout, "time allowed for the browser login")
	return c
}

func loginRun(ctx context.Context, opts *loginOptions) error {
	g := opts.G
	if opts.Browser && opts.NoBrowser {
		return usageErrorf("--browser and --no-browser exclude each other")
	}
	cred, reg, _, err := opts.load(ctx)
	if err != nil {
		return err
	}
	issuer := cred.Issuer
	if issuer == "" {
		if issuer, err = g.requireIssuer(); err != nil {
			return err
		}
	}
	var scopes []string
	for _, s := range opts.Scopes {
		scopes = append(scopes, strings.Fields(s)...)
	}
	if len(scopes) == 0 {
		scopes = strings.Fields(reg.Scope)
	}
	tok, err := loginAs(ctx, g, opts, issuer, reg, scopes)
	if err != nil {
		return err
	}
	return writeToken(g.IO.Out, g.Output, g.EnvPrefix, tok)
}

// loginAs gets a token as the registered client: a browser login when it has redirect URIs
// (and the authorization code grant), client credentials otherwise.
func loginAs(ctx context.Context, g *GlobalOptions, opts *loginOptions, issuer string, reg *client.Registration, scopes []string) (*flows.Token, error) {
	hc := g.httpClient()
	browser := len(reg.RedirectURIs) > 0 && (len(reg.GrantTypes) == 0 || slices.Contains(reg.GrantTypes, "authorization_code"))
	if !browser {
		if len(reg.GrantTypes) > 0 && !slices.Contains(reg.GrantTypes, "client_credentials") {
			return nil, fmt.Errorf("client %s has neither redirect URIs nor the client_credentials grant (grant_types %v): dcrctl cannot log in as it; add one with dcrctl update %s --set 'grant_types=[\"client_credentials\"]'", reg.ClientID, reg.GrantTypes, opts.Name)
		}
		if reg.ClientSecret == "" {
			return nil, fmt.Errorf("client %s has no stored secret, which the client credentials grant needs (RFC 6749 §4.4): register a confidential client, or one with redirect URIs for a browser login", reg.ClientID)
		}
		if len(scopes) == 0 {
			// RFC 6749 §4.4.2: scope is OPTIONAL; a non-nil empty list sends none, so that the
			// server's default for this client applies (nil would mean flows.DefaultScopes).
			scopes = []string{}
		}
		return flows.ClientCredentials{Issuer: issuer, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
			AuthMethod: reg.TokenEndpointAuthMethod, Scopes: scopes, HTTPClient: hc}.Token(ctx)
	}
	redirect, err := flows.PickLoopbackRedirect(reg.RedirectURIs)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w; add one with dcrctl update %s --set 'redirect_uris=[\"http://127.0.0.1/callback\"]'", reg.ClientID, err, opts.Name)
	}
	if len(scopes) == 0 {
		scopes = []string{"openid"}
	}
	noBrowser := opts.NoBrowser || (!opts.Browser && !g.IO.Interactive())
	open := opts.OpenURL
	if open == nil {
		open = flows.Browser{Getenv: g.IO.getenv, Stderr: g.IO.ErrOut}.Open
	}
	if noBrowser && !opts.NoBrowser {
		fmt.Fprintln(g.IO.ErrOut, "not interactive: open the URL below yourself, or run with --browser")
	}
	sp := startSpinner(g.IO, "waiting for the login in the browser…")
	defer sp.Stop()
	return flows.BrowserLogin{Issuer: issuer, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		AuthMethod: reg.TokenEndpointAuthMethod, Scopes: scopes, RedirectURI: redirect, ForceLogin: opts.ForceLogin,
		NoBrowser: noBrowser, OpenURL: open, Timeout: opts.LoginTimeout, Status: sp.Writer(), HTTPClient: hc}.Token(ctx)
}
