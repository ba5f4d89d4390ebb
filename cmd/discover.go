package cmd

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

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

// probeRegistration sends a POST without credentials and without a JSON body: RFC 7591 §3.1
// requires "a content type of application/json", so no server creates a client from it. The
// status says whether the endpoint wants a token.
func probeRegistration(ctx context.Context, g *GlobalOptions, endpoint string) (mode, seen string) {
	hc := g.httpClient()
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && !loopbackHost(u.Hostname())) {
		return "unknown", "not probed: the endpoint is not an https or loopback URL"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(""))
	if err != nil {
		return "unknown", err.Error()
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return "unknown", "probe failed: " + client.RedactError(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	seen = resp.Status
	if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
		scheme, _, _ := strings.Cut(ch, " ")
		seen += ", WWW-Authenticate " + scheme
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "protected", seen
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnsupportedMediaType:
		return "open", seen
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return "disabled", seen
	}
	return "unknown", seen
}

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
