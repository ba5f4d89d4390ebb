package client

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Metadata is client metadata: every field of RFC 7591 §2, the OpenID Connect Dynamic Client
// Registration 1.0 §2 fields (with the logout extensions), and the vendor extensions in
// common use (Curity's). It is what a registration request carries and what a registration
// response echoes.
//
// Decoding keeps everything: language-tagged members of the human-readable fields
// (RFC 7591 §2.2, "client_name#ja-Jpan-JP") go to Localized, and every other member without a
// field goes to Extra, byte for byte, so that decode → encode sends back what the server
// sent. Slices distinguish absent (nil, not encoded) from empty (non-nil, encoded as []);
// numbers and booleans are pointers so that an explicit 0 or false survives.
//
// A member whose value is null is treated as absent, on read, on update and in print: it is
// not decoded (not even into Extra), so it is neither sent back nor shown. An empty string is
// likewise not encoded. RFC 7591 §2 gives null no meaning; servers that send it (Ory Hydra
// does for every unset member) treat an absent member the same.
type Metadata struct {
	// RFC 7591 §2.
	RedirectURIs            []string        `json:"redirect_uris,omitzero"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitzero"`
	ResponseTypes           []string        `json:"response_types,omitzero"`
	ClientName              string          `json:"client_name,omitempty"`
	ClientURI               string          `json:"client_uri,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	Scope                   string          `json:"scope,omitempty"` // space-separated
	Contacts                []string        `json:"contacts,omitzero"`
	TOSURI                  string          `json:"tos_uri,omitempty"`
	PolicyURI               string          `json:"policy_uri,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"` // a JWK Set, kept as raw JSON
	SoftwareID              string          `json:"software_id,omitempty"`
	SoftwareVersion         string          `json:"software_version,omitempty"`
	SoftwareStatement       string          `json:"software_statement,omitempty"` // RFC 7591 §2.3: a signed JWT

	// OpenID Connect Dynamic Client Registration 1.0 §2.
	ApplicationType              string   `json:"application_type,omitempty"` // "web" or "native"
	SectorIdentifierURI          string   `json:"sector_identifier_uri,omitempty"`
	SubjectType                  string   `json:"subject_type,omitempty"`
	IDTokenSignedResponseAlg     string   `json:"id_token_signed_response_alg,omitempty"`
	IDTokenEncryptedResponseAlg  string   `json:"id_token_encrypted_response_alg,omitempty"`
	IDTokenEncryptedResponseEnc  string   `json:"id_token_encrypted_response_enc,omitempty"`
	UserinfoSignedResponseAlg    string   `json:"userinfo_signed_response_alg,omitempty"`
	UserinfoEncryptedResponseAlg string   `json:"userinfo_encrypted_response_alg,omitempty"`
	UserinfoEncryptedResponseEnc string   `json:"userinfo_encrypted_response_enc,omitempty"`
	RequestObjectSigningAlg      string   `json:"request_object_signing_alg,omitempty"`
	RequestObjectEncryptionAlg   string   `json:"request_object_encryption_alg,omitempty"`
	RequestObjectEncryptionEnc   string   `json:"request_object_encryption_enc,omitempty"`
	TokenEndpointAuthSigningAlg  string   `json:"token_endpoint_auth_signing_alg,omitempty"`
	DefaultMaxAge                *int64   `json:"default_max_age,omitempty"` // seconds
	RequireAuthTime              *bool    `json:"require_auth_time,omitempty"`
	DefaultACRValues             []string `json:"default_acr_values,omitzero"`
	InitiateLoginURI             string   `json:"initiate_login_uri,omitempty"`
	RequestURIs                  []string `json:"request_uris,omitzero"`

	// OpenID Connect RP-Initiated, Front-Channel and Back-Channel Logout 1.0.
	PostLogoutRedirectURIs            []string `json:"post_logout_redirect_uris,omitzero"`
	FrontchannelLogoutURI             string   `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired *bool    `json:"frontchannel_logout_session_required,omitempty"`
	BackchannelLogoutURI              string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  *bool    `json:"backchannel_logout_session_required,omitempty"`

	// Vendor extensions (Curity Identity Server's DCR API).
	AccessTokenTTL       *int64   `json:"access_token_ttl,omitempty"`  // seconds
	RefreshTokenTTL      *int64   `json:"refresh_token_ttl,omitempty"` // seconds; 0 = no refresh token
	RequiresConsent      *bool    `json:"requires_consent,omitempty"`
	AllowedOrigins       []string `json:"allowed_origins,omitzero"`
	AuthenticatorFilters []string `json:"authenticator_filters,omitzero"`

	// Localized holds language-tagged variants of the human-readable fields (RFC 7591 §2.2),
	// keyed by the full member name: "client_name#ja-Jpan-JP" → "クライアント名".
	// Build keys with [LocalizedKey].
	Localized map[string]string `json:"-"`

	// Extra holds every other member, exactly as received (vendor extensions, newer
	// standards). It must not repeat a member that has a field above.
	Extra map[string]json.RawMessage `json:"-"`
}

// localizable lists the members that may carry a language tag (RFC 7591 §2.2: the
// human-readable strings and the URIs that point at human-readable pages or images).
var localizable = map[string]bool{"client_name": true, "client_uri": true, "logo_uri": true, "tos_uri": true, "policy_uri": true}

// LocalizedKey returns the member name of field in language tag (BCP 47), such as
// LocalizedKey("client_name", "ja-Jpan-JP") = "client_name#ja-Jpan-JP".
func LocalizedKey(field, tag string) string { return field + "#" + tag }

// check refuses metadata that no server may accept, before it is sent. It never refuses
// what a server itself returned: an empty jwks object ({}, as Ory Hydra answers for a client
// without keys) is accepted, and counts as no keys.
func (m Metadata) check() error {
	var set struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if len(m.JWKS) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(m.JWKS, &obj); err != nil || obj == nil || json.Unmarshal(m.JWKS, &set) != nil {
			return fmt.Errorf(`jwks must be a JWK Set, a JSON object {"keys": [...]} (RFC 7591 §2, RFC 7517 §5)`)
		}
	}
	// RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present in the
	// same request or response."
	if m.JWKSURI != "" && set.Keys != nil {
		return fmt.Errorf("jwks and jwks_uri are both set: RFC 7591 §2 allows only one; keep jwks_uri if the keys are published, jwks otherwise")
	}
	return nil
}

// registrationMembers are the members of a registration response that are not metadata.
var registrationMembers = map[string]bool{
	"client_id": true, "client_secret": true, "client_id_issued_at": true,
	"client_secret_expires_at": true, "registration_access_token": true, "registration_client_uri": true,
}

type plainMetadata Metadata

// UnmarshalJSON decodes a JSON object into m, keeping language-tagged members in Localized
// and unknown ones in Extra.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	return m.decode(data, nil)
}

// decode decodes data, dropping the members named in skip.
func (m *Metadata) decode(data []byte, skip map[string]bool) error {
	var p plainMetadata
	known, rest, err := splitObject(data, namesOf(p), skip)
	if err != nil {
		return err
	}
	if err := decodeKnown(known, &p); err != nil {
		return err
	}
	for k, v := range rest {
		base, tag, ok := strings.Cut(k, "#")
		var s string
		if ok && tag != "" && localizable[base] && json.Unmarshal(v, &s) == nil {
			if p.Localized == nil {
				p.Localized = map[string]string{}
			}
			p.Localized[k] = s
			continue
		}
		if p.Extra == nil {
			p.Extra = map[string]json.RawMessage{}
		}
		p.Extra[k] = v
	}
	*m = Metadata(p)
	return nil
}

// MarshalJSON encodes the fields in declaration order, then Localized and Extra sorted by
// name. A Localized key that is not "<human-readable field>#<tag>", or an Extra member that
// repeats another member, is an error.
func (m Metadata) MarshalJSON() ([]byte, error) {
	var w objectWriter
	if err := m.encode(&w); err != nil {
		return nil, err
	}
	return w.bytes(), nil
}

func (m Metadata) encode(w *objectWriter) error {
	b, err := marshal(plainMetadata(m))
	if err != nil {
		return err
	}
	w.trusted(b, namesOf(plainMetadata{}))
	loc := make(map[string]json.RawMessage, len(m.Localized))
	for k, v := range m.Localized {
		base, tag, ok := strings.Cut(k, "#")
		if !ok || tag == "" || !localizable[base] {
			return fmt.Errorf("Localized key %q: want <field>#<language tag> with field one of client_name, client_uri, logo_uri, tos_uri, policy_uri", k)
		}
		loc[k], _ = marshal(v)
	}
	if err := w.sorted(loc); err != nil {
		return err
	}
	for k := range m.Extra {
		if namesOf(plainMetadata{})[k] {
			return fmt.Errorf("Extra member %q has a field of its own: set the field instead", k)
		}
	}
	if err := w.sorted(m.Extra); err != nil {
		return fmt.Errorf("Extra: %w", err)
	}
	return nil
}
