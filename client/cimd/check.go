package cimd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strings"
)

// MaxSize is the most of a document that is read: 64 KiB. A larger one is refused.
const MaxSize = 64 << 10

// RecommendedSize is the draft's recommended limit (§8.7: "The recommended maximum size to
// read is 5 kilobytes"); a larger document is a warning, since servers that follow the
// recommendation refuse it.
const RecommendedSize = 5000

// Document is a decoded Client ID Metadata Document: the members that dcrctl uses, and every
// member as sent.
type Document struct {
	ClientID                string
	ClientName              string
	ClientURI               string
	LogoURI                 string
	RedirectURIs            []string
	GrantTypes              []string // as sent; nil when absent (RFC 7591 §2: authorization_code)
	ResponseTypes           []string
	TokenEndpointAuthMethod string // as sent; "" when absent
	Scope                   string
	// Members holds every member of the document, the ones above included.
	Members map[string]json.RawMessage
}

// Source says where a document came from.
type Source struct {
	// URL is the URL the document was fetched from (or will be served at): client_id must
	// equal it. "" checks only that client_id is a valid Client Identifier URL.
	URL string
	// ContentType is the response's Content-Type header; checked when Fetched is set.
	ContentType string
	Fetched     bool
}

// Check validates a document against the draft and returns it decoded (nil when body is not
// a JSON object) with every problem found, one per broken rule.
func Check(body []byte, src Source) (*Document, Problems) {
	var ps Problems
	if len(body) > MaxSize {
		return nil, Problems{problem("", "§8.7", "the document is larger than %d KiB: dcrctl serve and other servers stop reading there; keep it under %d bytes", MaxSize>>10, RecommendedSize)}
	}
	if len(body) > RecommendedSize {
		ps = append(ps, warning("", "§8.7", "the document has %d bytes, more than the recommended %d: servers that follow the recommendation refuse it", len(body), RecommendedSize))
	}
	if src.Fetched {
		ps = append(ps, checkContentType(src.ContentType)...)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, append(ps, problem("", "§4", "the document is not a JSON object (RFC 8259): %s", jsonErr(err)))
	}
	d := &Document{Members: members}
	ps = append(ps, d.decode()...)
	ps = append(ps, d.checkClientID(src.URL)...)
	ps = append(ps, d.checkCredentials()...)
	ps = append(ps, d.checkRedirects()...)
	return d, ps
}

// checkContentType accepts application/json and application/<subtype>+json (§4).
func checkContentType(ct string) Problems {
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return Problems{problem("", "§4", "the response's Content-Type is %s, not application/json (or application/<subtype>+json): serve the document as application/json", ct)}
}

func jsonErr(err error) string {
	if err == nil {
		return "it is null"
	}
	return err.Error()
}

// decode reads the members dcrctl uses, reporting those of the wrong JSON type.
func (d *Document) decode() Problems {
	var ps Problems
	str := func(name string, dst *string) {
		if raw, ok := d.Members[name]; ok && json.Unmarshal(raw, dst) != nil {
			ps = append(ps, problem(name, "RFC 7591 §2", "is %s, not a string", kind(raw)))
		}
	}
	list := func(name string, dst *[]string) {
		if raw, ok := d.Members[name]; ok && (json.Unmarshal(raw, dst) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))) {
			*dst = nil
			ps = append(ps, problem(name, "RFC 7591 §2", "is %s, not an array of strings", kind(raw)))
		}
	}
	str("client_id", &d.ClientID)
	str("client_name", &d.ClientName)
	str("client_uri", &d.ClientURI)
	str("logo_uri", &d.LogoURI)
	str("token_endpoint_auth_method", &d.TokenEndpointAuthMethod)
	str("scope", &d.Scope)
	list("redirect_uris", &d.RedirectURIs)
	list("grant_types", &d.GrantTypes)
	list("response_types", &d.ResponseTypes)
	var other string
	for _, name := range []string{"tos_uri", "policy_uri", "jwks_uri", "application_type", "software_id", "software_version"} {
		str(name, &other)
	}
	for _, name := range []string{"client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri"} {
		var s string
		if raw, ok := d.Members[name]; ok && json.Unmarshal(raw, &s) == nil {
			ps = append(ps, checkWebURL(s, name)...)
		}
	}
	return ps
}

// kind names a JSON value's type for a message.
func kind(raw json.RawMessage) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// checkClientID is §4: "The Client ID Metadata Document MUST contain a client_id property
// whose value MUST match the Client Identifier URL, which MUST also match the URL that the
// authorization server used to fetch the document; comparisons MUST be made using simple
// string comparison".
func (d *Document) checkClientID(docURL string) Problems {
	if _, ok := d.Members["client_id"]; !ok {
		return Problems{problem("client_id", "§4", "is missing: the document's client_id is the URL it is served at")}
	}
	if docURL == "" {
		return CheckURL(d.ClientID, "client_id")
	}
	ps := CheckURL(docURL, "")
	if d.ClientID != docURL {
		ps = append(ps, problem("client_id", "§4", "is %q, not the document's URL %q: the two must be equal character for character", d.ClientID, docURL))
	}
	return ps
}

// privateJWKMembers hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// checkCredentials is §4.1: no shared secret, no private key material.
func (d *Document) checkCredentials() Problems {
	var ps Problems
	m := d.TokenEndpointAuthMethod
	switch _, sent := d.Members["token_endpoint_auth_method"]; {
	case strings.HasPrefix(m, "client_secret_"):
		ps = append(ps, problem("token_endpoint_auth_method", "§4.1", "is %s, a method based on a shared secret, which a document cannot establish: use none (a public client) or private_key_jwt with jwks_uri", m))
	case !sent:
		ps = append(ps, warning("token_endpoint_auth_method", "§4.1", `is absent, and RFC 7591 §2 makes that client_secret_basic, which a document cannot use: say "none" for a public client`))
	}
	for _, name := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := d.Members[name]; ok {
			ps = append(ps, problem(name, "§4.1", "MUST NOT be used in a Client ID Metadata Document: remove it (a public client has no secret)"))
		}
	}
	_, hasURI := d.Members["jwks_uri"]
	if raw, ok := d.Members["jwks"]; ok {
		if hasURI {
			ps = append(ps, problem("jwks", "RFC 7591 §2", "and jwks_uri MUST NOT both be present: keep one"))
		}
		var set struct {
			Keys []map[string]json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(raw, &set); err != nil || set.Keys == nil {
			ps = append(ps, problem("jwks", "RFC 7591 §2", `is not a JWK Set ({"keys": [...]})`))
		}
		for i, k := range set.Keys {
			for _, pm := range privateJWKMembers {
				if _, ok := k[pm]; ok {
					ps = append(ps, problem(fmt.Sprintf("jwks.keys[%d]", i), "§4.1", "holds private or symmetric key material (member %q): publish only public keys", pm))
					break
				}
			}
		}
	}
	return ps
}

// redirectGrants are the grant types that send the user back to a redirect URI.
var redirectGrants = []string{"authorization_code", "implicit"}

// NeedsRedirect reports whether the document's grant types use a redirect URI; without
// grant_types, RFC 7591 §2 makes them authorization_code.
func (d *Document) NeedsRedirect() bool {
	_, sent := d.Members["grant_types"]
	return !sent || slices.ContainsFunc(d.GrantTypes, func(g string) bool { return slices.Contains(redirectGrants, g) })
}

// checkRedirects is §4.2: the authorization server "MUST require registration of redirect
// URLs"; the document is where they are registered.
func (d *Document) checkRedirects() Problems {
	raw, sent := d.Members["redirect_uris"]
	if !d.NeedsRedirect() {
		return nil
	}
	var list []string
	switch {
	case !sent:
		return Problems{problem("redirect_uris", "§4.2", "is missing: list the redirect URIs of the authorization code grant, e.g. [\"http://127.0.0.1/callback\"] for a native app")}
	case json.Unmarshal(raw, &list) != nil || kind(raw) == "null":
		return nil // the wrong type is reported by decode
	case len(d.RedirectURIs) == 0:
		return Problems{problem("redirect_uris", "§4.2", "is empty: list at least one redirect URI")}
	}
	var ps Problems
	for i, u := range d.RedirectURIs {
		ps = append(ps, checkRedirect(u, fmt.Sprintf("redirect_uris[%d]", i))...)
	}
	return ps
}
