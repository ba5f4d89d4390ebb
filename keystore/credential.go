package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Credential is one registered client instance: what RFC 7591 §3.2.1 returns, plus local
// bookkeeping. ClientSecret, RegistrationAccessToken, RefreshToken and AccessToken are
// secrets: they are
// kept only in the secret store, never in the index, and never printed — Credential's
// Format method redacts them in every fmt verb.
type Credential struct {
	Name                  string    `json:"name"`                              // local name, chosen by the user
	Issuer                string    `json:"issuer,omitempty"`                  // the authorization server's issuer
	ClientID              string    `json:"client_id,omitempty"`               // RFC 7591 §3.2.1
	RegistrationClientURI string    `json:"registration_client_uri,omitempty"` // RFC 7592 §3
	Template              string    `json:"template,omitempty"`                // template (software_id) it was registered from
	GrantTypes            []string  `json:"grant_types,omitempty"`
	RedirectURIs          []string  `json:"redirect_uris,omitempty"`
	IssuedAt              time.Time `json:"issued_at,omitzero"`         // client_id_issued_at
	SecretExpiresAt       time.Time `json:"secret_expires_at,omitzero"` // client_secret_expires_at; zero = never

	ClientSecret            string `json:"client_secret,omitempty"`             // secret
	RegistrationAccessToken string `json:"registration_access_token,omitempty"` // secret
	RefreshToken            string `json:"refresh_token,omitempty"`             // secret

	// AccessToken is the last access token dcrctl login got as this client (secret), kept
	// so that the next login reuses it while valid; TokenExpiry (zero = unknown) and
	// TokenScope describe it.
	AccessToken string    `json:"access_token,omitempty"` // secret
	TokenExpiry time.Time `json:"token_expiry,omitzero"`
	TokenScope  string    `json:"token_scope,omitempty"`

	// The endpoints given explicitly when the client was registered (a server whose
	// discovery lacks them, or has none); "" means discover from Issuer.
	TokenEndpoint               string `json:"token_endpoint,omitempty"`
	AuthorizationEndpoint       string `json:"authorization_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// Resource is the protected resource (RFC 9728) the client was registered for; its
	// tokens are requested for it (RFC 8707).
	Resource string `json:"resource,omitempty"`

	// Keystore is where the secrets are kept: "os", "file" or "memory". Get and List set
	// it; Put ignores it (the secrets go to the store Put is called on).
	Keystore string `json:"keystore,omitempty"`

	// Registration is the last known full registration response minus its secrets
	// (optional). Put removes any top-level client_secret, registration_access_token or
	// refresh_token member before it reaches the index.
	Registration json.RawMessage `json:"registration,omitempty"`

	// LastRequest is the caller's record of the last register or update request it sent
	// for this client, as JSON (optional; package registrar keeps there the metadata it
	// sent, secrets redacted, and the members the server did not take as sent). It goes to
	// the index like Registration, so it must never hold a secret.
	LastRequest json.RawMessage `json:"last_request,omitempty"`
}

// HasSecrets reports whether any secret field is set.
func (c Credential) HasSecrets() bool {
	return c.ClientSecret != "" || c.RegistrationAccessToken != "" || c.RefreshToken != "" || c.AccessToken != ""
}

// withoutSecrets returns a deep copy of c with the secret fields empty.
func (c Credential) withoutSecrets() Credential {
	c = c.clone()
	c.ClientSecret, c.RegistrationAccessToken, c.RefreshToken, c.AccessToken = "", "", "", ""
	return c
}

// clone returns a deep copy of c, so that stores never share slices with callers.
func (c Credential) clone() Credential {
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.Registration = bytes.Clone(c.Registration)
	c.LastRequest = bytes.Clone(c.LastRequest)
	return c
}

// Format prints c with its secrets redacted, whatever the verb (%v, %+v, %#v, %s, %q, %d…),
// so that a credential can never leak through a log line or an error message.
func (c Credential) Format(f fmt.State, verb rune) {
	red := func(s string) string {
		if s == "" {
			return `""`
		}
		return "REDACTED"
	}
	fmt.Fprintf(f, "keystore.Credential{Name:%q Issuer:%q ClientID:%q RegistrationClientURI:%q "+
		"Template:%q GrantTypes:%q RedirectURIs:%q IssuedAt:%s SecretExpiresAt:%s "+
		"ClientSecret:%s RegistrationAccessToken:%s RefreshToken:%s AccessToken:%s TokenExpiry:%s TokenScope:%q TokenEndpoint:%q AuthorizationEndpoint:%q DeviceAuthorizationEndpoint:%q Resource:%q Keystore:%q Registration:%d bytes}",
		c.Name, c.Issuer, c.ClientID, c.RegistrationClientURI, c.Template, c.GrantTypes,
		c.RedirectURIs, c.IssuedAt.Format(time.RFC3339), c.SecretExpiresAt.Format(time.RFC3339),
		red(c.ClientSecret), red(c.RegistrationAccessToken), red(c.RefreshToken), red(c.AccessToken),
		c.TokenExpiry.Format(time.RFC3339), c.TokenScope, c.TokenEndpoint, c.AuthorizationEndpoint,
		c.DeviceAuthorizationEndpoint, c.Resource, c.Keystore,
		len(c.Registration))
}

// maxNameLen bounds a credential name; names are shown in tables and typed on command lines.
const maxNameLen = 200

// validName checks a credential name: non-empty, at most 200 bytes of UTF-8, no control
// characters and no leading or trailing space.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("the credential name is empty: give it a name")
	case len(name) > maxNameLen:
		return fmt.Errorf("the credential name is %d bytes long: use at most %d", len(name), maxNameLen)
	case !utf8.ValidString(name):
		return errors.New("the credential name is not valid UTF-8")
	case strings.TrimSpace(name) != name:
		return errors.New("the credential name starts or ends with a space: remove it")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errors.New("the credential name contains a control character: remove it")
	}
	return nil
}

// secretMembers are the registration response members that are secrets (RFC 7591 §3.2.1,
// plus refresh_token): they never go to the index.
var secretMembers = []string{"client_secret", "registration_access_token", "refresh_token", "access_token"}

// stripSecrets returns raw, compacted, without its top-level secret members. raw must be a
// JSON object (or empty). The other members, including unknown vendor extensions, keep their
// order and values.
func stripSecrets(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	bad := errors.New("the registration response is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, bad
		}
		if slices.Contains(secretMembers, key) {
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		if err := json.Compact(&out, val); err != nil {
			return nil, bad
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad // trailing data after the object
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// compactJSON returns raw compacted; the index is indented, so Registration comes back
// from it compacted, and Put compacts it for every store alike.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// secretBlob is what a secret store holds for one credential: its secrets, JSON-encoded.
type secretBlob struct {
	ClientSecret            string `json:"client_secret,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RefreshToken            string `json:"refresh_token,omitempty"`
	AccessToken             string `json:"access_token,omitempty"`
}

func blobOf(c Credential) secretBlob {
	return secretBlob{c.ClientSecret, c.RegistrationAccessToken, c.RefreshToken, c.AccessToken}
}

func (b secretBlob) empty() bool { return b == secretBlob{} }

func (b secretBlob) apply(c *Credential) {
	c.ClientSecret, c.RegistrationAccessToken, c.RefreshToken, c.AccessToken = b.ClientSecret, b.RegistrationAccessToken, b.RefreshToken, b.AccessToken
}

// splitChunks splits s into pieces of at most max bytes, cutting only between UTF-8
// sequences so that every piece is valid text on its own.
func splitChunks(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 { // max is smaller than one rune; cannot happen with our limits
			cut = max
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
