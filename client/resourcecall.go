package client

import (
	"context"
	"fmt"
	"net/http"
)

// ResourceAnswer is a protected resource's 2xx answer to a request with an access token.
type ResourceAnswer struct {
	Status      int    // the HTTP status, 2xx
	ContentType string // the media type, lower case; "" when none
	Body        []byte // at most MaxResponseSize bytes
}

// CallResource makes one GET request to the protected resource with accessToken in the
// Authorization header (RFC 6750 §2.1), to check that the resource accepts the token. Any
// status but 2xx is an *Error with Op "resource", whose code and description come from the
// JSON body or the WWW-Authenticate challenge (RFC 6750 §3): invalid_token for a token the
// resource refuses, such as one issued for another audience (RFC 8707).
func (c *Client) CallResource(ctx context.Context, resource, accessToken string) (*ResourceAnswer, error) {
	u, err := c.parseURL("resource", resource)
	if err != nil {
		return nil, fmt.Errorf("client: call resource: %w", err)
	}
	r, err := c.do(ctx, http.MethodGet, u, accessToken, nil)
	if err != nil {
		return nil, fmt.Errorf("client: call resource %s: %w", RedactURL(u), err)
	}
	if r.status < 200 || r.status > 299 {
		return nil, fmt.Errorf("client: call resource %s: %w", RedactURL(u), newError("resource", r, accessToken))
	}
	return &ResourceAnswer{Status: r.status, ContentType: r.contentType, Body: r.body}, nil
}
