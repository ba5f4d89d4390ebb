package cmd

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
)

// grantOptions say how cmd gets a token from a token endpoint: the one home of the flow
// literals, for dcrctl token, register's initial access token and dcrctl login.
type grantOptions struct {
	ClientCredentials bool
	Login             bool
	Device            bool
	ClientID          string
	ClientSecretFile  string
	ClientSecretEnv   string // the secret's environment variable; "" is DCRCTL_CLIENT_SECRET
	AuthMethod        string
	Scopes            []string
	CallbackPort      int
	RedirectURI       string // login NAME: the registered loopback redirect URI
	Resource          string // the resource the token is for (RFC 8707): --resource, or the credential's
	Check             bool   // --check: one request to the resource with the token
	Browser           bool
	NoBrowser         bool
	ForceLogin        bool
	LoginTimeout      time.Duration

	// Stored is set by login NAME: the client's secret is StoredSecret (maybe none), and
	// neither the environment nor a prompt is asked.
	Stored       bool
	StoredSecret string

	// OpenURL replaces the system browser (tests).
	OpenURL func(string) error
}

// addFlags adds the flags that choose and configure the grant; what names the scopes' use.
func (o *grantOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.ClientCredentials, "client-credentials", false, "the client credentials grant of --client-id (for scripts and CI)")
	f.BoolVar(&o.Login, "login", false, "a browser login with --client-id (authorization code + PKCE)")
	f.BoolVar(&o.Device, "device", false, "the device authorization grant with --client-id")
	f.StringVar(&o.ClientID, "client-id", "", "the client that gets the token (e.g. the server's bootstrap client)")
	f.StringVar(&o.ClientSecretFile, "client-secret-file", "", `read that client's secret from FILE ("-" = stdin); default: env DCRCTL_CLIENT_SECRET, or a hidden prompt on a terminal`)
	f.StringVar(&o.AuthMethod, "auth-method", "", "that client's token_endpoint_auth_method: client_secret_basic, client_secret_post or none (default: basic with a secret, none without)")
	f.StringSliceVar(&o.Scopes, "scope", []string{"dcr"}, "scopes to request (repeat, or separate with commas or spaces)")
	f.IntVar(&o.CallbackPort, "callback-port", 0, "--login: loopback port for the redirect (0 = any free port)")
	o.addBrowserFlags(f, "--login: ")
}

// fromProfile fills what the flags left open from the profile: the client, its secret file
// (a leading ~/ expanded), the flow.
func (o *grantOptions) fromProfile(ios *IOStreams, p Profile) {
	if o.ClientID == "" {
		o.ClientID = p.ClientID
	}
	if o.ClientSecretFile == "" {
		o.ClientSecretFile = expandHome(ios, p.ClientSecretFile)
	}
	if o.modes() == 0 {
		switch p.Flow {
		case "client-credentials":
			o.ClientCredentials = true
		case "login":
			o.Login = true
		case "device":
			o.Device = true
		}
	}
}

func (o *grantOptions) modes() int {
	n := 0
	for _, on := range []bool{o.ClientCredentials, o.Login, o.Device} {
		if on {
			n++
		}
	}
	return n
}

// token runs the chosen grant at the endpoints of meta (discovered from issuer where empty).
func (o *grantOptions) token(ctx context.Context, g *GlobalOptions, issuer string, meta *client.ServerMetadata) (*flows.Token, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	secret, err := o.secret(g.IO)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		meta = &client.ServerMetadata{}
	}
	hc, scopes := g.httpClient(), o.Scopes
	switch {
	case o.ClientCredentials:
		return flows.ClientCredentials{Issuer: issuer, TokenURL: meta.TokenEndpoint, ClientID: o.ClientID, ClientSecret: secret,
			AuthMethod: o.AuthMethod, Scopes: scopes, Resource: o.Resource, HTTPClient: hc}.Token(ctx)
	case o.Login:
		sp := startSpinner(g.IO, "waiting for the login in the browser…")
		defer sp.Stop()
		defer g.steps.wait(ctx, "the login in the browser")()
		return flows.BrowserLogin{Issuer: issuer, AuthURL: meta.AuthorizationEndpoint, TokenURL: meta.TokenEndpoint,
			ClientID: o.ClientID, ClientSecret: secret, AuthMethod: o.AuthMethod, Scopes: scopes, Resource: o.Resource,
			CallbackPort: o.CallbackPort, RedirectURI: o.RedirectURI, ForceLogin: o.ForceLogin,
			NoBrowser: !o.opensBrowser(g.IO), OpenURL: o.openURL(g.IO),
			Timeout: o.LoginTimeout, Status: sp.Writer(), HTTPClient: hc}.Token(ctx)
	default:
		sp := startSpinner(g.IO, "waiting for the approval on the other device…")
		defer sp.Stop()
		defer g.steps.wait(ctx, "the approval on the other device")()
		return flows.DeviceFlow{Issuer: issuer, DeviceAuthURL: meta.DeviceAuthorizationEndpoint, TokenURL: meta.TokenEndpoint,
			ClientID: o.ClientID, ClientSecret: secret, AuthMethod: o.AuthMethod, Scopes: scopes, Resource: o.Resource,
			Status: sp.Writer(), HTTPClient: hc}.Token(ctx)
	}
}
