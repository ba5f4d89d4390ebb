package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// send sends one request without a body through hc and reads the whole response through
// package client's size limit. hdr may be nil.
func (p *prober) send(ctx context.Context, hc *http.Client, method, u string, hdr http.Header) (*exchange, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if p.opts.UserAgent != "" {
		req.Header.Set("User-Agent", p.opts.UserAgent)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, client.MaxResponseSize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > client.MaxResponseSize {
		return nil, fmt.Errorf("the response from %s is larger than 1 MiB", client.RedactURL(req.URL))
	}
	return &exchange{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// jsonObject decodes a 200 JSON object response; nil otherwise.
func (x *exchange) jsonObject() map[string]any {
	if x == nil || x.status != http.StatusOK {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(x.body, &m) != nil {
		return nil
	}
	return m
}

// wellKnown inserts the well-known suffix between the host and the path of raw (RFC 8414
// §3.1, RFC 9728 §3.1), removing a terminating "/" of the path first.
func wellKnown(raw, suffix string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	return u.Scheme + "://" + u.Host + "/.well-known/" + suffix + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// target finds the authorization server behind Options.URL and its endpoints; it reports
// whether there is a registration endpoint to go on with.
func (p *prober) target(ctx context.Context) bool {
	issuer := p.opts.URL
	if issuer == "" {
		p.skip("no URL given: only the registration endpoint is probed", "discovery", "metadata_members", "protected_resource", "cimd")
	} else if issuer = p.protectedResource(ctx, issuer); issuer == "" {
		p.skip("the protected resource names no usable authorization server", "discovery", "metadata_members", "cimd")
	}
	md := &client.ServerMetadata{}
	if issuer != "" {
		if found := p.discovery(ctx, issuer); found != nil {
			md = found
		}
	}
	advertised := md.RegistrationEndpoint
	e := p.opts.Endpoints
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&md.RegistrationEndpoint, e.Registration}, {&md.AuthorizationEndpoint, e.Authorization},
		{&md.TokenEndpoint, e.Token}, {&md.DeviceAuthorizationEndpoint, e.DeviceAuthorization},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	p.md = md
	p.rep.Issuer = md.Issuer
	p.registrationEndpoint(ctx, advertised, md.RegistrationEndpoint)
	return p.rep.RegistrationEndpoint != ""
}

// discovery fetches the metadata of issuer from every well-known URL, decides the discovery,
// metadata_members and cimd checks, and returns the metadata (nil if it cannot be used).
func (p *prober) discovery(ctx context.Context, issuer string) *client.ServerMetadata {
	as, err := wellKnown(issuer, "oauth-authorization-server")
	if err != nil {
		p.violation("discovery", "RFC 8414 §2", "none", err.Error())
		return nil
	}
	oidcIns, _ := wellKnown(issuer, "openid-configuration")
	oidc := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	urls := []string{as, oidcIns, oidc}
	if oidcIns == oidc {
		urls = urls[:2]
	}
	doc, issuers, oidcServed, detail := p.wellKnownDocs(ctx, urls)
	if doc == nil && p.stopped(ctx) {
		return nil // undecided: finish says the limit ended it
	}
	if doc == nil {
		p.no("discovery", "none", "no metadata document: "+detail)
		p.skip("no metadata document", "metadata_members", "cimd")
		return nil
	}
	names := sortedKeys(issuers)
	value, use := "exact", issuer
	switch {
	case len(names) > 1:
		p.violation("discovery", "RFC 8414 §3.3", "mismatch", "the well-known documents name different issuers: "+detail)
		p.skip("the metadata cannot be used (RFC 8414 §3.3)", "metadata_members", "cimd")
		return nil
	case names[0] == issuer:
	case strings.TrimSuffix(names[0], "/") == strings.TrimSuffix(issuer, "/"):
		value, use = "trailing-slash", names[0]
		p.advice = append(p.advice, fmt.Sprintf("use the issuer exactly as %q (with or without the trailing slash as the server states it): RFC 8414 §3.3 compares it character for character", names[0]))
	default:
		p.violation("discovery", "RFC 8414 §3.3", "mismatch", fmt.Sprintf("the metadata names issuer %q, not %q (mix-up defence): %s", names[0], issuer, detail))
		p.skip("the metadata names another issuer: it must not be used (RFC 8414 §3.3)", "metadata_members", "cimd")
		return nil
	}
	md, err := p.c.Discover(ctx, use)
	if err != nil {
		p.violation("discovery", "RFC 8414 §3.3", "mismatch", client.RedactError(err))
		return nil
	}
	p.yes("discovery", value, detail)
	p.metadataMembers(doc, oidcServed)
	if b, _ := doc["client_id_metadata_document_supported"].(bool); b {
		p.yes("cimd", "", "client_id_metadata_document_supported is true")
		p.advice = append(p.advice, "the server accepts Client ID Metadata Documents: an https client_id URL can stand in for registration")
	} else {
		p.no("cimd", "", "client_id_metadata_document_supported is absent or false")
	}
	return md
}

// wellKnownDocs fetches each well-known URL: the first metadata document, the issuers the
// documents name, whether an OpenID configuration answered, and a line saying what each URL
// answered.
func (p *prober) wellKnownDocs(ctx context.Context, urls []string) (map[string]any, map[string]bool, bool, string) {
	var seen []string
	issuers := map[string]bool{}
	var doc map[string]any
	oidcServed := false
	for i, u := range urls {
		x, err := p.send(ctx, p.hc, http.MethodGet, u, nil)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %s", u, client.RedactError(err)))
			continue
		}
		m := x.jsonObject()
		if m == nil {
			seen = append(seen, fmt.Sprintf("%s: %d", u, x.status))
			continue
		}
		iss, _ := m["issuer"].(string)
		issuers[iss] = true
		seen = append(seen, fmt.Sprintf("%s: 200 issuer %q", u, iss))
		if doc == nil {
			doc = m
		}
		oidcServed = oidcServed || i > 0
	}
	return doc, issuers, oidcServed, strings.Join(seen, "; ")
}

// clientMembers are metadata members that DCR clients use; oidcRequired those OpenID
// Connect Discovery 1.0 §3 makes REQUIRED (response_types_supported RFC 8414 §2 too).
var (
	clientMembers = []string{"jwks_uri", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint",
		"device_authorization_endpoint", "token_endpoint_auth_methods_supported", "code_challenge_methods_supported",
		"grant_types_supported", "response_types_supported", "scopes_supported", "subject_types_supported",
		"id_token_signing_alg_values_supported", "claims_supported"}
	oidcRequired = []string{"jwks_uri", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"}
)

// ClientMembers returns the metadata members the metadata_members check looks for.
func ClientMembers() []string { return slices.Clone(clientMembers) }

func (p *prober) metadataMembers(doc map[string]any, oidcServed bool) {
	var absent, required []string
	for _, k := range clientMembers {
		if _, ok := doc[k]; !ok {
			absent = append(absent, k)
			if k == "response_types_supported" || oidcServed && slices.Contains(oidcRequired, k) {
				required = append(required, k)
			}
		}
	}
	value := strings.Join(absent, ",")
	detail := "absent: " + listOrNone(absent)
	if slices.Contains(absent, "code_challenge_methods_supported") {
		p.advice = append(p.advice, "the metadata has no code_challenge_methods_supported (RFC 8414 §2: PKCE is then not supported): send S256 anyway and check that /authorize accepts it")
	}
	switch {
	case len(required) > 0:
		p.violation("metadata_members", "OpenID Connect Discovery 1.0 §3", value, "REQUIRED but absent from the served documents: "+strings.Join(required, ", ")+"; "+detail)
	case len(absent) > 0:
		p.no("metadata_members", value, detail)
	default:
		p.yes("metadata_members", "", detail)
	}
}

// protectedResource looks for RFC 9728 metadata at the URL (its well-known URL, then a 401
// with a resource_metadata challenge) and returns the issuer to discover: its first
// authorization server, or u itself when u is not a protected resource.
func (p *prober) protectedResource(ctx context.Context, u string) string {
	wk, err := wellKnown(u, "oauth-protected-resource")
	if err != nil {
		p.skip(err.Error(), "protected_resource")
		return u
	}
	if x, err := p.send(ctx, p.hc, http.MethodGet, wk, nil); err == nil {
		if m := x.jsonObject(); m != nil && m["resource"] != nil {
			return p.resourceMetadata(m, u, "at "+wk, true)
		}
	}
	// Not at the well-known URL: is u an authorization server? Only if not, ask u itself.
	if as, _ := wellKnown(u, "oauth-authorization-server"); as != "" {
		if x, err := p.send(ctx, p.hc, http.MethodGet, as, nil); err == nil && x.jsonObject() != nil {
			p.skip("the URL is an authorization server, not a protected resource", "protected_resource")
			return u
		}
	}
	x, err := p.send(ctx, p.hc, http.MethodGet, u, nil)
	if halted(err) {
		return u
	}
	if err != nil || x.status != http.StatusUnauthorized {
		p.skip("the URL is not a protected resource (no RFC 9728 metadata, no 401 with resource_metadata)", "protected_resource")
		return u
	}
	rm := client.BearerChallenge(x.header)["resource_metadata"]
	if rm == "" {
		p.no("protected_resource", "", "the resource answers 401 without a resource_metadata parameter in WWW-Authenticate (RFC 9728 §5.1)")
		return u
	}
	mx, err := p.send(ctx, p.hc, http.MethodGet, rm, nil)
	if err != nil || mx.jsonObject() == nil {
		p.violation("protected_resource", "RFC 9728 §5.1", "", fmt.Sprintf("resource_metadata %s gives no metadata document", rm))
		return ""
	}
	return p.resourceMetadata(mx.jsonObject(), u, "from the 401's resource_metadata "+rm, false)
}

// resourceMetadata checks an RFC 9728 document and returns its first authorization server.
func (p *prober) resourceMetadata(m map[string]any, u, where string, wellKnown bool) string {
	res, _ := m["resource"].(string)
	var servers []string
	if list, ok := m["authorization_servers"].([]any); ok {
		for _, s := range list {
			if s, ok := s.(string); ok {
				servers = append(servers, s)
			}
		}
	}
	same := res == u || strings.TrimSuffix(res, "/") == strings.TrimSuffix(u, "/")
	switch {
	case wellKnown && !same:
		// RFC 9728 §3.3: the resource value MUST be identical to the resource identifier.
		p.violation("protected_resource", "RFC 9728 §3.3", "", fmt.Sprintf("metadata %s names resource %q, not %q", where, res, u))
		return ""
	case len(servers) == 0:
		p.no("protected_resource", "", fmt.Sprintf("metadata %s names no authorization_servers", where))
		return ""
	}
	p.yes("protected_resource", "", fmt.Sprintf("metadata %s: resource %q, authorization servers %s", where, res, strings.Join(servers, ", ")))
	return servers[0]
}

// registrationEndpoint decides the registration_endpoint check: advertised is what the
// metadata says, used what the probe will use (the given endpoint wins).
func (p *prober) registrationEndpoint(ctx context.Context, advertised, used string) {
	path := ""
	if u, err := url.Parse(used); err == nil {
		path = u.EscapedPath()
	}
	switch {
	case used == "" && p.stopped(ctx):
		return // no metadata because the limit came first: undecided
	case used == "":
		p.no("registration_endpoint", "", "the metadata advertises no registration_endpoint and none was given")
		p.skip("no registration endpoint (give one explicitly if the server has one)", registrationChecks...)
		return
	case advertised != "" && advertised != used:
		p.yes("registration_endpoint", path, fmt.Sprintf("advertised %s; using the given %s", advertised, used))
	case advertised != "":
		p.yes("registration_endpoint", path, "advertised: "+used)
	default:
		p.no("registration_endpoint", path, "not advertised in the metadata; using the given "+used)
		p.advice = append(p.advice, fmt.Sprintf("configure the registration endpoint explicitly (%s): the server's metadata does not advertise it", used))
	}
	p.rep.RegistrationEndpoint = used
	p.g.setOrigin(used)
}

// registrationChecks are the checks that need a registration endpoint.
var registrationChecks = []string{"registration_mode", "insufficient_scope", "initial_token_reuse", "status_code", "response_shape",
	"null_members", "response_extras", "unknown_metadata", "lang_tags", "vendor_members", "defaults_applied",
	"grant_response_consistency", "native_loopback", "private_use_scheme", "redirect_uri_validation", "loopback_any_port",
	"pkce_s256", "pkce_plain", "pkce_required", "iss_parameter", "cors_registration", "rfc7592", "rat_rotation_on_read",
	"rat_rotation_on_update", "secret_rotation_on_read", "secret_rotation_on_update", "get_omits_secret",
	"update_full_replacement", "delete_revokes_tokens", "software_statements"}
