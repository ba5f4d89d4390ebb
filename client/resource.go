package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ResourceMetadata is an OAuth 2.0 Protected Resource Metadata document (RFC 9728 §2), with
// the members dcrctl uses.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
	// URL is where the document was found (not a member).
	URL string `json:"-"`
}

// ErrResourceMismatch is wrapped by DiscoverResource's error when the metadata names another
// resource than the one asked for (RFC 9728 §3.3).
var ErrResourceMismatch = errors.New("resource mismatch")

// ErrNotResource is wrapped by DiscoverResource's error when the URL shows no sign of being a
// protected resource (no metadata, no resource_metadata challenge).
var ErrNotResource = errors.New("not a protected resource")

// DiscoverResource finds the metadata of the protected resource at resource, the way MCP
// clients do: first its path-aware well-known URL (RFC 9728 §3.1:
// https://host/.well-known/oauth-protected-resource/path), else a request to the resource
// itself, whose 401 names the metadata in WWW-Authenticate's resource_metadata (§5.1). The
// document's resource must equal resource (§3.3), and it must name an authorization server.
func (c *Client) DiscoverResource(ctx context.Context, resource string) (*ResourceMetadata, error) {
	md, err := c.discoverResource(ctx, resource)
	if err != nil {
		return nil, fmt.Errorf("client: discover resource: %w", err)
	}
	return md, nil
}

func (c *Client) discoverResource(ctx context.Context, resource string) (*ResourceMetadata, error) {
	u, err := c.parseURL("resource", resource)
	if err != nil {
		return nil, err
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return nil, fmt.Errorf("resource %q must not have a query or fragment (RFC 9728 §1.2)", RedactURL(u))
	}
	wk := *u
	wk.RawPath, wk.Path = "", ""
	wk.Opaque = "//" + u.Host + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/")
	tried := []string{wk.String()}
	md, found, err := c.fetchResourceMetadata(ctx, &wk)
	if err != nil {
		return nil, err
	}
	if !found {
		r, err := c.do(ctx, http.MethodGet, u, "", nil)
		if err != nil {
			return nil, err
		}
		rm := bearerChallenge(r.header.Values("WWW-Authenticate"))["resource_metadata"]
		if r.status != http.StatusUnauthorized || rm == "" {
			return nil, fmt.Errorf("%w: %s has no metadata at %s, and answered %d without a resource_metadata challenge (RFC 9728 §5.1)", ErrNotResource, RedactURL(u), tried[0], r.status)
		}
		mu, err := c.parseURL("resource_metadata", rm)
		if err != nil {
			return nil, err
		}
		if md, found, err = c.fetchResourceMetadata(ctx, mu); err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("the resource_metadata %s named by %s gives no metadata document", RedactURL(mu), RedactURL(u))
		}
	}
	if md.Resource != resource && strings.TrimSuffix(md.Resource, "/") != strings.TrimSuffix(resource, "/") {
		return nil, fmt.Errorf("%w: the metadata at %s is for resource %q, not %q (RFC 9728 §3.3): use the resource URL it names, or the server is misconfigured", ErrResourceMismatch, md.URL, md.Resource, resource)
	}
	if len(md.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("the metadata at %s names no authorization_servers: give the issuer with --issuer", md.URL)
	}
	return md, nil
}

// fetchResourceMetadata GETs a metadata document; found is false for a 404 or a body that
// is not a metadata document.
func (c *Client) fetchResourceMetadata(ctx context.Context, u *url.URL) (md *ResourceMetadata, found bool, err error) {
	r, err := c.do(ctx, http.MethodGet, u, "", nil)
	if err != nil {
		return nil, false, err
	}
	if r.status != http.StatusOK || !r.isJSON() {
		return nil, false, nil
	}
	md = &ResourceMetadata{}
	if err := json.Unmarshal(r.body, md); err != nil || md.Resource == "" {
		return nil, false, nil
	}
	md.URL = RedactURL(u)
	md.AuthorizationServers = slices.DeleteFunc(md.AuthorizationServers, func(s string) bool { return s == "" })
	return md, true, nil
}

// PickAuthorizationServer chooses the authorization server of md: want when given (it must be
// listed), else the only one; with several and no choice it says which there are.
func (md *ResourceMetadata) PickAuthorizationServer(want string) (string, error) {
	switch {
	case want != "":
		for _, s := range md.AuthorizationServers {
			if s == want || strings.TrimSuffix(s, "/") == strings.TrimSuffix(want, "/") {
				return s, nil
			}
		}
		return "", fmt.Errorf("resource %s does not name %s among its authorization servers (%s)", md.Resource, want, strings.Join(md.AuthorizationServers, ", "))
	case len(md.AuthorizationServers) == 1:
		return md.AuthorizationServers[0], nil
	}
	return "", fmt.Errorf("resource %s names several authorization servers (%s): choose one", md.Resource, strings.Join(md.AuthorizationServers, ", "))
}
