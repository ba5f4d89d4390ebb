package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
)

// initialTokenOptions says how register gets its initial access token (RFC 7591 §3): the
// client credentials grant, a browser login, the device grant, a file, DCRCTL_TOKEN, or
// none for open registration.
type initialTokenOptions struct {
	ClientCredentials bool
	Login             bool
	Device            bool
	ClientID          string
	ClientSecretFile  string
	AuthMethod        string
	TokenFile         string
	Token             string // --token on argv: accepted with a warning
	Scopes            []string
	CallbackPort      int
	NoBrowser         bool
	ForceLogin        bool
	LoginTimeout      time.Duration

	// OpenURL replaces the system browser for --login (tests).
	OpenURL func(string) error
}

func (o *initialTokenOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.ClientCredentials, "client-credentials", false, "initial token: the client credentials grant of --client-id (client-authenticated registration)")
	f.BoolVar(&o.Login, "login", false, "initial token: a browser login with --client-id (user-authenticated registration)")
	f.BoolVar(&o.Device, "device", false, "initial token: the device grant with --client-id")
	f.StringVar(&o.ClientID, "client-id", "", "the client that gets the initial token (e.g. the server's bootstrap client)")
	f.StringVar(&o.ClientSecretFile, "client-secret-file", "", `read that client's secret from FILE ("-" = stdin); default: env DCRCTL_CLIENT_SECRET`)
	f.StringVar(&o.AuthMethod, "auth-method", "", "that client's token_endpoint_auth_method (default: client_secret_basic with a secret, none without)")
	f.StringVar(&o.TokenFile, "token-file", "", `initial token: read an initial access token from FILE ("-" = stdin); default: env DCRCTL_TOKEN`)
	f.StringVar(&o.Token, "token", "", "initial access token on the command line (discouraged: use --token-file or DCRCTL_TOKEN)")
	_ = f.MarkHidden("token")
	f.StringSliceVar(&o.Scopes, "scope", []string{"dcr"}, "scopes of the initial token")
	f.IntVar(&o.CallbackPort, "callback-port", 0, "loopback port: --login listens on it; a native client without redirect_uris registers http://127.0.0.1:PORT/callback")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "--login: print the URL, do not open a browser")
	f.BoolVar(&o.ForceLogin, "force-login", false, "--login: ask for the password even with an SSO session")
	f.DurationVar(&o.LoginTimeout, "login-timeout", flows.DefaultLoginTimeout, "--login: time allowed for the browser login")
}

// get returns the initial access token, or "" for open registration.
func (o initialTokenOptions) get(ctx context.Context, g *GlobalOptions, issuer string, meta *client.ServerMetadata) (string, error) {
	p := g.settings.Profile
	modes := 0
	for _, on := range []bool{o.ClientCredentials, o.Login, o.Device, o.TokenFile != "", o.Token != ""} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return "", usageErrorf("choose one way to get the initial token: --client-credentials, --login, --device, --token-file (or DCRCTL_TOKEN)")
	}
	if modes == 0 {
		if env := strings.TrimSpace(g.IO.getenv("DCRCTL_TOKEN")); env != "" {
			return env, nil
		}
		switch p.Flow {
		case "client-credentials":
			o.ClientCredentials = true
		case "login":
			o.Login = true
		case "device":
			o.Device = true
		case "token":
			return "", usageErrorf("profile %q uses flow token, but DCRCTL_TOKEN is empty: set it, or give --token-file FILE", g.Profile)
		default:
			return "", nil // open registration
		}
	}
	if o.Token != "" {
		warnSecretOnArgv(g.IO, "--token", "use --token-file FILE (or -) or DCRCTL_TOKEN")
		return o.Token, nil
	}
	if o.TokenFile != "" {
		return readSecret(g.IO, "initial access token", o.TokenFile, "")
	}
	if o.ClientID == "" {
		o.ClientID = p.ClientID
	}
	if o.ClientID == "" {
		return "", usageErrorf("no client id for the initial token: give --client-id ID (the server's bootstrap client, e.g. \"bootstrap\" for dcrctl serve)")
	}
	if o.ClientSecretFile == "" {
		o.ClientSecretFile = expandHome(g.IO, p.ClientSecretFile)
	}
	secret, err := readSecret(g.IO, "client secret", o.ClientSecretFile, "DCRCTL_CLIENT_SECRET")
	if err != nil {
		return "", err
	}
	var scopes []string
	for _, s := range o.Scopes {
		scopes = append(scopes, strings.Fields(s)...)
	}
	hc := g.httpClient()
	var tok *flows.Token
	switch {
	case o.ClientCredentials:
		tok, err = flows.ClientCredentials{Issuer: issuer, TokenURL: meta.TokenEndpoint, ClientID: o.ClientID, ClientSecret: secret,
			AuthMethod: o.AuthMethod, Scopes: scopes, HTTPClient: hc}.Token(ctx)
	case o.Login:
		open := o.OpenURL
		if open == nil {
			open = flows.Browser{Getenv: g.IO.getenv, Stderr: g.IO.ErrOut}.Open
		}
		sp := startSpinner(g.IO, "waiting for the login in the browser…")
		tok, err = flows.BrowserLogin{Issuer: issuer, AuthURL: meta.AuthorizationEndpoint, TokenURL: meta.TokenEndpoint, ClientID: o.ClientID, ClientSecret: secret,
			AuthMethod: o.AuthMethod, Scopes: scopes, CallbackPort: o.CallbackPort, ForceLogin: o.ForceLogin,
			NoBrowser: o.NoBrowser, OpenURL: open,
			Timeout: o.LoginTimeout, Status: sp.Writer(), HTTPClient: hc}.Token(ctx)
		sp.Stop()
	default:
		sp := startSpinner(g.IO, "waiting for the approval on the other device…")
		tok, err = flows.DeviceFlow{Issuer: issuer, DeviceAuthURL: meta.DeviceAuthorizationEndpoint, TokenURL: meta.TokenEndpoint, ClientID: o.ClientID, ClientSecret: secret,
			AuthMethod: o.AuthMethod, Scopes: scopes, Status: sp.Writer(), HTTPClient: hc}.Token(ctx)
		sp.Stop()
	}
	if err != nil {
		return "", fmt.Errorf("getting the initial access token: %w", err)
	}
	return tok.AccessToken, nil
}

// expandHome expands a leading "~/" in a path from the config file (a shell would have done
// it for a flag).
func expandHome(ios *IOStreams, p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home := ios.getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return p
		}
	}
	return filepath.Join(home, rest)
}
