package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/client"
)

// This file is the one home of explicit endpoints: for servers whose discovery leaves an
// endpoint out (Ory Hydra's, by default, omits registration_endpoint although registration
// is on) or that have no discovery at all. Flags beat the profile; what is given replaces
// what discovery says (client.Client.Resolve).

// endpointFlag names each flag after the metadata member it replaces.
var endpointFlag = map[string]string{
	"registration_endpoint":         "--registration-endpoint",
	"token_endpoint":                "--token-endpoint",
	"authorization_endpoint":        "--authorization-endpoint",
	"device_authorization_endpoint": "--device-authorization-endpoint",
}

// addEndpointFlags adds the explicit-endpoint flags to fs, filling e.
func addEndpointFlags(fs *pflag.FlagSet, e *client.Endpoints) {
	fs.StringVar(&e.Registration, "registration-endpoint", "", "the registration endpoint, when discovery lacks it (or without --issuer)")
	fs.StringVar(&e.Token, "token-endpoint", "", "the token endpoint, when discovery lacks it")
	fs.StringVar(&e.Authorization, "authorization-endpoint", "", "the authorization endpoint, when discovery lacks it")
	fs.StringVar(&e.DeviceAuthorization, "device-authorization-endpoint", "", "the device authorization endpoint, when discovery lacks it")
}

// endpoints returns the explicit endpoints: each flag, else the profile's.
func (g *GlobalOptions) endpoints() client.Endpoints {
	e, p := g.Endpoints, g.settings.Profile
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&e.Registration, p.RegistrationEndpoint}, {&e.Token, p.TokenEndpoint},
		{&e.Authorization, p.AuthorizationEndpoint}, {&e.DeviceAuthorization, p.DeviceAuthorizationEndpoint},
	} {
		if *f.dst == "" {
			*f.dst = f.v
		}
	}
	return e
}

// serverMetadata discovers the server at --issuer with the explicit endpoints in place of
// the discovered ones; without an issuer, the explicit endpoints alone describe it.
func (g *GlobalOptions) serverMetadata(ctx context.Context) (*client.ServerMetadata, error) {
	if err := g.fromResource(ctx); err != nil {
		return nil, err
	}
	e := g.endpoints()
	if g.Issuer == "" && e.IsZero() {
		_, err := g.requireIssuer()
		return nil, err
	}
	return g.sdk().Resolve(ctx, g.Issuer, e)
}

// missingEndpointAdvice says which endpoints the server's metadata lacks and which flag
// gives each; "" when none is missing.
func missingEndpointAdvice(md *client.ServerMetadata) string {
	var parts []string
	for _, m := range md.MissingEndpoints() {
		parts = append(parts, fmt.Sprintf("%s (give it with %s)", m, endpointFlag[m]))
	}
	if len(parts) == 0 {
		return ""
	}
	return "not advertised: " + strings.Join(parts, ", ")
}

// explicitMetadata is the explicit endpoints as server metadata, for the flows, which
// discover from the issuer only what is still empty.
func (g *GlobalOptions) explicitMetadata() *client.ServerMetadata {
	e := g.endpoints()
	return &client.ServerMetadata{TokenEndpoint: e.Token, AuthorizationEndpoint: e.Authorization,
		DeviceAuthorizationEndpoint: e.DeviceAuthorization}
}
