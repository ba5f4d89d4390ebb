package testserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Registration error codes (RFC 7591 §3.2.2).
const (
	errInvalidRedirectURI     = "invalid_redirect_uri"
	errInvalidClientMetadata  = "invalid_client_metadata"
	errInvalidSoftwareStmt    = "invalid_software_statement"
	errUnapprovedSoftwareStmt = "unapproved_software_statement"
)

// maxArray bounds every array in client metadata.
const maxArray = 100

// metadata is validated client metadata: Fields is what is stored and echoed; the typed
// fields are the ones the server acts on.
type metadata struct {
	Fields        map[string]json.RawMessage `json:"-"`
	RedirectURIs  []string                   `json:"redirect_uris"`
	GrantTypes    []string                   `json:"grant_types"`
	ResponseTypes []string                   `json:"response_types"`
	AuthMethod    string                     `json:"token_endpoint_auth_method"`
	Scope         string                     `json:"scope"`

	enc  []byte // Fields as encodeObject writes them, made once by encoded
	once sync.Once
}

// encoded is encodeObject(m.Fields), computed once: a registration stores it, hashes it for
// its entity tag and answers with it. Fields must not change after the first call.
func (m *metadata) encoded() []byte {
	m.once.Do(func() { m.enc = encodeObject(m.Fields) })
	return m.enc
}

func (m *metadata) has(grant string) bool { return slices.Contains(m.GrantTypes, grant) }

// decodeStored reads metadata the server stored itself; Fields only if full (the token
// endpoint needs just the typed fields).
func decodeStored(s string, full bool) (*metadata, error) {
	m := &metadata{}
	if err := json.Unmarshal([]byte(s), m); err != nil {
		return nil, fmt.Errorf("stored client metadata: %w", err)
	}
	if full {
		if err := json.Unmarshal([]byte(s), &m.Fields); err != nil {
			return nil, fmt.Errorf("stored client metadata: %w", err)
		}
	}
	return m, nil
}

// validator checks RFC 7591 registration requests against the server's configuration.
type validator struct {
	scopes       []string
	vendorFields []string
	issuers      map[string]stmtKey // software statement issuer → key
	now          func() time.Time   // the clock for software statements' exp, nbf and iat
	beh          *Behaviour         // member policies, auth methods, localhost; nil: strict
}

// policy is the behaviour the validator applies (strict without one).
func (v *validator) policy() *Behaviour {
	if v.beh == nil {
		b := strictBehaviour()
		v.beh = &b
	}
	return v.beh
}

// member applies a member policy: keep reports true, strip false, reject an error.
func member(p MemberPolicy, what, k string) (bool, error) {
	switch p {
	case MemberStrip:
		return false, nil
	case MemberReject:
		return false, badRequest(errInvalidClientMetadata, "%s member %q is not accepted by this server (it behaves like a server that refuses such members): remove it", what, k)
	}
	return true, nil
}

type fieldKind int

const (
	kString fieldKind = iota
	kURL              // an absolute http(s) URL
	kStrings
	kURLs
	kObject
	kNumber
	kBool
	kIgnored // accepted and dropped: the server makes this value
)

// known are the client metadata the server understands: RFC 7591 §2 and OpenID Connect
// Dynamic Client Registration 1.0 §2.
var known = map[string]fieldKind{
	"redirect_uris":              kStrings,
	"token_endpoint_auth_method": kString,
	"grant_types":                kStrings,
	"response_types":             kStrings,
	"client_name":                kString,
	"client_uri":                 kURL,
	"logo_uri":                   kURL,
	"scope":                      kString,
	"contacts":                   kStrings,
	"tos_uri":                    kURL,
	"policy_uri":                 kURL,
	"jwks_uri":                   kURL,
	"jwks":                       kObject,
	"software_id":                kString,
	"software_version":           kString,
	"software_statement":         kString,
	// OpenID Connect Dynamic Client Registration 1.0 §2
	"application_type":                kString,
	"sector_identifier_uri":           kURL,
	"subject_type":                    kString,
	"id_token_signed_response_alg":    kString,
	"id_token_encrypted_response_alg": kString,
	"id_token_encrypted_response_enc": kString,
	"userinfo_signed_response_alg":    kString,
	"userinfo_encrypted_response_alg": kString,
	"userinfo_encrypted_response_enc": kString,
	"request_object_signing_alg":      kString,
	"token_endpoint_auth_signing_alg": kString,
	"default_max_age":                 kNumber,
	"require_auth_time":               kBool,
	"default_acr_values":              kStrings,
	"initiate_login_uri":              kURL,
	"request_uris":                    kURLs,
	"post_logout_redirect_uris":       kURLs,
	// made by the server (RFC 7591 §3.2.1): a client-chosen value is ignored
	"client_id":                 kIgnored,
	"client_secret":             kIgnored,
	"client_id_issued_at":       kIgnored,
	"client_secret_expires_at":  kIgnored,
	"registration_access_token": kIgnored,
	"registration_client_uri":   kIgnored,
}

// localizable fields may carry a BCP 47 language tag: "client_name#ja-Jpan-JP" (RFC 7591 §2.2).
var localizable = map[string]bool{"client_name": true, "client_uri": true, "logo_uri": true, "tos_uri": true, "policy_uri": true}

var supportedGrants = []string{"authorization_code", "refresh_token", "client_credentials", grantDevice}
var supportedAuthMethods = []string{"client_secret_basic", "client_secret_post", "none"}

// parse validates a registration request body (RFC 7591 §2, §3.1) and returns the metadata to
// store, with defaults applied (§2: grant_types ["authorization_code"], response_types
// ["code"], token_endpoint_auth_method "client_secret_basic"). Every failure is a 400 *Error.
func (v *validator) parse(body []byte) (*metadata, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	return v.validate(obj)
}

// decodeObject decodes a JSON object, and nothing else, from body.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		// RFC 8259 §8.1: JSON text exchanged between systems MUST be encoded using UTF-8.
		return nil, badRequest(errInvalidClientMetadata, "the request body is not valid UTF-8: send UTF-8 JSON")
	}
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		what := "empty"
		switch {
		case len(t) == 0:
		case t[0] == '[':
			what = "an array"
		case bytes.HasPrefix(t, []byte("null")):
			what = "null"
		default:
			what = "not a JSON object"
		}
		return nil, badRequest(errInvalidClientMetadata, "the request body is %s: send client metadata as one JSON object (RFC 7591 §3.1)", what)
	}
	if !json.Valid(body) { // also data after the object
		var obj map[string]json.RawMessage
		err := json.Unmarshal(body, &obj) // for the position of the error
		return nil, badRequest(errInvalidClientMetadata, "the request body is malformed JSON (%s): send exactly one JSON object", jsonErr(err))
	}
	return objectMembers(body), nil
}

// objectMembers splits valid JSON (json.Valid) that is an object into its members, as
// json.Unmarshal into a map[string]json.RawMessage does (a name sent twice: the last value),
// without reflection; the values are slices of body.
func objectMembers(body []byte) map[string]json.RawMessage {
	obj := map[string]json.RawMessage{}
	i := bytes.IndexByte(body, '{') + 1
	for {
		i = skipSpace(body, i)
		if body[i] == '}' {
			return obj
		}
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
		end := skipJSON(body, i)
		name, _ := jsonString(body[i:end])
		i = skipSpace(body, end) + 1 // past ':'
		i = skipSpace(body, i)
		end = skipJSON(body, i)
		obj[name] = body[i:end:end]
		i = end
	}
}

// skipSpace returns the index of the first byte at or after i that is not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipJSON returns the end of the value that starts at b[i], in valid JSON.
func skipJSON(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			continue
		case '}', ']':
			if depth == 0 {
				return i // the end of a number or literal
			}
			depth--
		case ' ', '\t', '\r', '\n', ',', ':':
			if depth == 0 {
				return i
			}
			continue
		default:
			continue // in a number or literal
		}
		if depth == 0 {
			return i + 1
		}
	}
	return i
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("a %s where %s was expected", te.Value, te.Type)
	}
	return "unexpected end of input"
}

func (v *validator) validate(obj map[string]json.RawMessage) (*metadata, error) {
	var stmt string
	if raw, ok := obj["software_statement"]; ok {
		if err := json.Unmarshal(raw, &stmt); err != nil {
			return nil, badRequest(errInvalidSoftwareStmt, "software_statement must be a string (a JWS)")
		}
		claims, err := v.softwareStatement(stmt)
		if err != nil {
			return nil, err
		}
		// RFC 7591 §2.3: values in the software statement take precedence.
		for k, c := range claims {
			switch k {
			case "iss", "iat", "exp", "nbf", "jti", "aud", "sub":
				continue
			}
			obj[k] = c
		}
	}

	m := &metadata{Fields: make(map[string]json.RawMessage, len(obj)+4)} // + the defaults semantics adds
	for k, raw := range obj {
		if !utf8.ValidString(k) || hasControl(k) {
			return nil, badRequest(errInvalidClientMetadata, "a field name contains a control character: remove it")
		}
		kind, ok := known[k]
		if !ok {
			var done bool
			var err error
			if kind, done, err = v.otherMember(m, k, raw); err != nil {
				return nil, err
			}
			if done {
				continue
			}
		}
		if kind == kIgnored {
			continue
		}
		val, decoded, err := checkField(k, kind, raw)
		if err != nil {
			return nil, err
		}
		if val != nil {
			m.Fields[k] = val
			switch k { // keep what the server acts on, decoded once
			case "grant_types":
				m.GrantTypes = decoded.([]string)
			case "response_types":
				m.ResponseTypes = decoded.([]string)
			case "redirect_uris":
				m.RedirectURIs = decoded.([]string)
			case "token_endpoint_auth_method":
				m.AuthMethod = decoded.(string)
			case "scope":
				m.Scope = decoded.(string)
			}
		}
	}
	if stmt != "" {
		// RFC 7591 §3.2.1: the software statement is returned unmodified.
		m.Fields["software_statement"], _ = json.Marshal(stmt)
	}
	if err := v.semantics(m); err != nil {
		return nil, err
	}
	return m, nil
}

// otherMember handles a member k that is not in known: a language-tagged one (its kind is
// that of its base name, to be checked as such), or a vendor or unknown one, kept as sent,
// refused or dropped as the policy says (done: nothing more to do with it).
func (v *validator) otherMember(m *metadata, k string, raw json.RawMessage) (kind fieldKind, done bool, err error) {
	base, tag, tagged := strings.Cut(k, "#")
	what := "unknown"
	switch {
	case tagged && localizable[base]:
		if keep, err := member(v.policy().LangMembers, "language-tagged", k); !keep {
			return 0, true, err
		}
		if !validLangTag(tag) {
			return 0, false, badRequest(errInvalidClientMetadata, "%q: %q is not a BCP 47 language tag", k, tag)
		}
		return known[base], false, nil
	case v.vendor(k):
		what = "vendor"
		fallthrough
	case v.policy().UnknownMembers != MemberStrip:
		p := v.policy().UnknownMembers
		if what == "vendor" {
			p = v.policy().VendorMembers
		}
		if keep, err := member(p, what, k); !keep {
			return 0, true, err
		}
		if err := checkStrings(k, raw); err != nil {
			return 0, false, err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return 0, false, badRequest(errInvalidClientMetadata, "%s is not valid JSON", k)
		}
		m.Fields[k] = buf.Bytes()
		return 0, true, nil
	}
	// RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the
	// client that it does not understand".
	return 0, true, nil
}

func (v *validator) vendor(k string) bool {
	for _, p := range v.vendorFields {
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(k, pre) || p == k {
			return true
		}
	}
	return false
}

// checkField checks one known field and returns its normalised JSON (nil: drop it).
func checkField(k string, kind fieldKind, raw json.RawMessage) (json.RawMessage, any, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil, nil // null is the same as omitted
	}
	typeErr := func(want string) error {
		return badRequest(errInvalidClientMetadata, "%s must be %s", k, want)
	}
	switch kind {
	case kString, kURL:
		s, ok := jsonString(raw)
		if !ok {
			return nil, nil, typeErr("a string")
		}
		if hasControl(s) {
			return nil, nil, badRequest(errInvalidClientMetadata, "%s contains a control character (CR, LF, …): remove it", k)
		}
		if kind == kURL {
			if err := checkWebURL(k, s); err != nil {
				return nil, nil, err
			}
		}
		return raw, s, nil // a valid JSON string as sent
	case kStrings, kURLs:
		a, ok := jsonStrings(raw)
		if !ok {
			return nil, nil, typeErr("an array of strings")
		}
		if len(a) > maxArray {
			return nil, nil, badRequest(errInvalidClientMetadata, "%s has %d entries; at most %d are accepted", k, len(a), maxArray)
		}
		for _, s := range a {
			if hasControl(s) {
				code := errInvalidClientMetadata
				if k == "redirect_uris" {
					code = errInvalidRedirectURI
				}
				return nil, nil, badRequest(code, "an entry of %s contains a control character (CR, LF, …): remove it", k)
			}
			if kind == kURLs {
				if err := checkWebURL(k, s); err != nil {
					return nil, nil, err
				}
			}
		}
		if a == nil {
			a = []string{}
		}
		b, err := json.Marshal(a)
		return b, a, err
	case kObject:
		var o map[string]any
		if json.Unmarshal(raw, &o) != nil {
			return nil, nil, typeErr("a JSON object")
		}
		if err := checkStrings(k, raw); err != nil {
			return nil, nil, err
		}
		b, err := json.Marshal(o)
		return b, o, err
	case kNumber:
		var n float64
		if json.Unmarshal(raw, &n) != nil || n < 0 {
			return nil, nil, typeErr("a non-negative number")
		}
		b, err := json.Marshal(n)
		return b, n, err
	case kBool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, nil, typeErr("true or false")
		}
		out, err := json.Marshal(b)
		return out, b, err
	}
	return nil, nil, nil
}

// checkStrings rejects control characters in any string inside raw, and arrays over maxArray.
func checkStrings(k string, raw json.RawMessage) error {
	var x any
	if json.Unmarshal(raw, &x) != nil {
		return badRequest(errInvalidClientMetadata, "%s is not valid JSON", k)
	}
	var walk func(any, int) error
	walk = func(x any, depth int) error {
		if depth > 32 {
			return badRequest(errInvalidClientMetadata, "%s is nested too deeply", k)
		}
		switch t := x.(type) {
		case string:
			if hasControl(t) {
				return badRequest(errInvalidClientMetadata, "%s contains a control character (CR, LF, …): remove it", k)
			}
		case []any:
			if len(t) > maxArray {
				return badRequest(errInvalidClientMetadata, "%s has an array of %d entries; at most %d are accepted", k, len(t), maxArray)
			}
			for _, e := range t {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		case map[string]any:
			for kk, e := range t {
				if hasControl(kk) {
					return badRequest(errInvalidClientMetadata, "%s contains a control character (CR, LF, …): remove it", k)
				}
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(x, 0)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

func validLangTag(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i, part := range strings.Split(t, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) < 2) {
			return false
		}
		for _, c := range part {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

// checkWebURL accepts absolute http(s) URLs for informational URIs (RFC 7591 §2).
func checkWebURL(k, s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badRequest(errInvalidClientMetadata, "%s must be an absolute http or https URL, got %q", k, s)
	}
	return nil
}

// dangerousSchemes can run code or read local files in a browser; never a redirect target.
var dangerousSchemes = []string{"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "view-source", "jar", "ws", "wss", "ftp"}

// checkRedirectURI enforces RFC 6749 §3.1.2 (absolute, no fragment) and RFC 8252 §7 (loopback
// http, private-use schemes, https).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return badRequest(errInvalidRedirectURI, "redirect URI %q is not a valid URI", s)
	case !u.IsAbs():
		// RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
		return badRequest(errInvalidRedirectURI, "redirect URI %q is relative: use an absolute URI", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		// RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component".
		return badRequest(errInvalidRedirectURI, "redirect URI %q has a fragment: remove it", s)
	case slices.Contains(dangerousSchemes, strings.ToLower(u.Scheme)):
		return badRequest(errInvalidRedirectURI, "redirect URI %q uses the %s: scheme, which is not allowed: use https, a loopback http URI or a private-use scheme", s, u.Scheme)
	case u.User != nil:
		return badRequest(errInvalidRedirectURI, "redirect URI %q has user info: remove it", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		if !isLoopback(u.Hostname()) {
			return badRequest(errInvalidRedirectURI, "redirect URI %q uses plain http on a non-loopback host: use https, or http://127.0.0.1, http://[::1] or http://localhost", s)
		}
	case "https":
		if u.Host == "" {
			return badRequest(errInvalidRedirectURI, "redirect URI %q has no host", s)
		}
	default:
		// RFC 8252 §7.1 private-use URI scheme, e.g. com.example.app:/oauth2redirect.
		if u.Host == "" && u.Opaque == "" && u.Path == "" {
			return badRequest(errInvalidRedirectURI, "redirect URI %q has no path: use e.g. %s:/callback", s, u.Scheme)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectMatches compares a requested redirect URI with a registered one: exact string match
// (query included), except that a loopback http URI matches on any port (RFC 8252 §7.3: "The
// authorization server MUST allow any port to be specified at the time of the request for
// loopback IP redirect URIs").
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	ru, err1 := url.Parse(registered)
	qu, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || ru.Scheme != "http" || qu.Scheme != "http" || !isLoopback(ru.Hostname()) {
		return false
	}
	return ru.Hostname() == qu.Hostname() && qu.User == nil && qu.Fragment == "" &&
		ru.EscapedPath() == qu.EscapedPath() && ru.RawQuery == qu.RawQuery && validPort(qu.Port())
}

func validPort(p string) bool {
	if p == "" {
		return true
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return false
		}
	}
	return true
}

// semantics applies defaults and checks the relations between fields.
func (v *validator) semantics(m *metadata) error {
	var jwks, jwksURI bool
	_, jwks = m.Fields["jwks"]
	_, jwksURI = m.Fields["jwks_uri"]
	if jwks && jwksURI {
		// RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present".
		return badRequest(errInvalidClientMetadata, "jwks and jwks_uri are both present: send only one")
	}
	if err := checkFlows(m); err != nil {
		return err
	}
	if err := v.authMethod(m); err != nil {
		return err
	}
	if err := v.redirects(m); err != nil {
		return err
	}
	if raw, ok := m.Fields["id_token_signed_response_alg"]; ok {
		var alg string
		json.Unmarshal(raw, &alg)
		if alg != "RS256" {
			return badRequest(errInvalidClientMetadata, "id_token_signed_response_alg %q is not supported: this server signs ID tokens with RS256", alg)
		}
	}
	if at, ok := m.Fields["application_type"]; ok {
		var s string
		json.Unmarshal(at, &s)
		if s != "web" && s != "native" {
			return badRequest(errInvalidClientMetadata, "application_type %q is not web or native", s)
		}
	}
	v.narrowScope(m)
	m.storeTyped()
	return nil
}

// checkFlows defaults, checks and reconciles grant_types and response_types (RFC 7591 §2.1).
func checkFlows(m *metadata) error {
	_, hasGrants := m.Fields["grant_types"]
	_, hasResp := m.Fields["response_types"]
	switch {
	case !hasGrants && !hasResp:
		m.GrantTypes, m.ResponseTypes = []string{"authorization_code"}, []string{"code"}
	case !hasGrants:
		m.GrantTypes = []string{}
		if slices.Contains(m.ResponseTypes, "code") {
			m.GrantTypes = []string{"authorization_code"}
		}
	case !hasResp:
		m.ResponseTypes = []string{}
		if slices.Contains(m.GrantTypes, "authorization_code") {
			m.ResponseTypes = []string{"code"}
		}
	}
	m.GrantTypes = dedupe(m.GrantTypes)
	m.ResponseTypes = dedupe(m.ResponseTypes)
	for _, g := range m.GrantTypes {
		if !slices.Contains(supportedGrants, g) {
			return badRequest(errInvalidClientMetadata, "grant type %q is not supported: use %s", g, strings.Join(supportedGrants, ", "))
		}
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return badRequest(errInvalidClientMetadata, "response type %q is not supported: use \"code\" (with grant type authorization_code) or none", rt)
		}
	}
	// RFC 7591 §2.1: the grant types and response types must be consistent.
	if slices.Contains(m.GrantTypes, "authorization_code") != slices.Contains(m.ResponseTypes, "code") {
		return badRequest(errInvalidClientMetadata, "grant_types %q and response_types %q disagree: authorization_code goes with code, other grant types with no response type", m.GrantTypes, m.ResponseTypes)
	}
	return nil
}

// authMethod defaults and checks token_endpoint_auth_method against the server's methods.
func (v *validator) authMethod(m *metadata) error {
	if m.AuthMethod == "" {
		m.AuthMethod = "client_secret_basic"
		if methods := v.policy().AuthMethods; !slices.Contains(methods, m.AuthMethod) {
			m.AuthMethod = methods[0] // the server's own default (Behaviour.AuthMethods)
		}
	}
	if methods := v.policy().AuthMethods; !slices.Contains(methods, m.AuthMethod) {
		return badRequest(errInvalidClientMetadata, "token_endpoint_auth_method %q is not supported: use %s", m.AuthMethod, strings.Join(methods, ", "))
	}
	if m.AuthMethod == "none" && slices.Contains(m.GrantTypes, "client_credentials") {
		return badRequest(errInvalidClientMetadata, "client_credentials needs a confidential client: use token_endpoint_auth_method client_secret_basic or client_secret_post")
	}
	return nil
}

// redirects checks the redirect URIs: required with authorization_code, each one valid.
func (v *validator) redirects(m *metadata) error {
	if slices.Contains(m.GrantTypes, "authorization_code") && len(m.RedirectURIs) == 0 {
		return badRequest(errInvalidRedirectURI, "redirect_uris is required with grant type authorization_code: register at least one")
	}
	for _, u := range m.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return err
		}
		if pu, _ := url.Parse(u); !v.policy().AllowLocalhost && pu.Scheme == "http" && pu.Hostname() == "localhost" {
			return badRequest(errInvalidRedirectURI, "redirect URI %q uses localhost, which this server refuses (RFC 8252 §8.3): use http://127.0.0.1 or http://[::1]", u)
		}
	}
	return nil
}

// narrowScope keeps the scopes the server knows, each once; none left: no scope member.
func (v *validator) narrowScope(m *metadata) {
	if _, ok := m.Fields["scope"]; ok {
		var keep []string
		for _, sc := range strings.Fields(m.Scope) {
			if slices.Contains(v.scopes, sc) && !slices.Contains(keep, sc) {
				keep = append(keep, sc)
			}
		}
		// Unknown scopes are dropped (RFC 7591 §2: the server may replace the requested scope).
		m.Scope = strings.Join(keep, " ")
		if m.Scope == "" {
			delete(m.Fields, "scope")
		}
	}
	if m.Scope != "" {
		m.Fields["scope"], _ = json.Marshal(m.Scope)
	}
}

// storeTyped writes the members the server acts on back into Fields, as decided.
func (m *metadata) storeTyped() {
	m.Fields["grant_types"], _ = json.Marshal(m.GrantTypes)
	m.Fields["response_types"], _ = json.Marshal(m.ResponseTypes)
	m.Fields["token_endpoint_auth_method"], _ = json.Marshal(m.AuthMethod)
	if m.RedirectURIs != nil {
		m.Fields["redirect_uris"], _ = json.Marshal(m.RedirectURIs)
	}
}

func dedupe(a []string) []string {
	out := make([]string, 0, len(a))
	for _, s := range a {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// jsonString decodes a JSON value that is a string (raw valid JSON), as encoding/json does,
// without it when the string has no escapes and is valid UTF-8: most metadata values and
// member names are, and checking a registration's fields was a tenth of its CPU time.
func jsonString(raw []byte) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : n-1]), true // no escape: no quote inside either
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// jsonStrings decodes a JSON array of strings (raw valid JSON) as jsonString does, with
// encoding/json for anything but a flat array of UTF-8 strings without escapes.
func jsonStrings(raw []byte) ([]string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' || bytes.IndexByte(t, '\\') >= 0 || !utf8.Valid(t) {
		return jsonStringsSlow(raw)
	}
	body := bytes.TrimSpace(t[1 : len(t)-1])
	out := []string{}
	for len(body) > 0 {
		if body[0] != '"' {
			return jsonStringsSlow(raw)
		}
		end := bytes.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return jsonStringsSlow(raw)
		}
		out = append(out, string(body[1:end]))
		body = bytes.TrimSpace(body[end+1:])
		if len(body) > 0 {
			if body[0] != ',' {
				return jsonStringsSlow(raw)
			}
			body = bytes.TrimSpace(body[1:])
			if len(body) == 0 {
				return jsonStringsSlow(raw) // a trailing comma: not JSON
			}
		}
	}
	return out, true
}

func jsonStringsSlow(raw []byte) ([]string, bool) {
	var a []string
	return a, json.Unmarshal(raw, &a) == nil
}
