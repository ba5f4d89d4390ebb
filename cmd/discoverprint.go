package cmd

import (
	"io"
	"strings"

	"github.com/dcrctl/dcrctl/client/cimd"
)

func writeDiscoverTable(w io.Writer, r discoverResult) error {
	c := r.Registration
	t := &table{}
	t.row("issuer", r.Issuer)
	t.row("registration endpoint", orNone(c.Endpoint))
	if a := missingEndpointAdvice(r.Metadata); a != "" {
		t.row("missing", a)
	}
	switch c.Mode {
	case "disabled":
		t.row("registration", "disabled: the server advertises no registration endpoint (if it has one all the same, give it with --registration-endpoint)")
	case "open":
		t.row("registration", "open: no initial access token needed (dcrctl register without a token)")
	case "protected":
		how := "get one with dcrctl register --client-credentials, --login or --device, or --token-file"
		t.row("registration", "needs an initial access token (RFC 7591 §3): "+how)
	default:
		t.row("registration", "unknown (not probed, or an unclear answer)")
	}
	t.row("probe", c.Probe)
	if c.Mode != "disabled" {
		t.row("initial token flows", strings.Join(c.InitialTokenFlows, ", "))
	}
	if c.DCRScope {
		t.row("scope dcr", "advertised (tokens with scope dcr are initial access tokens)")
	} else {
		t.row("scope dcr", "not advertised")
	}
	t.row("RFC 7592 management", c.Management)
	t.row("token auth methods", strings.Join(c.AuthMethods, ", "))
	t.row("grant types", strings.Join(c.GrantTypes, ", "))
	t.row("PKCE methods", orNone(strings.Join(c.PKCE, ", ")))
	m := r.Metadata
	if cimd.Supported(m.Extra) {
		t.row("client ID metadata documents", "supported: an https URL as client_id, no registration (dcrctl login --client-id URL)")
	}
	t.row("authorization endpoint", m.AuthorizationEndpoint)
	t.row("token endpoint", m.TokenEndpoint)
	t.row("device endpoint", m.DeviceAuthorizationEndpoint)
	t.row("revocation endpoint", m.RevocationEndpoint)
	t.row("introspection endpoint", m.IntrospectionEndpoint)
	t.row("jwks_uri", m.JWKSURI)
	t.row("scopes", strings.Join(m.ScopesSupported, " "))
	_, err := io.WriteString(w, t.String())
	return err
}

func writeDiscoverEnv(w io.Writer, prefix string, r discoverResult) error {
	return writeEnv(w, prefix, []envVar{
		{"ISSUER", r.Issuer},
		{"REGISTRATION_ENDPOINT", r.Registration.Endpoint},
		{"REGISTRATION_MODE", r.Registration.Mode},
		{"TOKEN_ENDPOINT", r.Metadata.TokenEndpoint},
	})
}
