package cmd

import (
	"context"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/dcrctl/dcrctl/client"
)

func init() { subcommands = append(subcommands, newDiscoverCmd) }

// discoverOptions are the inputs of dcrctl discover.
type discoverOptions struct {
	G       *GlobalOptions
	NoProbe bool
}

func newDiscoverCmd(g *GlobalOptions) *cobra.Command {
	opts := &discoverOptions{G: g}
	c := &cobra.Command{
		Use:   "discover --issuer URL",
		Short: "Show a server's metadata and what its dynamic client registration needs",
		Long: `Fetch the server's metadata (RFC 8414, then OpenID Connect Discovery) and say what
registering a client there takes: whether a registration endpoint exists, whether it needs an
initial access token (and how one can be obtained: client credentials, a browser login, the
device grant), and which token endpoint authentication methods, grant types and scopes it
offers.

To tell open registration from protected registration, dcrctl sends one harmless probe: a POST
to the registration endpoint without a token and without a JSON body, which no server can turn
into a client (RFC 7591 §3.1 requires a JSON body). A 401 means a token is needed; a 400 means
the endpoint is open. --no-probe skips it.

Whether RFC 7592 management is offered is not part of the metadata: a registration that
returns registration_client_uri and registration_access_token has it.`,
		Example: `  dcrctl discover --issuer http://127.0.0.1:8414
  dcrctl discover --issuer https://idp.example -o json | jq .registration`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := g.Context(c)
			defer cancel()
			return discoverRun(ctx, opts)
		},
	}
	c.Flags().BoolVar(&opts.NoProbe, "no-probe", false, "do not probe the registration endpoint (no request besides discovery)")
	return c
}

// discoverResult is what -o json prints: the metadata and the registration capabilities.
type discoverResult struct {
	Issuer       string                 `json:"issuer"`
	Registration registrationCaps       `json:"registration"`
	Metadata     *client.ServerMetadata `json:"metadata"`
	// Missing lists the endpoints the server does not advertise (and no flag gave).
	Missing []string `json:"missing_endpoints"`
}

// registrationCaps describes dynamic client registration at the server.
type registrationCaps struct {
	Endpoint string `json:"endpoint,omitempty"`
	// Mode: "disabled" (no endpoint advertised), "open" (no token needed), "protected" (an
	// initial access token is needed), or "unknown" (not probed, or an unclear answer).
	Mode string `json:"mode"`
	// Probe is what the probe saw, e.g. "401 Bearer", or "" when not probed.
	Probe string `json:"probe,omitempty"`
	// InitialTokenFlows are the ways to get an initial access token the server seems to offer.
	InitialTokenFlows []string `json:"initial_token_flows"`
	// DCRScope reports whether scopes_supported lists "dcr".
	DCRScope bool `json:"dcr_scope_advertised"`
	// AuthMethods, GrantTypes and PKCE are the server's, with RFC 8414 §2's defaults.
	AuthMethods []string `json:"token_endpoint_auth_methods"`
	GrantTypes  []string `json:"grant_types"`
	PKCE        []string `json:"code_challenge_methods"`
	// Management is how RFC 7592 support shows: it is not advertised in metadata.
	Management string `json:"management"`
}

func discoverRun(ctx context.Context, opts *discoverOptions) error {
	g := opts.G
	md, err := g.serverMetadata(ctx)
	if err != nil {
		return err
	}
	caps := registrationCaps{
		Endpoint:    md.RegistrationEndpoint,
		AuthMethods: md.TokenEndpointAuthMethodsSupported,
		GrantTypes:  md.GrantTypesSupported,
		PKCE:        md.CodeChallengeMethodsSupported,
		DCRScope:    slices.Contains(md.ScopesSupported, "dcr"),
		Management:  "not advertised in metadata (RFC 7592 has no metadata member): a registration response with registration_client_uri and registration_access_token shows it",
	}
	if caps.AuthMethods == nil {
		caps.AuthMethods = []string{"client_secret_basic"} // RFC 8414 §2 default
	}
	if caps.GrantTypes == nil {
		caps.GrantTypes = []string{"authorization_code", "implicit"} // RFC 8414 §2 default
	}
	caps.InitialTokenFlows = []string{}
	if slices.Contains(caps.GrantTypes, "client_credentials") {
		caps.InitialTokenFlows = append(caps.InitialTokenFlows, "client-credentials")
	}
	if slices.Contains(caps.GrantTypes, "authorization_code") && md.AuthorizationEndpoint != "" {
		caps.InitialTokenFlows = append(caps.InitialTokenFlows, "login")
	}
	if slices.Contains(caps.GrantTypes, "urn:ietf:params:oauth:grant-type:device_code") && md.DeviceAuthorizationEndpoint != "" {
		caps.InitialTokenFlows = append(caps.InitialTokenFlows, "device")
	}
	switch {
	case md.RegistrationEndpoint == "":
		caps.Mode = "disabled"
		caps.InitialTokenFlows = []string{} // no registration: no initial access token to get
	case opts.NoProbe:
		caps.Mode = "unknown"
	default:
		caps.Mode, caps.Probe = probeRegistration(ctx, g, md.RegistrationEndpoint)
	}
	res := discoverResult{Issuer: md.Issuer, Registration: caps, Metadata: md, Missing: append([]string{}, md.MissingEndpoints()...)}
	return writeData(g.IO.Out, g.Output, res, func(w io.Writer) error {
		if g.Output == "env" {
			return writeDiscoverEnv(w, g.EnvPrefix, res)
		}
		return writeDiscoverTable(w, res)
	})
}
