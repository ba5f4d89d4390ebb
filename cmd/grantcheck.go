package cmd

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/dcrctl/dcrctl/flows"
)

// check refuses flags that cannot work together.
func (o *grantOptions) check() error {
	if o.Browser && o.NoBrowser {
		return usageErrorf("--browser and --no-browser exclude each other")
	}
	if o.CallbackPort < 0 || o.CallbackPort > 65535 {
		return usageErrorf("--callback-port %d is not a TCP port: use 1-65535, or 0 for any free port", o.CallbackPort)
	}
	if o.Stored {
		return nil // the stored credential's own method
	}
	return checkAuthMethod(o.AuthMethod)
}

// checkAuthMethod refuses an --auth-method that no grant knows (a usage error, exit 2),
// before anything is sent.
func checkAuthMethod(m string) error {
	switch m {
	case "", flows.AuthClientSecretBasic, flows.AuthClientSecretPost, flows.AuthNone:
		return nil
	}
	return usageErrorf("--auth-method %q: use client_secret_basic, client_secret_post or none", m)
}

// scopeList splits --scope values given with commas or spaces.
func scopeList(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// secret reads the client's secret: --client-secret-file, DCRCTL_CLIENT_SECRET, or on a
// terminal a prompt without echo. A confidential grant without one is a usage error.
func (o *grantOptions) secret(ios *IOStreams) (string, error) {
	if o.Stored {
		return o.StoredSecret, nil
	}
	s, err := readSecret(ios, "client secret", o.ClientSecretFile, cmp.Or(o.ClientSecretEnv, "DCRCTL_CLIENT_SECRET"))
	if err != nil || s != "" || !o.ClientCredentials {
		return s, err
	}
	if ios.Interactive() {
		return readSecret(ios, fmt.Sprintf("client secret of %s", o.ClientID), "-", "")
	}
	return "", usageErrorf("no client secret for %s: the client credentials grant needs one (RFC 6749 §4.4); give --client-secret-file FILE (or -), or set DCRCTL_CLIENT_SECRET", o.ClientID)
}

// checkToken is --check: one request with tok to the resource it is for.
func (o *grantOptions) checkToken(ctx context.Context, g *GlobalOptions, tok *flows.Token) error {
	switch {
	case !o.Check:
		return nil
	case o.Resource == "":
		return usageErrorf("--check needs a resource to send the token to: give --resource URL (or log in as a client registered with one)")
	}
	return g.checkAtResource(ctx, o.Resource, tok.AccessToken)
}
