package testserver

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client/cimd"
)

// CIMD turns on Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-03):
// the authorization and token endpoints accept an https URL as client_id, fetch the JSON
// document there with a dedicated fetcher (cimdfetch.go), check it with package client/cimd
// (the rule dcrctl cimd check applies) and use it as the client's registration. Only public
// clients (token_endpoint_auth_method none) of the authorization code grant, with PKCE, are
// accepted. Discovery then advertises client_id_metadata_document_supported (§6).
type CIMD struct {
	// Enabled turns the feature on (dcrctl serve --cimd).
	Enabled bool `yaml:"enabled"`
	// AllowLoopback lets documents be fetched from loopback addresses (127.0.0.0/8, ::1), for
	// tests on one machine (dcrctl serve --cimd-allow-loopback). §8.6 allows it only for an
	// authorization server itself on loopback and never in production: a client_id URL could
	// otherwise make the server request its own or its neighbours' loopback services.
	AllowLoopback bool `yaml:"allow_loopback"`
	// CacheSize bounds how many documents are cached; 0 means 1000.
	CacheSize int `yaml:"cache_size"`
	// RootCAs, if set, replaces the system roots for verifying the document servers' TLS
	// certificates (tests: an httptest TLS server's certificate).
	RootCAs *x509.CertPool `yaml:"-"`
	// Timeout bounds one fetch (connect, TLS, headers and body); 0 means 5 s, and more than
	// 5 s is cut to 5 s. Tests shorten it.
	Timeout time.Duration `yaml:"-"`
}

// cimdClient returns the client whose client_id is the Client Identifier URL id, from its
// document: from the cache while it is fresh, else fetched. A failure is an *Error
// invalid_client (400): the client identifier is invalid (RFC 6749 §4.1.2.1, §5.2; draft §6),
// and the authorization request is aborted (§5.1) — never a 5xx.
func (s *Server) cimdClient(ctx context.Context, id string) (*client, error) {
	e, err := s.cimdFetch.document(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.entryClient(id, e)
}

// entryClient is the client of a cached entry, made once.
func (s *Server) entryClient(id string, e *cimdEntry) (*client, error) {
	if c := e.client.Load(); c != nil {
		return c, nil
	}
	c, err := s.docClient(id, e.doc)
	if err == nil {
		e.client.Store(c)
	}
	return c, err
}

// knownClient is lookupClient without a fetch: a CIMD client comes from the cache only (nil
// when it is not cached), for views that must answer at once (the debugger page).
func (s *Server) knownClient(ctx context.Context, id string) (*client, error) {
	if s.cimdFetch == nil || !cimd.IsClientIDURL(id) || s.static[id] != nil {
		return s.lookupClient(ctx, id)
	}
	if e := s.cimdFetch.cached(id); e != nil {
		return s.entryClient(id, e)
	}
	return nil, nil
}

// docClient is the client a checked document describes, by this server's policy.
func (s *Server) docClient(id string, doc *cimd.Document) (*client, error) {
	if m := doc.TokenEndpointAuthMethod; m != "" && m != "none" {
		return nil, cimdInvalid(id, "its token_endpoint_auth_method is %s; this server accepts only public clients (none) with a Client ID Metadata Document", m)
	}
	grants := slices.DeleteFunc(slices.Clone(doc.GrantTypes), func(g string) bool { return g != "authorization_code" && g != "refresh_token" })
	if doc.GrantTypes == nil {
		grants = []string{"authorization_code"} // RFC 7591 §2: the default
	}
	scope := s.cimdScope(doc.Scope)
	if scope == "" {
		return nil, cimdInvalid(id, "asks for no scope this server grants it (%q; dcr is never granted to such a client): list some of %q", doc.Scope, strings.Join(s.scopes, " "))
	}
	md := map[string]any{"redirect_uris": doc.RedirectURIs, "grant_types": grants, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": scope}
	if doc.ClientName != "" {
		md["client_name"] = doc.ClientName
	}
	b, _ := json.Marshal(md)
	m, err := s.operatorValidator().parse(b)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, cimdInvalid(id, "%s", pe.Description)
		}
		return nil, err
	}
	return &client{ID: id, md: m, doc: doc}, nil
}

// cimdScope is what a CIMD client may ask for: the scopes its document lists that the server
// knows (all of them when it lists none), never dcr: a client nobody registered does not get
// initial access tokens.
func (s *Server) cimdScope(asked string) string {
	want := strings.Fields(asked)
	if len(want) == 0 {
		want = s.scopes
	}
	return strings.Join(slices.DeleteFunc(slices.Clone(want), func(sc string) bool {
		return sc == scopeDCR || !slices.Contains(s.scopes, sc)
	}), " ")
}

func cimdInvalid(id, format string, args ...any) *Error {
	return badRequest("invalid_client", "the client's metadata document at %s %s", id, fmtS(format, args...))
}

// cimdShown is what the login page shows of a CIMD client besides its name: §8.5 "The
// authorization server SHOULD display the hostname of the client_id on the authorization
// interface, in addition to displaying the fetched client information".
func cimdShown(c *client) (clientURL, host string) {
	if c.doc == nil {
		return "", ""
	}
	u, err := url.Parse(c.ID)
	if err != nil {
		return c.ID, c.ID
	}
	return c.ID, u.Host
}
