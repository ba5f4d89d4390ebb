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

// Discover fetches the metadata of the authorization server identified by issuer: first
// from the RFC 8414 §3.1 well-known URL ("/.well-known/oauth-authorization-server" inserted
// between the host and the issuer's path), then, if that answers anything but a 200 JSON
// document, from the OpenID Connect Discovery 1.0 §4 URL (issuer +
// "/.well-known/openid-configuration"). The document's issuer must be identical to issuer
// (RFC 8414 §3.3, the mix-up defence); a mismatch is an error, never a reason to fall back.
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
	// OpenID Connect Discovery 1.0 §4: "If the Issuer value contains a path component, any
	// terminating / MUST be removed before appending /.well-known/openid-configuration."
	oidc := rfc8414
	oidc.Opaque = "//" + u.Host + path + "/.well-known/openid-configuration"

	var errs []error
	for _, wk := range []*url.URL{&rfc8414, &oidc} {
		md, err, fallBack := c.fetchMetadata(ctx, wk, issuer)
		if err == nil {
			return md, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", wk, err))
		if !fallBack {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, joined(errs)
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
		return nil, fmt.Errorf("%w: the metadata names issuer %q, not %q: refusing it (RFC 8414 §3.3 mix-up defence); if %q is the server you mean, use exactly that issuer", ErrIssuerMismatch, md.Issuer, issuer, md.Issuer), false
	}
	return md, nil, false
}
