package testserver

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Behaviour is the set of switches that make the server behave like a particular
// authorization server in the ways that break DCR clients. Every field is one switch; its
// YAML name (the yaml tag) is how the configuration's behaviour: map and Profile.Sources name
// it. The zero value is not meaningful: start from a Profile (ProfileBehaviour) and change
// fields.
//
// Each switch is checked in one place in the handlers; the field comment says where the
// behaviour shows.
type Behaviour struct {
	// Registration is the registration mode when Config.Registration is empty.
	Registration Mode `yaml:"registration"`
	// RegistrationPath is the registration endpoint below the issuer; the RFC 7592 client
	// configuration endpoint is RegistrationPath + "/{client_id}".
	RegistrationPath string `yaml:"registration_path"`
	// RegisterStatus is the status of a successful registration: 201 (RFC 7591 §3.2.1) or 200.
	RegisterStatus int `yaml:"register_status"`
	// Management turns RFC 7592 on; off, responses carry no registration_access_token or
	// registration_client_uri and the client configuration endpoint answers 404.
	Management bool `yaml:"management"`
	// RotateRegistrationToken and RotateClientSecret say when RFC 7592 reads and updates
	// return a new registration access token or client secret. Config.RotateRegistrationToken
	// and Config.RotateClientSecret, when set, win.
	RotateRegistrationToken Rotation `yaml:"rotate_registration_access_token"`
	RotateClientSecret      Rotation `yaml:"rotate_client_secret"`
	// GetOmits lists members removed from RFC 7592 read (GET) responses, e.g. client_secret
	// even when it was just rotated.
	GetOmits []string `yaml:"get_omits"`
	// UnknownMembers is what registration does with client metadata it does not know
	// (neither RFC 7591, OpenID Connect Registration, nor Config.VendorFields).
	UnknownMembers MemberPolicy `yaml:"unknown_members"`
	// LangMembers is what registration does with language-tagged members such as
	// client_name#ja-Jpan-JP (RFC 7591 §2.2).
	LangMembers MemberPolicy `yaml:"lang_members"`
	// VendorMembers is what registration does with members listed in Config.VendorFields.
	VendorMembers MemberPolicy `yaml:"vendor_members"`
	// NullMembers makes responses carry null for the RFC 7591 members a client did not set.
	NullMembers bool `yaml:"null_members"`
	// ResponseExtras are members added to every client information response (vendor
	// members a server adds on its own), unless the client's metadata has them.
	ResponseExtras map[string]any `yaml:"response_extras"`
	// DiscoveryRegistrationEndpoint shows registration_endpoint in discovery.
	DiscoveryRegistrationEndpoint bool `yaml:"discovery_registration_endpoint"`
	// DiscoveryHide lists members left out of both discovery documents (the endpoints they
	// name are still served).
	DiscoveryHide []string `yaml:"discovery_hide"`
	// IssuerTrailingSlash makes the issuer in discovery, ID tokens and introspection end
	// with "/" (endpoint URLs do not get a double slash).
	IssuerTrailingSlash bool `yaml:"issuer_trailing_slash"`
	// LoopbackAnyPort lets a loopback redirect URI match on any port (RFC 8252 §7.3); off,
	// the port must match exactly.
	LoopbackAnyPort bool `yaml:"loopback_any_port"`
	// AllowLocalhost accepts http://localhost redirect URIs (RFC 8252 §8.3 says NOT
	// RECOMMENDED); off, only the loopback IP literals are accepted for plain http.
	AllowLocalhost bool `yaml:"allow_localhost"`
	// PKCERequired makes public clients send a code_challenge (RFC 9700 §2.1.1).
	PKCERequired bool `yaml:"pkce_required"`
	// PKCEPlain accepts code_challenge_method=plain besides S256 (RFC 7636 §4.2).
	PKCEPlain bool `yaml:"pkce_plain"`
	// InitialTokenUses is how many registrations one initial access token authorises, when
	// Config.InitialTokenUses is 0.
	InitialTokenUses Uses `yaml:"initial_token_uses"`
	// MissingScopeStatus answers a registration whose token lacks the dcr scope: 403
	// insufficient_scope (RFC 6750 §3.1) or 401 invalid_token.
	MissingScopeStatus int `yaml:"missing_scope_status"`
	// CORS answers browsers on the registration, client configuration and token endpoints
	// (Access-Control-Allow-Origin: * and preflight OPTIONS); discovery and JWKS always do.
	CORS bool `yaml:"cors"`
	// AuthMethods are the token_endpoint_auth_method values registration accepts and
	// discovery advertises. A registration without one gets client_secret_basic (RFC 7591
	// §2) if listed, else the first.
	AuthMethods []string `yaml:"auth_methods"`
}

// MemberPolicy is what registration does with a kind of client metadata member.
type MemberPolicy string

// Member policies.
const (
	// MemberKeep stores the member and echoes it in responses.
	MemberKeep MemberPolicy = "keep"
	// MemberStrip drops it silently (RFC 7591 §2: "MUST ignore" unknown metadata).
	MemberStrip MemberPolicy = "strip"
	// MemberReject answers 400 invalid_client_metadata naming the member.
	MemberReject MemberPolicy = "reject"
)

// Profile is a named bundle of switches: how a server people deploy against behaves.
type Profile struct {
	// Name is what --behave-like and behave_like: take.
	Name string
	// Description says which server and version range the profile describes.
	Description string
	// Behaviour is the bundle.
	Behaviour Behaviour
	// Sources maps a switch's YAML name to the public source of the profile's value for it
	// (vendor documentation, source file, issue). Switches at their strict value need none.
	Sources map[string]string
}

// DefaultProfile is the profile of a Config without BehaveLike.
const DefaultProfile = "strict"

// strictBehaviour is the server's own behaviour: the RFCs' MUSTs and SHOULDs.
func strictBehaviour() Behaviour {
	return Behaviour{
		Registration:                  ModeClient,
		RegistrationPath:              pathRegister,
		RegisterStatus:                201,
		Management:                    true,
		RotateRegistrationToken:       RotateNever,
		RotateClientSecret:            RotateNever,
		UnknownMembers:                MemberStrip,
		LangMembers:                   MemberKeep,
		VendorMembers:                 MemberKeep,
		DiscoveryRegistrationEndpoint: true,
		LoopbackAnyPort:               true,
		AllowLocalhost:                true,
		PKCERequired:                  true,
		InitialTokenUses:              1,
		MissingScopeStatus:            403,
		AuthMethods:                   slices.Clone(supportedAuthMethods),
	}
}

// Profiles returns every profile, strict first, then by name. The result is a copy: change
// it freely.
func Profiles() []Profile {
	with := func(f func(*Behaviour)) Behaviour { b := strictBehaviour(); f(&b); return b }
	return []Profile{{
		Name:        "strict",
		Description: "dcrctl's own behaviour: RFC 7591/7592 as written (the default)",
		Behaviour:   strictBehaviour(),
		Sources:     map[string]string{},
	}, {
		Name:        "curity",
		Description: "Curity Identity Server: dcr-scoped single-use initial tokens, templates, rotation on every RFC 7592 read and update",
		Behaviour: with(func(b *Behaviour) {
			b.RotateRegistrationToken = RotateOnReadAndUpdate
			b.RotateClientSecret = RotateOnReadAndUpdate
		}),
		Sources: map[string]string{
			"initial_token_uses":               "curity.io/resources/learn/using-dynamic-client-registration (\"a one-time token with the dcr scope\")",
			"rotate_registration_access_token": "curity.io/resources/learn/dynamic-client-registration-management (\"A GET or PUT request would automatically rotate\")",
			"rotate_client_secret":             "curity.io/resources/learn/dynamic-client-registration-management (GET and PUT rotate the secret too)",
		},
	}, {
		Name:        "hydra",
		Description: "Ory Hydra 2.x with oidc.dynamic_client_registration.enabled",
		Behaviour: with(func(b *Behaviour) {
			b.RegistrationPath = "/oauth2/register"
			b.DiscoveryRegistrationEndpoint = false
			b.NullMembers = true
			b.ResponseExtras = map[string]any{"jwks": map[string]any{}, "metadata": map[string]any{}, "skip_consent": false,
				"skip_logout_consent": false, "audience": []any{}, "allowed_cors_origins": []any{}, "owner": "", "subject_type": "public"}
			b.GetOmits = []string{"client_secret"}
			b.RotateRegistrationToken = RotateOnUpdate
			b.Registration = ModeOpen
		}),
		Sources: map[string]string{
			"registration":                     "ory.sh/docs/hydra/guides/oauth2-clients (OpenID dynamic client registration needs no token to register)",
			"registration_path":                "ory/hydra#2909 (POST/GET/PUT/DELETE /oauth2/register on the public port)",
			"discovery_registration_endpoint":  "ory/hydra configuration: registration_endpoint is published only when webfinger.oidc_discovery.client_registration_url is set",
			"null_members":                     "ory/hydra client.Client JSON: unset members are returned (null / empty)",
			"response_extras":                  "ory/hydra client.Client JSON: jwks {}, metadata, skip_consent, audience, allowed_cors_origins, owner",
			"get_omits":                        "ory hydra OidcApi docs: the client_secret is returned at registration \"and you will not be able to retrieve it later on\"",
			"rotate_registration_access_token": "ory/hydra#2909 (a new registration access token on every PUT); ory/hydra#4093 (admin PATCH wipes it)",
		},
	}, {
		Name:        "keycloak",
		Description: "Keycloak's openid-connect client registration provider (realm \"dcrctl\")",
		Behaviour: with(func(b *Behaviour) {
			b.RegistrationPath = "/realms/dcrctl/clients-registrations/openid-connect"
			b.UnknownMembers = MemberReject
			b.LangMembers = MemberReject
			b.VendorMembers = MemberReject
			b.RotateRegistrationToken = RotateOnReadAndUpdate
			b.InitialTokenUses = 10
			b.PKCERequired = false
			b.PKCEPlain = true
		}),
		Sources: map[string]string{
			"registration_path":                "keycloak.org/securing-apps/client-registration (endpoint /realms/<realm>/clients-registrations/<provider>)",
			"unknown_members":                  "keycloak/keycloak#14946, #22323 (400 Unrecognized field)",
			"lang_members":                     "keycloak/keycloak#14946 (OIDCClientRepresentation has no client_name#lang property: 400)",
			"vendor_members":                   "keycloak/keycloak#14946 (every member outside OIDCClientRepresentation is refused)",
			"rotate_registration_access_token": "keycloak.org/securing-apps/client-registration (\"the registration access token is only valid once\"; each GET and PUT returns a new one; the secret is kept)",
			"initial_token_uses":               "keycloak.org/securing-apps/client-registration (initial access tokens have an expiration and a count of clients they may create)",
			"pkce_required":                    "Keycloak client advanced settings: PKCE method is optional (unset) by default",
			"pkce_plain":                       "Keycloak client advanced settings: \"Proof Key for Code Exchange Code Challenge Method\" plain or S256",
			"cors":                             "keycloak/keycloak#8863, #39629 (no CORS on DCR; added by keycloak/keycloak#43625 in later releases)",
		},
	}, {
		Name:        "mcp-sdk",
		Description: "the authorization server of the MCP TypeScript SDK (mcpAuthRouter)",
		Behaviour: with(func(b *Behaviour) {
			b.Registration = ModeOpen
			b.Management = false
			b.IssuerTrailingSlash = true
			b.LoopbackAnyPort = false
			b.AuthMethods = []string{"client_secret_post", "none"}
			b.CORS = true
			b.DiscoveryHide = []string{"jwks_uri", "userinfo_endpoint", "introspection_endpoint", "device_authorization_endpoint",
				"subject_types_supported", "id_token_signing_alg_values_supported", "claims_supported"}
		}),
		Sources: map[string]string{
			"registration":          "modelcontextprotocol/typescript-sdk src/server/auth/handlers/register.ts (open registration, no token)",
			"management":            "modelcontextprotocol/typescript-sdk src/server/auth/router.ts (no RFC 7592 routes)",
			"issuer_trailing_slash": "modelcontextprotocol/typescript-sdk src/server/auth/router.ts (issuer: issuer.href, so an origin gets \"/\")",
			"loopback_any_port":     "PrefectHQ/fastmcp#3588, #3598 (exact redirect matching breaks random loopback ports)",
			"auth_methods":          "modelcontextprotocol/typescript-sdk src/server/auth/router.ts (token_endpoint_auth_methods_supported [client_secret_post]; register.ts issues none clients)",
			"cors":                  "modelcontextprotocol/typescript-sdk src/server/auth/handlers/*.ts (cors() on register and token, for MCP Inspector)",
			"discovery_hide":        "modelcontextprotocol/typescript-sdk src/server/auth/router.ts (the metadata has no jwks_uri, userinfo, introspection or device endpoint, nor OpenID members)",
		},
	}, {
		Name:        "oidc-provider",
		Description: "panva/node-oidc-provider with features.registration and registrationManagement",
		Behaviour: with(func(b *Behaviour) {
			b.RegistrationPath = "/reg"
			b.RotateRegistrationToken = RotateOnUpdate
			b.MissingScopeStatus = 401
			b.VendorMembers = MemberStrip
			b.LangMembers = MemberStrip
			b.ResponseExtras = map[string]any{"application_type": "web", "subject_type": "public", "id_token_signed_response_alg": "RS256",
				"require_auth_time": false, "require_pushed_authorization_requests": false, "dpop_bound_access_tokens": false,
				"post_logout_redirect_uris": []any{}}
		}),
		Sources: map[string]string{
			"registration_path":                "node-oidc-provider docs: routes.registration default /reg",
			"rotate_registration_access_token": "node-oidc-provider docs: features.registrationManagement.rotateRegistrationAccessToken (rotated on update)",
			"missing_scope_status":             "node-oidc-provider lib/actions/registration.js (a token that is not an initial access token: 401 invalid_token)",
			"vendor_members":                   "node-oidc-provider: members not in extraClientMetadata.properties are stripped (panva/node-oidc-provider#555 thread shows the echoed metadata)",
			"lang_members":                     "node-oidc-provider 9.x as run by the interop tests: client_name#de is not echoed (no language-tagged members configured)",
			"response_extras":                  "node-oidc-provider 9.x as run by the interop tests: application_type, subject_type, id_token_signed_response_alg, require_auth_time, require_pushed_authorization_requests, dpop_bound_access_tokens, post_logout_redirect_uris defaults",
		},
	}}
}

// ProfileBehaviour returns the bundle of the named profile ("" is DefaultProfile).
func ProfileBehaviour(name string) (Behaviour, error) {
	if name == "" {
		name = DefaultProfile
	}
	for _, p := range Profiles() {
		if p.Name == name {
			return p.Behaviour, nil
		}
	}
	return Behaviour{}, fmt.Errorf("unknown behaviour profile %q: use one of %s", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames lists the profile names in the order of Profiles.
func ProfileNames() []string {
	var n []string
	for _, p := range Profiles() {
		n = append(n, p.Name)
	}
	return n
}

// SwitchNames lists the YAML names of every Behaviour field, in field order.
func SwitchNames() []string {
	t := reflect.TypeFor[Behaviour]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("yaml")
	}
	return names
}

// Get returns the value of the switch with the YAML name name, and whether there is one.
func (b Behaviour) Get(name string) (any, bool) {
	v := reflect.ValueOf(b)
	for i, n := range SwitchNames() {
		if n == name {
			return v.Field(i).Interface(), true
		}
	}
	return nil, false
}

// resolveBehaviour is the effective behaviour of cfg: the profile, the explicit Config fields
// that predate profiles, then cfg.Switches.
func resolveBehaviour(cfg Config) (Behaviour, error) {
	b, err := ProfileBehaviour(cfg.BehaveLike)
	if err != nil {
		return Behaviour{}, err
	}
	if cfg.Behaviour != nil {
		b = *cfg.Behaviour
		b.GetOmits, b.AuthMethods, b.DiscoveryHide = slices.Clone(b.GetOmits), slices.Clone(b.AuthMethods), slices.Clone(b.DiscoveryHide)
	}
	if cfg.RotateRegistrationToken != "" {
		b.RotateRegistrationToken = cfg.RotateRegistrationToken
	}
	if cfg.RotateClientSecret != "" {
		b.RotateClientSecret = cfg.RotateClientSecret
	}
	if cfg.InitialTokenUses != 0 {
		b.InitialTokenUses = cfg.InitialTokenUses
	}
	if len(cfg.Switches) > 0 {
		// The switches are decoded with YAML onto the bundle, so that a switch not named
		// keeps the profile's value and a misspelt one is an error.
		raw, err := yaml.Marshal(cfg.Switches)
		if err != nil {
			return Behaviour{}, fmt.Errorf("behaviour: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&b); err != nil {
			return Behaviour{}, fmt.Errorf("behaviour: %w (switches: %s)", err, strings.Join(SwitchNames(), ", "))
		}
	}
	return b, b.check()
}

func (s *Server) behaviour(cfg Config) (Behaviour, error) { return resolveBehaviour(cfg) }

func (b *Behaviour) check() error {
	for _, p := range []MemberPolicy{b.UnknownMembers, b.LangMembers, b.VendorMembers} {
		if p != MemberKeep && p != MemberStrip && p != MemberReject {
			return fmt.Errorf("behaviour: member policy %q: use keep, strip or reject", p)
		}
	}
	for _, r := range []Rotation{b.RotateClientSecret, b.RotateRegistrationToken} {
		switch r {
		case RotateNever, RotateOnUpdate, RotateOnReadAndUpdate:
		default:
			return fmt.Errorf("unknown rotation policy %q: use never, update or read-update", r)
		}
	}
	if b.InitialTokenUses == 0 {
		b.InitialTokenUses = 1
	}
	if _, err := ParseMode(string(b.Registration)); err != nil {
		return err
	}
	switch {
	case !strings.HasPrefix(b.RegistrationPath, "/") || strings.HasSuffix(b.RegistrationPath, "/") || strings.ContainsAny(b.RegistrationPath, "{}?#"):
		return fmt.Errorf("behaviour: registration_path %q must start with / and not end with one", b.RegistrationPath)
	case b.RegisterStatus != 200 && b.RegisterStatus != 201:
		return fmt.Errorf("behaviour: register_status %d: use 201 or 200", b.RegisterStatus)
	case b.MissingScopeStatus != 401 && b.MissingScopeStatus != 403:
		return fmt.Errorf("behaviour: missing_scope_status %d: use 403 or 401", b.MissingScopeStatus)
	case len(b.AuthMethods) == 0:
		return fmt.Errorf("behaviour: auth_methods is empty: list some of %s", strings.Join(supportedAuthMethods, ", "))
	}
	for _, m := range b.AuthMethods {
		if !slices.Contains(supportedAuthMethods, m) {
			return fmt.Errorf("behaviour: auth_methods: %q is not one of %s", m, strings.Join(supportedAuthMethods, ", "))
		}
	}
	for _, k := range b.DiscoveryHide {
		if k == "issuer" {
			return fmt.Errorf("behaviour: discovery_hide: issuer is REQUIRED (RFC 8414 §2) and cannot be hidden")
		}
	}
	if _, err := json.Marshal(b.ResponseExtras); err != nil {
		return fmt.Errorf("behaviour: response_extras: %w", err)
	}
	return nil
}

// nullable are the RFC 7591 §2 members a NullMembers response shows as null when unset.
var nullable = []string{"client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri", "contacts", "software_id", "software_version", "scope"}

// shapeResponse applies the response switches to a client information object.
func (b *Behaviour) shapeResponse(out map[string]json.RawMessage, read bool) {
	if b.NullMembers {
		for _, k := range nullable {
			if _, ok := out[k]; !ok {
				out[k] = json.RawMessage("null")
			}
		}
	}
	for k, v := range b.ResponseExtras {
		if cur, ok := out[k]; !ok || string(cur) == "null" {
			out[k], _ = json.Marshal(v)
		}
	}
	if read {
		for _, k := range b.GetOmits {
			delete(out, k)
		}
	}
}

// Behaviour returns the effective switches of the server (a copy: changing it changes
// nothing).
func (s *Server) Behaviour() Behaviour {
	b := s.beh
	b.GetOmits, b.AuthMethods, b.DiscoveryHide = slices.Clone(b.GetOmits), slices.Clone(b.AuthMethods), slices.Clone(b.DiscoveryHide)
	if b.ResponseExtras != nil {
		b.ResponseExtras = maps.Clone(b.ResponseExtras)
	}
	return b
}

// iss is the issuer identifier as the server states it (discovery, ID tokens, introspection,
// the RFC 9207 iss parameter): with a trailing slash if the behaviour says so.
func (s *Server) iss() string {
	if s.beh.IssuerTrailingSlash {
		return s.issuer + "/"
	}
	return s.issuer
}

// cors lets browsers call an endpoint when the behaviour has CORS on: every origin may read
// the response (the endpoints use bearer tokens or client credentials, never cookies), and a
// preflight OPTIONS is answered here.
func (s *Server) cors(h http.HandlerFunc) http.HandlerFunc {
	if !s.beh.CORS {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Expose-Headers", "WWW-Authenticate, ETag, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
			hd.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

// registerURL is the registration endpoint; clientURL a client's configuration endpoint.
func (s *Server) registerURL() string { return s.url(s.beh.RegistrationPath) }

func (s *Server) clientURL(id string) string { return s.url(s.beh.RegistrationPath + "/" + id) }

// challengeMethods are the PKCE code_challenge_method values accepted (RFC 7636 §4.3).
func (s *Server) challengeMethods() []string {
	if s.beh.PKCEPlain {
		return []string{"S256", "plain"}
	}
	return []string{"S256"}
}

// operatorValidator checks the operator's own metadata (static clients, templates) by the
// RFCs alone: the behaviour's member and auth method policies are for registration requests.
func (s *Server) operatorValidator() *validator {
	v := s.validator()
	v.beh = nil
	return v
}
