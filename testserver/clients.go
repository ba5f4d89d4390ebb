package testserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dcrctl/dcrctl/client/cimd"
)

// client is the effective view of a client: static (from Config), registered, or an
// instance of a template (whose metadata is the template's, always current).
type client struct {
	ID              string
	SecretHash      []byte // nil: public client
	SecretExpiresAt int64
	Static          bool
	Templates       []string // static clients: templates their tokens may instantiate
	Template        string   // template instances: the template id
	md              *metadata
	row             *clientRow
	doc             *cimd.Document // a client whose client_id is its document's URL (cimd.go)
}

func (c *client) public() bool { return c.md.AuthMethod == "none" }

// allowedScope reports whether every scope in want may be granted to c.
func (s *Server) scopeAllowed(c *client, want []string) bool {
	allowed := s.scopes
	if c.md.Scope != "" {
		allowed = strings.Fields(c.md.Scope)
	}
	for _, w := range want {
		if !slices.Contains(allowed, w) || !slices.Contains(s.scopes, w) {
			return false
		}
	}
	return true
}

// scopeDCR is the scope of an initial access token.
const scopeDCR = "dcr"

// defaultScope is what a client gets when it asks for none: everything it registered except
// dcr. The seed's rule: "If the application does not ask for the dcr scope, the resulting
// token will not include it and the app will not be able to register itself." Every grant
// that takes a scope parameter (client credentials, authorization code, device) comes here;
// a refresh without scope gets the scope originally granted (RFC 6749 §6), which holds dcr
// only if that grant asked for it.
func (s *Server) defaultScope(c *client) string {
	return strings.Join(slices.DeleteFunc(strings.Fields(c.md.Scope), func(sc string) bool { return sc == scopeDCR }), " ")
}

// tmpl is a template client.
type tmpl struct {
	ID      string
	md      atomic.Pointer[metadata] // replaced by Server.SetTemplateMetadata
	allowed []string
}

func (t *tmpl) metadata() *metadata     { return t.md.Load() }
func (t *tmpl) setMetadata(m *metadata) { t.md.Store(m) }

func (s *Server) validator() *validator {
	return &validator{scopes: s.scopes, vendorFields: s.cfg.VendorFields, issuers: s.stmtKeys, now: s.now, beh: &s.beh}
}

func (s *Server) buildTemplates() error {
	s.templates = map[string]*tmpl{}
	for _, t := range s.cfg.Templates {
		if t.ID == "" {
			return fmt.Errorf("a template has no id")
		}
		b, err := json.Marshal(t.Metadata)
		if err != nil {
			return fmt.Errorf("template %q: %w", t.ID, err)
		}
		md, err := s.operatorValidator().parse(b)
		if err != nil {
			return fmt.Errorf("template %q: %w", t.ID, err)
		}
		md.Fields["software_id"], _ = json.Marshal(t.ID)
		s.templates[t.ID] = &tmpl{ID: t.ID, allowed: t.AllowedClients}
		s.templates[t.ID].setMetadata(md)
	}
	return nil
}

func (s *Server) buildStatic() error {
	s.static = map[string]*client{}
	for _, cc := range s.cfg.Clients {
		if cc.ClientID == "" {
			return fmt.Errorf("a client has no client_id")
		}
		if _, dup := s.static[cc.ClientID]; dup {
			return fmt.Errorf("client %q is configured twice", cc.ClientID)
		}
		md := map[string]any{
			"token_endpoint_auth_method": cc.TokenEndpointAuthMethod,
			"grant_types":                cc.GrantTypes,
		}
		if cc.RedirectURIs != nil {
			md["redirect_uris"] = cc.RedirectURIs
		}
		if cc.Scope != "" {
			md["scope"] = cc.Scope
		}
		if cc.ClientName != "" {
			md["client_name"] = cc.ClientName
		}
		b, _ := json.Marshal(md)
		m, err := s.operatorValidator().parse(b)
		if err != nil {
			return fmt.Errorf("client %q: %w", cc.ClientID, err)
		}
		c := &client{ID: cc.ClientID, Static: true, Templates: cc.Templates, md: m}
		if m.AuthMethod != "none" {
			c.SecretHash = hashOf(cc.ClientSecret)
		}
		s.static[c.ID] = c
	}
	return nil
}

// clientForm reads the form of an endpoint where the client authenticates as at the token
// endpoint (token, revocation, introspection, device authorization) and authenticates it.
func (s *Server) clientForm(w http.ResponseWriter, r *http.Request) (url.Values, *client, error) {
	form, err := parseForm(w, r)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.authenticateClient(r, form)
	if err != nil {
		return nil, nil, err
	}
	return form, c, nil
}

// lookupClient finds a static, registered or (with Config.CIMD) Client ID Metadata Document
// client; nil if there is none.
func (s *Server) lookupClient(ctx context.Context, id string) (*client, error) {
	if c, ok := s.static[id]; ok {
		return c, nil
	}
	if s.cimdFetch != nil && cimd.IsClientIDURL(id) {
		return s.cimdClient(ctx, id)
	}
	if c, ok := s.cache.get(id); ok {
		return c, nil
	}
	epoch := s.cache.epoch()
	row, err := s.store.client(ctx, id)
	if err != nil || row == nil {
		return nil, err
	}
	c, err := s.fromRow(row, false)
	if err == nil && c != nil {
		s.cache.put(epoch, id, c)
	}
	return c, err
}

// cache keeps recently used rows (registered clients, reusable initial access tokens), so
// that hot paths do not read the database on every request. It is bounded (memory stays flat
// however many clients are stored) and every change to a cached row invalidates it.
type cache[V any] struct {
	mu    sync.Mutex
	m     map[string]V
	gen   uint64
	limit int
}

// newCache keeps up to limit rows; 0 keeps none.
func newCache[V any](limit int) *cache[V] {
	return &cache[V]{m: make(map[string]V), limit: limit}
}

func (c *cache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// epoch is taken before reading the database; put with it.
func (c *cache[V]) epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores v unless something was invalidated since epoch (the row read may be stale).
func (c *cache[V]) put(epoch uint64, k string, v V) {
	if c.limit <= 0 {
		return // caching is off
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != epoch {
		return
	}
	if len(c.m) >= c.limit {
		for old := range c.m { // evict an arbitrary entry
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

// clear forgets everything; call it after the change is committed.
func (c *cache[V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// invalidate forgets k; call it after the change is committed.
func (c *cache[V]) invalidate(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
}

// fromRow makes the effective client; full also decodes every metadata field.
func (s *Server) fromRow(row *clientRow, full bool) (*client, error) {
	c := &client{ID: row.ID, SecretHash: row.SecretHash, SecretExpiresAt: row.SecretExpiresAt, Template: row.Template, row: row}
	if row.Template != "" {
		t, ok := s.templates[row.Template]
		if !ok {
			// The template was removed from the configuration: its instances are disabled.
			return nil, nil
		}
		c.md = t.metadata()
		return c, nil
	}
	md, err := decodeStored(row.Metadata, full)
	if err != nil {
		return nil, err
	}
	c.md = md
	return c, nil
}

func invalidClient(basic bool, format string, args ...any) *Error {
	e := errorf(http.StatusUnauthorized, "invalid_client", format, args...)
	e.Challenge = "Basic"
	_ = basic
	return e
}

// authenticateClient authenticates the client of a token, revocation, introspection or device
// authorization request (RFC 6749 §2.3): client_secret_basic, client_secret_post, or none.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*client, error) {
	var id, secret string
	var basic bool
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return nil, invalidClient(true, "the Authorization header must use the Basic scheme for client authentication")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return nil, invalidClient(true, "the Basic credentials are not valid base64")
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, invalidClient(true, "the Basic credentials have no colon between client_id and client_secret")
		}
		// RFC 6749 §2.3.1: the client identifier and password are encoded with the
		// application/x-www-form-urlencoded algorithm before being used as user-id and password.
		if id, err = url.QueryUnescape(u); err != nil {
			return nil, invalidClient(true, "the Basic user-id is not form-encoded: encode client_id with application/x-www-form-urlencoded (RFC 6749 §2.3.1)")
		}
		if secret, err = url.QueryUnescape(p); err != nil {
			return nil, invalidClient(true, "the Basic password is not form-encoded: encode client_secret with application/x-www-form-urlencoded (RFC 6749 §2.3.1)")
		}
		basic = true
		if form.Get("client_secret") != "" {
			// RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
			return nil, badRequest("invalid_request", "the client authenticated with both client_secret_basic and client_secret_post: use one")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, badRequest("invalid_request", "client_id in the body differs from the one in the Authorization header")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, invalidClient(basic, "no client authentication: send client_id (and client_secret with HTTP Basic or in the body)")
	}
	c, err := s.lookupClient(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, invalidClient(basic, "client %q is unknown or was deleted: register a client first", id)
	}
	if c.public() {
		if secret != "" || basic {
			return nil, invalidClient(basic, "client %q is public (token_endpoint_auth_method none): send only client_id, no secret", id)
		}
		return c, nil
	}
	if secret == "" {
		return nil, invalidClient(basic, "client %q is confidential: authenticate with its client_secret (HTTP Basic or client_secret_post)", id)
	}
	if !matches(c.SecretHash, secret) {
		return nil, invalidClient(basic, "wrong client_secret for client %q", id)
	}
	if c.SecretExpiresAt != 0 && s.now().Unix() >= c.SecretExpiresAt {
		return nil, invalidClient(basic, "the client_secret of %q has expired: read the registration (RFC 7592) or register again", id)
	}
	return c, nil
}
