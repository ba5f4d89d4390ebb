package cmd

import (
	"context"
	"errors"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/probe"
)

// probeTokens makes the token sources of dcrctl probe from register's initial token flags,
// and keeps the first usage error one of them met (a flag missing), for the command to
// exit 2 with instead of a report that only says no token could be had.
type probeTokens struct{ usage error }

// sources returns the initial token source and, when the client credentials grant is the
// way (a flag, or the profile's flow), the source of tokens without dcr.
func (s *probeTokens) sources(g *GlobalOptions, t initialTokenOptions) (probe.TokenSource, probe.TokenSource) {
	fresh := t.ClientCredentials || t.modes() == 0 && t.TokenFile == "" && t.Token == "" &&
		g.IO.getenv("DCRCTL_TOKEN") == "" && g.settings.Profile.Flow == "client-credentials"
	initial := s.watch(tokens(g, t, fresh))
	if !fresh {
		return initial, nil
	}
	return initial, s.watch(withoutDCR(g, t.grantOptions))
}

func (s *probeTokens) watch(src probe.TokenSource) probe.TokenSource {
	return func(ctx context.Context, md *client.ServerMetadata) (string, error) {
		tok, err := src(ctx, md)
		if isA[*UsageError](err) && s.usage == nil {
			s.usage = err
		}
		return tok, err
	}
}

// withoutDCR is a probe.TokenSource of client credentials tokens of the same client
// requested with no scope, to see whether registration refuses them with 401 or 403.
func withoutDCR(g *GlobalOptions, o grantOptions) probe.TokenSource {
	return func(ctx context.Context, md *client.ServerMetadata) (string, error) {
		o.fromProfile(g.IO, g.settings.Profile)
		o.ClientCredentials, o.Scopes = true, []string{}
		tok, err := o.token(ctx, g, md.Issuer, md)
		switch {
		case err != nil:
			return "", err
		case tok.HasScope("dcr"):
			return "", errors.New("the server grants dcr to a request for no scope")
		}
		return tok.AccessToken, nil
	}
}

// tokens is a probe.TokenSource getting tokens as o says from the server the probe found:
// a new one each time when fresh (the client credentials grant), else the first one again
// (a file, stdin, DCRCTL_TOKEN or a login are read or done once).
func tokens(g *GlobalOptions, o initialTokenOptions, fresh bool) probe.TokenSource {
	var got *string
	return func(ctx context.Context, md *client.ServerMetadata) (string, error) {
		if got != nil {
			return *got, nil
		}
		tok, err := o.get(ctx, g, md.Issuer, md)
		if err == nil && !fresh {
			got = &tok
		}
		return tok, err
	}
}
