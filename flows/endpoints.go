package flows

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dcrctl/dcrctl/client"
)

// endpoints are the server URLs a flow needs, from the caller or from discovery.
type endpoints struct {
	issuer     string
	auth       string // authorization_endpoint
	token      string // token_endpoint
	device     string // device_authorization_endpoint
	authMethod []string
}

// resolve fills in what the caller did not give from the issuer's metadata (RFC 8414 §3,
// OpenID Connect Discovery §4), discovered with package client. need says which endpoints
// the flow requires, e.g. "token_endpoint"; each missing one is an error naming the fix.
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
			return ep, fmt.Errorf("flows: %s: no issuer and no endpoint URLs: give the issuer (--issuer) so its endpoints can be discovered", op)
		}
		c := &client.Client{HTTPClient: hc}
		md, err := c.Discover(ctx, issuer)
		if err != nil {
			return ep, fmt.Errorf("flows: %s: %w", op, err)
		}
		if ep.auth == "" {
			ep.auth = md.AuthorizationEndpoint
		}
		if ep.token == "" {
			ep.token = md.TokenEndpoint
		}
		if ep.device == "" {
			ep.device = md.DeviceAuthorizationEndpoint
		}
		ep.authMethod = md.TokenEndpointAuthMethodsSupported
		ep.issuer = md.Issuer
	}
	for _, n := range need {
		if have(n) == "" {
			return ep, fmt.Errorf("flows: %s: the server at %s advertises no %s, so it does not support this flow: use another of --client-credentials, --login or --device", op, issuer, n)
		}
	}
	return ep, nil
}
