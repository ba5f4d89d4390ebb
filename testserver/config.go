package testserver

import (
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Mode says who may use the registration endpoint (RFC 7591 §3).
type Mode string

// Registration modes.
const (
	// ModeOpen accepts registrations without an initial access token.
	ModeOpen Mode = "open"
	// ModeClient requires an initial access token with scope "dcr" obtained with the
	// client_credentials grant (client-authenticated registration). The zero Mode means this.
	ModeClient Mode = "client"
	// ModeUser requires an initial access token with scope "dcr" obtained by a user login
	// (authorization code or device grant).
	ModeUser Mode = "user"
	// ModeDisabled turns the registration endpoint off: it answers 404 and discovery omits it.
	ModeDisabled Mode = "disabled"
)

// UnmarshalYAML accepts the names of the modes; anything else is an error naming the line.
func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseMode(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || err != nil {
		return newValueError(n, "registration", "a registration mode: use open, client, user or disabled")
	}
	if n.Value == "" {
		v = ""
	}
	*m = v
	return nil
}

// Rotation says when a credential is replaced by a new one (RFC 7592 §2.1, §2.2 allow it).
type Rotation string

// Rotation policies.
const (
	// RotateNever keeps the credential. The zero Rotation means this.
	RotateNever Rotation = "never"
	// RotateOnUpdate issues a new credential with every successful PUT.
	RotateOnUpdate Rotation = "update"
	// RotateOnReadAndUpdate issues a new credential with every GET and PUT (Curity's behaviour).
	RotateOnReadAndUpdate Rotation = "read-update"
)

// UnmarshalYAML accepts never, update or read-update.
func (r *Rotation) UnmarshalYAML(n *yaml.Node) error {
	switch v := Rotation(strings.TrimSpace(n.Value)); v {
	case "", RotateNever, RotateOnUpdate, RotateOnReadAndUpdate:
		if n.Kind == yaml.ScalarNode {
			*r = v
			return nil
		}
	}
	return newValueError(n, "rotation", "a rotation policy: use never, update or read-update")
}

// Uses is how many registrations one initial access token may authorise. 0 means the default,
// a single use; Reusable (-1) means no limit. In YAML: "single", "reusable" or a number.
type Uses int

// Reusable is the Uses value of an initial access token without a use limit.
const Reusable Uses = -1

// UnmarshalYAML accepts "single", "reusable" or a positive number.
func (u *Uses) UnmarshalYAML(n *yaml.Node) error {
	switch s := strings.TrimSpace(n.Value); s {
	case "single", "":
		*u = 1
	case "reusable", "unlimited":
		*u = Reusable
	default:
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return newValueError(n, "initial_token_uses", "single, reusable or a positive number")
		}
		*u = Uses(v)
	}
	return nil
}

// Config describes a Server. The zero value is usable apart from Issuer: no clients, no users,
// client-authenticated registration, an in-memory database and the default lifetimes.
type Config struct {
	// Issuer is the issuer identifier (RFC 8414 §2): an http(s) URL without query or fragment,
	// where the server is reachable. It is required; every endpoint is below it. A trailing
	// slash is removed (the issuer in discovery and tokens is then the URL without it).
	Issuer string `yaml:"issuer"`
	// Registration is the registration mode; "" means the behaviour profile's (ModeClient
	// for the default, strict).
	Registration Mode `yaml:"registration"`
	// DBPath is the SQLite database file; "" keeps everything in memory (lost on Close).
	// New creates its directory (mode 0700) if needed; see DefaultDBPath for the usual place.
	// A postgres:// or postgresql:// URL (IsPostgres) is a PostgreSQL database instead, which
	// several replicas may share (README "PostgreSQL: several replicas"); RedactDB prints it.
	DBPath string `yaml:"db"`
	// InitialTokenUses limits the registrations per initial access token; 0 = single use.
	InitialTokenUses Uses `yaml:"initial_token_uses"`
	// RotateRegistrationToken and RotateClientSecret are the RFC 7592 rotation policies.
	RotateRegistrationToken Rotation `yaml:"rotate_registration_access_token"`
	RotateClientSecret      Rotation `yaml:"rotate_client_secret"`
	// Lifetimes of the things the server issues; zero fields take the defaults.
	Lifetimes Lifetimes `yaml:"lifetimes"`
	// Scopes the server knows; "" or nil means DefaultScopes. Registered clients may ask for
	// these; unknown scopes in a registration are dropped.
	Scopes []string `yaml:"scopes"`
	// Clients are static clients (bootstrap clients, native apps); they cannot be changed with
	// RFC 7592.
	Clients []ClientConfig `yaml:"clients"`
	// Templates are template clients: {"software_id": ID} registers an instance of one.
	Templates []TemplateConfig `yaml:"templates"`
	// Users may log in on the login page.
	Users []User `yaml:"users"`
	// VendorFields lists the non-standard client metadata names that are stored and echoed;
	// a trailing "*" matches a prefix. Other unknown metadata is ignored (RFC 7591 §2).
	VendorFields []string `yaml:"vendor_fields"`
	// BehaveLike names a behaviour profile (see Profiles): "strict" (the default), "curity",
	// "keycloak", "hydra", "oidc-provider" or "mcp-sdk".
	BehaveLike string `yaml:"behave_like"`
	// Switches sets single behaviour switches over the profile's bundle, by their YAML names
	// (see Behaviour and SwitchNames), e.g. {"cors": true, "register_status": 200}.
	Switches map[string]any `yaml:"behaviour"`
	// SoftwareStatementIssuers maps a trusted software statement issuer ("iss") to its key:
	// a PEM public key, RSA (RS256) or ECDSA P-256 (ES256), or, prefixed with "hs256:", a
	// shared secret of at least 32 bytes (HS256). A statement must be signed with that
	// key's algorithm; exp, nbf and iat are checked against Now with a minute of leeway.
	SoftwareStatementIssuers map[string]string `yaml:"software_statement_issuers"`

	// CIMD turns on Client ID Metadata Documents: an https URL as client_id (see CIMD).
	CIMD CIMD `yaml:"cimd"`

	// DebugPage configures the debugger page at I/debug (see DebugPage).
	DebugPage DebugPage `yaml:"debug_page"`

	// MaxConns caps the connections Serve keeps open at once; 0 means DefaultMaxConns.
	// Idle keep-alive connections are closed after a few seconds; at the cap an idle one,
	// or one without a complete request for a second, is closed to make room.
	MaxConns int `yaml:"max_conns"`
	// TLS, if set, makes Serve answer HTTPS with it.
	TLS *tls.Config `yaml:"-"`
	// SigningKey signs ID tokens. Nil: the key stored in the database, or a new one that is
	// then stored (an in-memory database shares one key per process).
	SigningKey *rsa.PrivateKey `yaml:"-"`
	// Logger receives one structured line per request (method, path, status, duration);
	// never query strings, headers or bodies. Nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Behaviour, if set, replaces the BehaveLike profile's bundle (Switches still apply over it).
	Behaviour *Behaviour `yaml:"-"`
	// ResourcePath, if set (e.g. "/mcp"), serves a protected resource below the issuer at that
	// path, for MCP-style clients (README "A protected resource"): its RFC 9728 metadata, a 401
	// naming that metadata, and 200 for an access token whose audience (RFC 8707) it is.
	ResourcePath string `yaml:"resource_path"`
	// ControlToken, if set, turns the control API on (README "Control API"): below the issuer
	// at /_control/, for loopback callers presenting it as a bearer token.
	ControlToken string `yaml:"-"`
	// FakeClock, if set, is the server's clock (Now is then ignored); Server.AdvanceClock
	// moves it.
	FakeClock *FakeClock `yaml:"-"`
	// Seed, if not 0, makes client ids, secrets and tokens the same on every run with the same
	// seed and the same requests (a ChaCha8 stream replaces Rand; ids count up instead of
	// following the clock). The signing key is not derived from it. For tests only.
	Seed uint64 `yaml:"seed"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `yaml:"-"`
	// Rand is the source of every identifier and secret; nil means crypto/rand.
	Rand io.Reader `yaml:"-"`
}

// Lifetimes of issued artefacts. Zero means the default given with each field.
type Lifetimes struct {
	AccessToken  time.Duration `yaml:"access_token"`  // 1h
	RefreshToken time.Duration `yaml:"refresh_token"` // 720h
	Code         time.Duration `yaml:"code"`          // 1m
	IDToken      time.Duration `yaml:"id_token"`      // 1h
	Session      time.Duration `yaml:"session"`       // 24h
	DeviceCode   time.Duration `yaml:"device_code"`   // 10m
	// DevicePollInterval is the minimum polling interval of the device grant; 5s.
	DevicePollInterval time.Duration `yaml:"device_poll_interval"`
	// ClientSecret is how long a registered client's secret lives; 0 = never expires.
	ClientSecret time.Duration `yaml:"client_secret"`
}

// DefaultScopes are the scopes of a Config without Scopes.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access", "dcr"}

// ClientConfig is a static client.
type ClientConfig struct {
	ClientID string `yaml:"client_id"`
	// ClientSecret of a confidential client. Empty for a confidential client (one whose
	// TokenEndpointAuthMethod is not "none") means: generate a secret on the first start of
	// the database and keep it there; Server.Config reports it.
	ClientSecret string `yaml:"client_secret"`
	// TokenEndpointAuthMethod defaults to client_secret_basic, GrantTypes to
	// client_credentials; Server.Config reports them with the defaults filled in.
	TokenEndpointAuthMethod string   `yaml:"token_endpoint_auth_method"`
	GrantTypes              []string `yaml:"grant_types"`
	RedirectURIs            []string `yaml:"redirect_uris"`
	// Scope is the space-separated list of scopes the client may obtain.
	Scope string `yaml:"scope"`
	// Templates this client's tokens may instantiate; "*" means all. A template with its own
	// AllowedClients list overrides this.
	Templates  []string `yaml:"templates"`
	ClientName string   `yaml:"client_name"`
}

// String hides the secret.
func (c ClientConfig) String() string {
	return fmt.Sprintf("ClientConfig{ClientID:%q ClientSecret:%s}", c.ClientID, redacted(c.ClientSecret))
}

// GoString hides the secret.
func (c ClientConfig) GoString() string { return c.String() }

// TemplateConfig is a template client. Instances reference it: their effective metadata is
// always the template's current metadata.
type TemplateConfig struct {
	// ID is the template's identifier, sent as software_id.
	ID string `yaml:"id"`
	// Metadata is RFC 7591 client metadata, validated like a registration request.
	Metadata map[string]any `yaml:"metadata"`
	// AllowedClients are the client ids whose initial access tokens may instantiate this
	// template; empty means any caller (and in open mode anyone).
	AllowedClients []string `yaml:"allowed_clients"`
}

// User is a person who can log in on the login page.
type User struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Name     string `yaml:"name"`
	Email    string `yaml:"email"`
}

// String hides the password.
func (u User) String() string {
	return fmt.Sprintf("User{Username:%q Password:%s}", u.Username, redacted(u.Password))
}

// GoString hides the password.
func (u User) GoString() string { return u.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// Names used by DefaultConfig.
const (
	DefaultIssuer          = "http://127.0.0.1:8414"
	DefaultBootstrapClient = "bootstrap"
	DefaultNativeClient    = "dcrctl"
	DefaultTemplate        = "native-app"
	DefaultUser            = "demo"
	DefaultUserPassword    = "demo"
)

// DefaultConfig is the zero-configuration server: issuer DefaultIssuer, client-authenticated
// registration, an in-memory database, and
//   - the bootstrap client "bootstrap" (client_credentials, scope "dcr", every template) with a
//     freshly generated secret in Clients[0].ClientSecret;
//   - the public native client "dcrctl" (authorization code with PKCE on a loopback redirect,
//     refresh tokens, device grant; scopes openid profile email offline_access dcr), for
//     user-authenticated registration;
//   - the template "native-app": a public native client with redirect http://127.0.0.1/callback;
//   - the demo user "demo" with password "demo".
func DefaultConfig() Config {
	return Config{
		Issuer: DefaultIssuer,
		// Registration "" is the behaviour profile's mode: client-authenticated for strict.
		VendorFields: []string{"x_*"},
		Clients: []ClientConfig{{
			ClientID:                DefaultBootstrapClient,
			ClientSecret:            newSecret(nil),
			TokenEndpointAuthMethod: "client_secret_basic",
			GrantTypes:              []string{"client_credentials"},
			Scope:                   "dcr",
			Templates:               []string{"*"},
			ClientName:              "dcrctl bootstrap client",
		}, {
			ClientID:                DefaultNativeClient,
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token", grantDevice},
			RedirectURIs:            []string{"http://127.0.0.1/callback"},
			Scope:                   "openid profile email offline_access dcr",
			Templates:               []string{"*"},
			ClientName:              "dcrctl",
		}},
		Templates: []TemplateConfig{{
			ID: DefaultTemplate,
			Metadata: map[string]any{
				"client_name":                "Native app (template " + DefaultTemplate + ")",
				"application_type":           "native",
				"token_endpoint_auth_method": "none",
				"grant_types":                []any{"authorization_code", "refresh_token"},
				"response_types":             []any{"code"},
				"redirect_uris":              []any{"http://127.0.0.1/callback"},
				"scope":                      "openid profile email offline_access",
			},
		}},
		Users: []User{{Username: DefaultUser, Password: DefaultUserPassword, Name: "Demo User", Email: "demo@example.com"}},
	}
}

func (l Lifetimes) withDefaults() Lifetimes {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.AccessToken, time.Hour)
	def(&l.RefreshToken, 720*time.Hour)
	def(&l.Code, time.Minute)
	def(&l.IDToken, time.Hour)
	def(&l.Session, 24*time.Hour)
	def(&l.DeviceCode, 10*time.Minute)
	def(&l.DevicePollInterval, 5*time.Second)
	return l
}

// withDefaults fills in the defaults of a static client.
func (c ClientConfig) withDefaults() ClientConfig {
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = "client_secret_basic"
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"client_credentials"}
	}
	return c
}
