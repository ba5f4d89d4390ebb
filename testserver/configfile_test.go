package testserver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadConfigErrorsNameKeysAndLines: every error names the line and the key path in the
// file's terms — what to write there — and never a Go type name.
func TestLoadConfigErrorsNameKeysAndLines(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"mode", "issuer: http://x\nregistration: sometimes\n",
			`line 2: registration: "sometimes" is not a registration mode: use open, client, user or disabled`},
		{"mode_list", "registration: [open]\n",
			`line 1: registration: a list is not a registration mode: use open, client, user or disabled`},
		{"rotation", "rotate_client_secret: always\n",
			`line 1: rotate_client_secret: "always" is not a rotation policy: use never, update or read-update`},
		{"uses", "scopes: [dcr]\ninitial_token_uses: twice\n",
			`line 2: initial_token_uses: "twice" is not single, reusable or a positive number`},
		{"clients_not_list", "clients: 3\n",
			"line 1: clients: want a list of mappings (- key: value), not 3"},
		{"grant_types_string_map", "clients:\n  - client_id: a\n    grant_types: {x: 1}\n",
			"line 3: clients[0].grant_types: want a list of strings, not a mapping"},
		{"duration", "lifetimes:\n  session: soon\n",
			`line 2: lifetimes.session: want a duration such as 90s, 10m or 1h, not "soon"`},
		{"number", "max_conns: many\n", `line 1: max_conns: want a whole number, not "many"`},
		{"secret_not_repeated", "users:\n  - username: a\n    password: [hunter2]\n",
			"line 3: users[0].password: want a string, not a list"},
		{"unknown_key_typo", "issuer: http://x\nregistraton: open\n", "line 2: unknown key registraton: did you mean registration?"},
		{"unknown_nested", "clients:\n  - client_id: a\n    secret: x\n",
			"line 3: unknown key clients[0].secret: the keys there are client_id, client_name, client_secret, grant_types, redirect_uris, scope, templates, token_endpoint_auth_method"},
		{"top_level_list", "- a\n", "line 1: the file: want a mapping (key: value), not a list"},
		{"not_yaml", "issuer: [\n", "yaml: line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "testserver.") || strings.Contains(err.Error(), "[]string") ||
				strings.Contains(err.Error(), "time.Duration") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err = %v: names a Go type or repeats a secret", err)
			}
		})
	}
}

// TestLoadConfigOverMerges: keys the file leaves out keep the zero configuration's values, a
// list the file sets replaces the default list whole, and mappings are merged member by
// member; base itself is not changed.
func TestLoadConfigOverMerges(t *testing.T) {
	base := ServeDefaults()
	base.Switches = map[string]any{"cors": true}
	p := writeConfig(t, "registration: open\nusers:\n  - {username: alice, password: pw}\nlifetimes:\n  session: 2h\nbehaviour:\n  register_status: 200\n")
	c, err := LoadConfigOver(p, base)
	if err != nil {
		t.Fatal(err)
	}
	want := ServeDefaults()
	want.Registration = ModeOpen
	want.Users = []User{{Username: "alice", Password: "pw"}}
	want.Lifetimes.Session = 2 * time.Hour
	want.Switches = map[string]any{"cors": true, "register_status": 200}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("merged:\n%#v\nwant\n%#v", c, want)
	}
	if len(base.Switches) != 1 || len(base.Users) != 1 || base.Users[0].Username != DefaultUser {
		t.Errorf("base changed: %v %v", base.Switches, base.Users)
	}
}

// TestCheckRegistration: a configuration in which nobody can register in its mode is
// refused, naming the key to add; the zero configuration passes in every mode.
func TestCheckRegistration(t *testing.T) {
	login := ClientConfig{ClientID: "app", TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code"},
		RedirectURIs: []string{"http://127.0.0.1/callback"}, Scope: "openid dcr"}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string // "" = accepted
	}{
		{"defaults_client", func(c *Config) {}, ""},
		{"defaults_user", func(c *Config) { c.Registration = ModeUser }, ""},
		{"open_without_clients", func(c *Config) { c.Registration, c.Clients = ModeOpen, nil }, ""},
		{"disabled_without_anything", func(c *Config) { c.Registration, c.Clients, c.Users = ModeDisabled, nil, nil }, ""},
		{"profile_open", func(c *Config) { c.BehaveLike, c.Clients = "mcp-sdk", nil }, ""},
		{"client_no_clients", func(c *Config) { c.Clients = nil }, "registration: client: no client can get an initial access token (client credentials grant, scope dcr): add one under clients:"},
		{"client_only_public", func(c *Config) { c.Clients = []ClientConfig{login} }, "add one under clients: (client_id: ci, grant_types: [client_credentials], scope: dcr)"},
		{"client_without_dcr", func(c *Config) {
			c.Clients = []ClientConfig{{ClientID: "ci", ClientSecret: "s", Scope: "openid"}}
		}, "registration: client: no client can get an initial access token"},
		{"client_scope_empty_means_all", func(c *Config) { c.Clients = []ClientConfig{{ClientID: "ci", ClientSecret: "s"}} }, ""},
		{"scopes_without_dcr", func(c *Config) { c.Scopes = []string{"openid"} }, "registration: client: initial access tokens carry the scope dcr, which scopes: leaves out: add dcr to scopes:"},
		{"user_no_users", func(c *Config) { c.Registration, c.Users = ModeUser, nil }, "registration: user: nobody can log in: add a user under users:"},
		{"user_only_bootstrap", func(c *Config) { c.Registration, c.Clients = ModeUser, c.Clients[:1] }, "registration: user: no client that users log in with can get scope dcr: add one under clients: (client_id: dcrctl"},
		{"user_login_without_redirect", func(c *Config) {
			l := login
			l.RedirectURIs = nil
			c.Registration, c.Clients = ModeUser, []ClientConfig{l}
		}, "registration: user: no client that users log in with"},
		{"user_login_client", func(c *Config) { c.Registration, c.Clients = ModeUser, []ClientConfig{login} }, ""},
		{"user_device_client", func(c *Config) {
			c.Registration, c.Clients = ModeUser, []ClientConfig{{ClientID: "tv", TokenEndpointAuthMethod: "none", GrantTypes: []string{grantDevice}}}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ServeDefaults()
			tc.mut(&c)
			err := c.CheckRegistration()
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
