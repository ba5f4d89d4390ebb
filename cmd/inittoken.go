package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/client"
)

// initialTokenOptions says how register gets its initial access token (RFC 7591 §3): a grant
// (client credentials, browser login, device), a file, DCRCTL_TOKEN, or none for open
// registration.
type initialTokenOptions struct {
	grantOptions
	TokenFile string
	TokenEnv  string // initial token: from this environment variable (dcrctl apply's token_env)
	Token     string // --token on argv: accepted with a warning
}

func (o *initialTokenOptions) addFlags(f *pflag.FlagSet) {
	o.grantOptions.addFlags(f)
	f.Lookup("callback-port").Usage = "loopback port: --login listens on it; a native client without redirect_uris registers http://127.0.0.1:PORT/callback"
	f.StringVar(&o.TokenFile, "token-file", "", `initial token: read an initial access token from FILE ("-" = stdin); default: env DCRCTL_TOKEN`)
	f.StringVar(&o.Token, "token", "", "initial access token on the command line (discouraged: use --token-file or DCRCTL_TOKEN)")
	_ = f.MarkHidden("token")
}

// tokenSource is where the initial access token comes from: the one decision that register
// acts on and register --dry-run describes.
type tokenSource struct {
	kind string // "" (none: open registration), "env", "argv", "given" or "grant"
	what string // in words
}

// source decides where the initial access token comes from, reading no secret and sending
// nothing; it fills in from the profile what the flags left out.
func (o *initialTokenOptions) source(g *GlobalOptions) (tokenSource, error) {
	p := g.settings.Profile
	modes := o.modes()
	for _, on := range []bool{o.TokenFile != "", o.Token != "", o.TokenEnv != ""} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return tokenSource{}, usageErrorf("choose one way to get the initial token: --client-credentials, --login, --device, --token-file (or DCRCTL_TOKEN)")
	}
	if modes == 0 {
		if env := strings.TrimSpace(g.IO.getenv("DCRCTL_TOKEN")); env != "" {
			return tokenSource{"env", "the environment variable DCRCTL_TOKEN"}, nil
		}
		switch p.Flow {
		case "token":
			return tokenSource{}, usageErrorf("profile %q uses flow token, but DCRCTL_TOKEN is empty: set it, or give --token-file FILE", g.Profile)
		case "":
			return tokenSource{"", "none (open registration)"}, nil
		}
	}
	switch {
	case o.Token != "":
		return tokenSource{"argv", "--token"}, nil
	case o.TokenFile != "":
		return tokenSource{"given", "the file " + o.TokenFile}, nil
	case o.TokenEnv != "":
		return tokenSource{"given", "the environment variable " + o.TokenEnv}, nil
	}
	o.fromProfile(g.IO, p)
	if o.ClientID == "" {
		return tokenSource{}, usageErrorf("no client id for the initial token: give --client-id ID (the server's bootstrap client, e.g. \"bootstrap\" for dcrctl serve)")
	}
	switch {
	case o.ClientCredentials:
		return tokenSource{"grant", "the client credentials grant of " + o.ClientID}, nil
	case o.Login:
		return tokenSource{"grant", "a browser login with client " + o.ClientID}, nil
	}
	return tokenSource{"grant", "the device grant with client " + o.ClientID}, nil
}

// get returns the initial access token, or "" for open registration.
func (o initialTokenOptions) get(ctx context.Context, g *GlobalOptions, issuer string, meta *client.ServerMetadata) (string, error) {
	src, err := o.source(g)
	switch {
	case err != nil || src.kind == "":
		return "", err
	case src.kind == "env":
		return strings.TrimSpace(g.IO.getenv("DCRCTL_TOKEN")), nil
	case src.kind == "argv":
		warnSecretOnArgv(g.IO, "--token", "use --token-file FILE (or -) or DCRCTL_TOKEN")
		return o.Token, nil
	case src.kind == "given":
		return o.givenToken(g.IO)
	}
	o.Scopes = scopeList(o.Scopes)
	tok, err := o.token(ctx, g, issuer, meta)
	if err != nil {
		return "", fmt.Errorf("getting the initial access token: %w", err)
	}
	return tok.AccessToken, nil
}

// givenToken reads an initial access token the user already has: from --token-file or
// from the environment variable TokenEnv.
func (o initialTokenOptions) givenToken(ios *IOStreams) (string, error) {
	if o.TokenFile != "" {
		return readSecret(ios, "initial access token", o.TokenFile, "")
	}
	if tok, _ := readSecret(ios, "initial access token", "", o.TokenEnv); tok != "" {
		return tok, nil
	}
	return "", usageErrorf("the environment variable %s, which should hold the initial access token, is empty: set it", o.TokenEnv)
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
