package flows

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// endpoints are the server URLs a flow needs, from the caller or from discovery.
type endpoints struct {
	issuer     string
	auth       string // authorization_endpoint
	token      string // token_endpoint
	device     string // device_authorization_endpoint
	authMethod []string
	jwksURI    string // from discovery, for ID token verification
	// issRequired: discovery says authorization responses carry iss (RFC 9207 §3).
	issRequired bool
}

// resolve fills in what the caller did not give from the issuer's metadata (RFC 8414 §3,
// OpenID Connect Discovery §4), with package client's Resolve: the caller's URLs win, and a
// server without discovery works when the caller gave every endpoint the flow needs. need
// says which endpoints the flow requires, e.g. "token_endpoint"; each missing one is an
// error naming it.
func resolve(ctx context.Context, hc *http.Client, op, issuer string, ep endpoints, need ...string) (endpoints, error) {
	have := func(name string) string {
		switch name {
		case "authorization_endpoint":
			return ep.auth
		case "token_endpoint":
			return ep.token
		case "device_authorization_endpoint":
			return ep.device
		}
		return ""
	}
	complete := true
	for _, n := range need {
		if have(n) == "" {
			complete = false
		}
	}
	ep.issuer = issuer
	if !complete {
		if issuer == "" {
			return ep, fmt.Errorf("flows: %s: no issuer and no %s: give the issuer so its endpoints can be discovered, or the endpoint URLs", op, strings.Join(need, " and "))
		}
		c := &client.Client{HTTPClient: hc}
		md, err := c.Resolve(ctx, issuer, client.Endpoints{Token: ep.token, Authorization: ep.auth, DeviceAuthorization: ep.device})
		if err != nil {
			return ep, fmt.Errorf("flows: %s: %w", op, err)
		}
		ep.auth, ep.token, ep.device = md.AuthorizationEndpoint, md.TokenEndpoint, md.DeviceAuthorizationEndpoint
		ep.authMethod = md.TokenEndpointAuthMethodsSupported
		ep.issuer = md.Issuer
		ep.jwksURI = md.JWKSURI
		ep.issRequired = md.AuthorizationResponseIssParameterSupported
	}
	for _, n := range need {
		if have(n) == "" {
			return ep, fmt.Errorf("flows: %s: the server at %s advertises no %s, so this flow cannot run there: give the endpoint URL explicitly if the server has one, or use another grant", op, issuer, n)
		}
	}
	return ep, nil
}
