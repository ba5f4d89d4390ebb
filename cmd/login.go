package cmd

import (
	"cmp"
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
	grantOptions
	// now is the clock that decides whether a stored token is still valid (tests).
	now func() time.Time
}

func newLoginCmd(g *GlobalOptions) *cobra.Command {
	opts := &loginOptions{manageOptions: manageOptions{G: g}}
	c := &cobra.Command{
		Use:   "login NAME | login --client-id https://…",
		Short: "Get an access token as a registered client (browser login or client credentials)",
		Long: `Authenticate as the stored client NAME and print its access token:

  - a client with redirect URIs logs in in the browser (authorization code + PKCE on a loopback
    redirect, RFC 8252); with a single sign-on session from an earlier login (for example the
    one that got the initial access token) this is silent;
  - any other client uses the client credentials grant with its stored secret.

Before either, it reuses the access token of the last login while it is valid for a minute
more and has the scopes asked for, or refreshes it with the stored refresh token (RFC 6749
§6); --force-login skips both. What it gets is stored with the credential.

The scopes are the registration's, unless --scope names others. The browser is opened when
asked for (--browser, or DCRCTL_BROWSER or BROWSER set) or in an interactive session (stdin a
terminal, CI not true); otherwise the URL is printed.

` + loginCIMDHelp,
		Example: `  dcrctl login my-app
  dcrctl login my-service -o json | jq -r .access_token
  dcrctl login my-app --scope "openid profile" --force-login
  dcrctl login --issuer https://as.example --client-id https://app.example/client-metadata.json`,
		Args:              loginArgs(opts),
		ValidArgsFunction: completeNames(g),
		RunE:              loginRunE(g, opts),
	}
	f := c.Flags()
	f.StringSliceVar(&opts.Scopes, "scope", nil, "scopes to request (default: the registration's scope)")
	opts.addBrowserFlags(f, "")
	f.BoolVar(&opts.Check, "check", false, "for a client registered with --resource: send one request with the token to the resource, which must accept it")
	f.StringVar(&opts.ClientID, "client-id", "", "log in as the client of this Client ID Metadata Document URL (no NAME, nothing stored)")
	return c
}

func loginRun(ctx context.Context, opts *loginOptions) error {
	g := opts.G
	if err := opts.check(); err != nil {
		return err
	}
	cred, reg, _, err := opts.load(ctx)
	if err != nil {
		return err
	}
	if err := g.checkCredential(ctx, cred); err != nil {
		return err
	}
	opts.Resource = cred.Resource
	issuer := cred.Issuer
	if issuer == "" {
		if issuer, err = g.requireIssuer(); err != nil {
			return err
		}
	}
	if opts.Scopes = scopeList(opts.Scopes); len(opts.Scopes) == 0 {
		opts.Scopes = strings.Fields(reg.Scope)
	}
	// Endpoints given now beat those recorded at registration; the rest are discovered.
	meta := g.explicitMetadata()
	meta.TokenEndpoint = cmp.Or(meta.TokenEndpoint, cred.TokenEndpoint)
	meta.AuthorizationEndpoint = cmp.Or(meta.AuthorizationEndpoint, cred.AuthorizationEndpoint)
	tok, how, err := opts.reuse(ctx, cred, reg, issuer, meta)
	if err != nil {
		return err
	}
	if tok == nil {
		if tok, err = loginAs(ctx, g, opts, issuer, reg, meta); err != nil {
			return err
		}
	}
	if how != "" {
		fmt.Fprintln(g.IO.ErrOut, how)
	}
	if tok.AccessToken != cred.AccessToken {
		if err := opts.save(ctx, tok); err != nil {
			return err
		}
	}
	if err := opts.checkToken(ctx, g, tok); err != nil {
		return err
	}
	return writeToken(g.IO.Out, g.Output, g.EnvPrefix, tok)
}

// loginAs gets a token as the registered client: a browser login when it has redirect URIs
// (and the authorization code grant), client credentials otherwise.
func loginAs(ctx context.Context, g *GlobalOptions, opts *loginOptions, issuer string, reg *client.Registration, meta *client.ServerMetadata) (*flows.Token, error) {
	o := opts.grantOptions
	o.ClientID, o.Stored, o.StoredSecret, o.AuthMethod = reg.ClientID, true, reg.ClientSecret, reg.TokenEndpointAuthMethod
	browser := len(reg.RedirectURIs) > 0 && (len(reg.GrantTypes) == 0 || slices.Contains(reg.GrantTypes, "authorization_code"))
	if !browser {
		if len(reg.GrantTypes) > 0 && !slices.Contains(reg.GrantTypes, "client_credentials") {
			return nil, fmt.Errorf("client %s has neither redirect URIs nor the client_credentials grant (grant_types %v): dcrctl cannot log in as it; add one with dcrctl update %s --set 'grant_types=[\"client_credentials\"]'", reg.ClientID, reg.GrantTypes, opts.Name)
		}
		if reg.ClientSecret == "" {
			return nil, fmt.Errorf("client %s has no stored secret, which the client credentials grant needs (RFC 6749 §4.4): register a confidential client, or one with redirect URIs for a browser login", reg.ClientID)
		}
		if len(o.Scopes) == 0 {
			// RFC 6749 §4.4.2: scope is OPTIONAL; a non-nil empty list sends none, so that the
			// server's default for this client applies (nil would mean flows.DefaultScopes).
			o.Scopes = []string{}
		}
		o.ClientCredentials = true
		return o.token(ctx, g, issuer, meta)
	}
	redirect, err := flows.PickLoopbackRedirect(reg.RedirectURIs)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w; add one with dcrctl update %s --set 'redirect_uris=[\"http://127.0.0.1/callback\"]'", reg.ClientID, err, opts.Name)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"openid"}
	}
	o.Login, o.RedirectURI = true, redirect
	return o.token(ctx, g, issuer, meta)
}
