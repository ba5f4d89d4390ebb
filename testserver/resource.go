package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Resource indicators (RFC 8707) and the optional protected resource (RFC 9728).
//
// A client names the resource it wants a token for with one or more resource parameters in
// the authorization request and the token request. The access token's audience is the
// resources of the token request, else those of the authorization request (a token request
// may narrow them, never widen them: invalid_target), else none. Introspection shows it as
// aud. With Config.ResourcePath the server is also that resource: ISSUER+ResourcePath accepts
// only access tokens whose audience it is.

// resourceMetadataPrefix is the RFC 9728 §3.1 well-known path segment.
const resourceMetadataPrefix = "/.well-known/oauth-protected-resource"

// parseResources returns the resource parameters of a request: each an absolute URI without
// a fragment (RFC 8707 §2).
func parseResources(p url.Values) ([]string, error) {
	var out []string
	for _, r := range p["resource"] {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(r, "#") {
			return nil, badRequest("invalid_target", "resource %q is not an absolute URI without a fragment (RFC 8707 §2)", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// audience is the audience of a token requested with resources asked now, within the
// resources granted earlier (nil: the grant named none, so any may be asked).
func audience(asked, granted []string) ([]string, error) {
	if len(asked) == 0 {
		return granted, nil
	}
	if granted != nil {
		for _, r := range asked {
			if !slices.Contains(granted, r) {
				return nil, badRequest("invalid_target", "resource %q was not in the authorization request (it named %s): a token request may only narrow the resources", r, strings.Join(granted, ", "))
			}
		}
	}
	return asked, nil
}

// tokenAudience is the audience of a token request's access token within what the grant
// named (RFC 8707 §2.2).
func (s *Server) tokenAudience(form url.Values, granted []string) ([]string, error) {
	asked, err := parseResources(form)
	if err != nil {
		return nil, err
	}
	return audience(asked, granted)
}

// accessData is what an access token row keeps in Data.
type accessData struct {
	Audience []string `json:"aud,omitempty"`
}

// checkResourcePath refuses a ResourcePath that is no path or that an endpoint has.
func (s *Server) checkResourcePath() error {
	p := s.cfg.ResourcePath
	if p == "" {
		return nil
	}
	u, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || p == "/" || u.RawQuery != "" || u.Fragment != "" || strings.HasPrefix(p, "/.well-known/") {
		return fmt.Errorf("resource_path %q: give a path below the issuer such as /mcp", p)
	}
	taken := []string{pathToken, pathAuthorize, pathJWKS, pathRevoke, pathIntrospect, pathDeviceAuthz, pathDevice, pathUserinfo, s.beh.RegistrationPath, "/_control"}
	for _, t := range taken {
		if p == t || strings.HasPrefix(p, t+"/") || strings.HasPrefix(t, p+"/") {
			return fmt.Errorf("resource_path %q overlaps the endpoint %s: choose another path, such as /mcp", p, t)
		}
	}
	return nil
}

func (s *Server) resourceID() string { return s.url(s.cfg.ResourcePath) }

func (s *Server) resourceMetadataURL() string {
	u, _ := url.Parse(s.issuer)
	return u.Scheme + "://" + u.Host + resourceMetadataPrefix + s.path + s.cfg.ResourcePath
}

// handleResourceMetadata serves the protected resource's metadata (RFC 9728 §2, §3).
func (s *Server) handleResourceMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeError(w, r, methodNotAllowed(w, http.MethodGet))
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, map[string]any{
		"resource":                 s.resourceID(),
		"authorization_servers":    []string{s.iss()},
		"bearer_methods_supported": []string{"header"},
		"scopes_supported":         s.resourceScopes(),
		"resource_name":            "dcrctl serve test resource",
	})
}

// resourceScopes are the scopes the resource's metadata lists: every scope but dcr, which is
// the registration endpoint's (initial access tokens), not this resource's. MCP clients ask
// for exactly these (the MCP TypeScript SDK's scope selection, SEP-835), and a client that may
// not have dcr, such as one with a Client ID Metadata Document, would be refused them.
func (s *Server) resourceScopes() []string {
	return slices.DeleteFunc(slices.Clone(s.scopes), func(sc string) bool { return sc == scopeDCR })
}

// handleResource is the protected resource: it answers who the token is for, and refuses a
// token meant for another audience (RFC 8707 §1, RFC 6750 §3.1).
func (s *Server) handleResource(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.writeError(w, r, methodNotAllowed(w, http.MethodGet, http.MethodPost))
		return
	}
	challenge := `resource_metadata="` + quoteParam(s.resourceMetadataURL()) + `"`
	tok, e := bearer(r)
	if e != nil {
		e.ChallengeParams = challenge
		e.Description = "this resource needs an access token for " + s.resourceID() + ": its metadata names the authorization server (RFC 9728)"
		s.writeError(w, r, e)
		return
	}
	row, err := s.store.token(r.Context(), tokenKey(tok))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	refuse := func(format string, args ...any) {
		e := invalidToken(format, args...)
		e.ChallengeParams = challenge
		s.writeError(w, r, e)
	}
	if row == nil || row.Kind != kindAccess || row.Revoked || s.now().Unix() >= row.ExpiresAt {
		refuse("the access token is unknown, expired or revoked")
		return
	}
	if owner, err := s.lookupClient(r.Context(), row.ClientID); err != nil || owner == nil {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		refuse("the client this access token was issued to was deleted")
		return
	}
	aud := row.audience()
	if !slices.Contains(aud, s.resourceID()) {
		refuse("the access token is not for this resource (audience %q): request it with resource=%s (RFC 8707)", strings.Join(aud, " "), s.resourceID())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"resource": s.resourceID(), "sub": row.Subject, "client_id": row.ClientID,
		"scope": row.Scope, "aud": aud})
}

// audience is the audience of an access token row (nil for none).
func (t *tokenRow) audience() []string {
	if t.Kind != kindAccess || t.Data == "" {
		return nil
	}
	var d accessData
	_ = json.Unmarshal([]byte(t.Data), &d)
	return d.Audience
}
