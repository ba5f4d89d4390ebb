package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ServerMetadata is an authorization server's metadata (RFC 8414 §2, OpenID Connect
// Discovery 1.0 §3). Members without a field are kept in Extra and survive re-encoding.
type ServerMetadata struct {
	Issuer                             string `json:"issuer"`
	AuthorizationEndpoint              string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                      string `json:"token_endpoint,omitempty"`
	RegistrationEndpoint               string `json:"registration_endpoint,omitempty"`
	JWKSURI                            string `json:"jwks_uri,omitempty"`
	RevocationEndpoint                 string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint              string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint        string `json:"device_authorization_endpoint,omitempty"`         // RFC 8628 §4
	UserinfoEndpoint                   string `json:"userinfo_endpoint,omitempty"`                     // OpenID
	EndSessionEndpoint                 string `json:"end_session_endpoint,omitempty"`                  // OpenID RP-Initiated Logout
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"` // RFC 9126

	ScopesSupported                            []string `json:"scopes_supported,omitzero"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitzero"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitzero"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitzero"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitzero"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitzero"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitzero"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitzero"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitzero"`
	SubjectTypesSupported                      []string `json:"subject_types_supported,omitzero"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitzero"`
	ClaimsSupported                            []string `json:"claims_supported,omitzero"`
	UILocalesSupported                         []string `json:"ui_locales_supported,omitzero"`
	ServiceDocumentation                       string   `json:"service_documentation,omitempty"`
	OPPolicyURI                                string   `json:"op_policy_uri,omitempty"`
	OPTosURI                                   string   `json:"op_tos_uri,omitempty"`
	// AuthorizationResponseIssParameterSupported says that every authorization response
	// carries iss (RFC 9207 §3): a client must then refuse one without it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	// Extra holds every member without a field above, exactly as the server sent it.
	Extra map[string]json.RawMessage `json:"-"`
}

type plainServerMetadata ServerMetadata

// UnmarshalJSON decodes a metadata document, keeping unknown members in Extra.
func (m *ServerMetadata) UnmarshalJSON(data []byte) error {
	var p plainServerMetadata
	known, rest, err := splitObject(data, namesOf(p), nil)
	if err != nil {
		return err
	}
	if err := decodeKnown(known, &p); err != nil {
		return err
	}
	p.Extra = rest
	*m = ServerMetadata(p)
	return nil
}

// MarshalJSON encodes the typed fields, then Extra. An Extra member that duplicates a typed
// field is an error.
func (m ServerMetadata) MarshalJSON() ([]byte, error) {
	b, err := marshal(plainServerMetadata(m))
	if err != nil {
		return nil, err
	}
	var w objectWriter
	if err := w.object(b); err != nil {
		return nil, err
	}
	if err := w.sorted(m.Extra); err != nil {
		return nil, err
	}
	return w.bytes(), nil
}

// Discover fetches the metadata of the authorization server identified by issuer, trying
// the well-known URLs in the order current clients use, each only while the previous one
// answers anything but a 200 JSON document:
//
//  1. RFC 8414 §3.1: "/.well-known/oauth-authorization-server" inserted between the host and
//     the issuer's path;
//  2. "/.well-known/openid-configuration" inserted the same way (RFC 8414 §5), when the
//     issuer has a path;
//  3. OpenID Connect Discovery 1.0 §4: issuer + "/.well-known/openid-configuration".
//
// The document's issuer must be identical to issuer (RFC 8414 §3.3, the mix-up defence); a
// mismatch is an error wrapping [ErrIssuerMismatch], never a reason to fall back, and one
// that differs only by a trailing slash says so.
func (c *Client) Discover(ctx context.Context, issuer string) (*ServerMetadata, error) {
	md, err := c.discover(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("client: discover: %w", err)
	}
	return md, nil
}

// ErrIssuerMismatch is wrapped by Discover's error when a metadata document names an issuer
// other than the one asked for.
var ErrIssuerMismatch = errors.New("issuer mismatch")

func (c *Client) discover(ctx context.Context, issuer string) (*ServerMetadata, error) {
	u, err := c.parseURL("issuer", issuer)
	if err != nil {
		return nil, err
	}
	// RFC 8414 §2: the issuer is a URL "that uses the "https" scheme and has no query or
	// fragment components".
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("issuer %q must not have a query, a fragment or user info (RFC 8414 §2)", RedactURL(u))
	}
	// RFC 8414 §3.1: "If the issuer identifier value contains a path component, any
	// terminating "/" MUST be removed before inserting "/.well-known/" and the well-known
	// URI suffix between the host component and the path component."
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	rfc8414 := *u
	rfc8414.RawPath = ""
	rfc8414.Path = ""
	rfc8414.Opaque = "//" + u.Host + "/.well-known/oauth-authorization-server" + path
	// Then the OpenID variants, in the order current clients try them: the OpenID suffix
	// inserted the RFC 8414 way (RFC 8414 §5's compatibility note), then appended as OpenID
	// Connect Discovery 1.0 §4 says: "If the Issuer value contains a path component, any
	// terminating / MUST be removed before appending /.well-known/openid-configuration."
	// Without a path the two are the same URL, tried once.
	oidcInserted := rfc8414
	oidcInserted.Opaque = "//" + u.Host + "/.well-known/openid-configuration" + path
	oidc := rfc8414
	oidc.Opaque = "//" + u.Host + path + "/.well-known/openid-configuration"
	candidates := []*url.URL{&rfc8414, &oidcInserted, &oidc}
	if path == "" {
		candidates = []*url.URL{&rfc8414, &oidc}
	}

	var errs []error
	for _, wk := range candidates {
		md, err, fallBack := c.fetchMetadata(ctx, wk, issuer)
		if err == nil {
			return md, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", wk, err))
		if !fallBack {
			if len(errs) == 1 {
				return nil, errs[0]
			}
			return nil, joined(errs)
		}
	}
	return nil, noMetadata{joined(errs)}
}

// ErrNoMetadata is wrapped by Discover's error when no well-known URL gave a metadata
// document (each answered an error status or something other than JSON): the server has no
// discovery, or not at this issuer. It is not wrapped when a document was found but refused.
var ErrNoMetadata = errors.New("no metadata document")

// noMetadata wraps the errors of a discovery that found no document.
type noMetadata struct{ error }

func (noMetadata) Is(target error) bool { return target == ErrNoMetadata }
func (n noMetadata) Unwrap() error      { return n.error }

// Endpoints are endpoint URLs given by the caller, for servers whose discovery leaves them
// out (Ory Hydra's, by default, omits registration_endpoint) or that have no discovery at
// all. "" means: take it from discovery.
type Endpoints struct {
	Registration        string // registration_endpoint (RFC 7591 §3)
	Token               string // token_endpoint (RFC 6749 §3.2)
	Authorization       string // authorization_endpoint (RFC 6749 §3.1)
	DeviceAuthorization string // device_authorization_endpoint (RFC 8628 §4)
}

// IsZero reports whether e names no endpoint.
func (e Endpoints) IsZero() bool { return e == Endpoints{} }

// Resolve returns the server's metadata with the endpoints of override in place of the
// discovered ones:
//
//   - with an issuer, it runs Discover and overrides what the document says. When discovery
//     finds no document at all ([ErrNoMetadata]) and override names an endpoint, the result
//     holds only the issuer and override. Any other failure, a mismatched issuer above all
//     (RFC 8414 §3.3), is returned;
//   - without an issuer, override alone is the result; it must name an endpoint.
//
// Every override must be an https URL (or http on loopback, or with InsecureAllowHTTP).
// The result may still lack endpoints: ask [ServerMetadata.MissingEndpoints].
func (c *Client) Resolve(ctx context.Context, issuer string, override Endpoints) (*ServerMetadata, error) {
	md, err := c.resolve(ctx, issuer, override)
	if err != nil {
		return nil, fmt.Errorf("client: resolve: %w", err)
	}
	return md, nil
}

func (c *Client) resolve(ctx context.Context, issuer string, o Endpoints) (*ServerMetadata, error) {
	for _, e := range []struct{ name, url string }{
		{"registration_endpoint", o.Registration}, {"token_endpoint", o.Token},
		{"authorization_endpoint", o.Authorization}, {"device_authorization_endpoint", o.DeviceAuthorization},
	} {
		if e.url != "" {
			if _, err := c.parseURL(e.name, e.url); err != nil {
				return nil, err
			}
		}
	}
	md := &ServerMetadata{Issuer: issuer}
	switch {
	case issuer == "" && o.IsZero():
		return nil, errors.New("no issuer and no endpoint URLs given: give the issuer, or the endpoints themselves")
	case issuer != "":
		found, err := c.discover(ctx, issuer)
		switch {
		case err == nil:
			md = found
		case errors.Is(err, ErrNoMetadata) && !o.IsZero():
			// A server without discovery: the caller's endpoints are all there is.
		default:
			return nil, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&md.RegistrationEndpoint, o.Registration)
	set(&md.TokenEndpoint, o.Token)
	set(&md.AuthorizationEndpoint, o.Authorization)
	set(&md.DeviceAuthorizationEndpoint, o.DeviceAuthorization)
	return md, nil
}

// MissingEndpoints returns the names of the endpoints, among registration_endpoint,
// token_endpoint, authorization_endpoint and device_authorization_endpoint (in that order),
// that m lacks, so that callers can say which to give explicitly ([Endpoints]).
func (m *ServerMetadata) MissingEndpoints() []string {
	var missing []string
	for _, e := range []struct{ name, url string }{
		{"registration_endpoint", m.RegistrationEndpoint}, {"token_endpoint", m.TokenEndpoint},
		{"authorization_endpoint", m.AuthorizationEndpoint}, {"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
	} {
		if e.url == "" {
			missing = append(missing, e.name)
		}
	}
	return missing
}

// joined is errors.Join on one line, for command-line messages.
type joined []error

func (j joined) Error() string {
	s := make([]string, len(j))
	for i, err := range j {
		s[i] = err.Error()
	}
	return strings.Join(s, "; and ")
}

func (j joined) Unwrap() []error { return j }

// fetchMetadata reads one metadata document. fallBack says whether trying the next
// well-known URL makes sense after err.
func (c *Client) fetchMetadata(ctx context.Context, wk *url.URL, issuer string) (md *ServerMetadata, err error, fallBack bool) {
	r, err := c.do(ctx, http.MethodGet, wk, "", nil)
	if err != nil {
		return nil, err, false
	}
	if r.status != http.StatusOK {
		return nil, newError("discover", r), true
	}
	if err := r.checkJSON(); err != nil {
		return nil, err, true
	}
	md = new(ServerMetadata)
	if err := json.Unmarshal(r.body, md); err != nil {
		return nil, fmt.Errorf("malformed metadata document: %w", err), false
	}
	// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the authorization
	// server's issuer identifier value into which the well-known URI string was inserted to
	// create the URL used to retrieve the metadata. If these values are not identical, the
	// data contained in the response MUST NOT be used."
	if md.Issuer != issuer {
		if md.Issuer == "" {
			return nil, fmt.Errorf("%w: the metadata document has no issuer (RFC 8414 §3.3)", ErrIssuerMismatch), false
		}
		if strings.TrimSuffix(md.Issuer, "/") == strings.TrimSuffix(issuer, "/") {
			return nil, fmt.Errorf("%w: the server's issuer is %q, which differs from %q only by a trailing slash; RFC 8414 §3.3 requires them to be identical, so use exactly %q", ErrIssuerMismatch, md.Issuer, issuer, md.Issuer), false
		}
		return nil, fmt.Errorf("%w: the metadata names issuer %q, not %q: refusing it (RFC 8414 §3.3 mix-up defence); if %q is the server you mean, use exactly that issuer", ErrIssuerMismatch, md.Issuer, issuer, md.Issuer), false
	}
	return md, nil, false
}
