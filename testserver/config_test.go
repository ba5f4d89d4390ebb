package testserver

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("testdata/example-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"issuer": cfg.Issuer, "mode": cfg.Registration, "uses": cfg.InitialTokenUses,
		"rat": cfg.RotateRegistrationToken, "secret": cfg.RotateClientSecret,
		"access": cfg.Lifetimes.AccessToken, "poll": cfg.Lifetimes.DevicePollInterval,
		"clients": len(cfg.Clients), "templates": len(cfg.Templates), "users": len(cfg.Users),
		"template0": cfg.Templates[0].ID, "allowed1": cfg.Templates[1].AllowedClients,
		"ss": len(cfg.SoftwareStatementIssuers), "behave_like": cfg.BehaveLike, "behaviour": cfg.Switches,
		"cimd": cfg.CIMD,
	}
	want := map[string]any{
		"issuer": "http://127.0.0.1:8414", "mode": ModeClient, "uses": Uses(1),
		"rat": RotateOnUpdate, "secret": RotateNever, "access": time.Hour, "poll": 5 * time.Second,
		"clients": 2, "templates": 2, "users": 2, "template0": "mobile-app", "allowed1": []string{"ci-bootstrap"},
		"ss": 1, "behave_like": "strict", "behaviour": map[string]any{"cors": true},
		"cimd": CIMD{Enabled: true, CacheSize: 1000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// The example runs: the CI client registers a backend-service instance and gets a token.
	e := start(t, func(c *Config) {
		iss := c.Issuer
		*c = cfg
		c.Issuer = iss
	})
	boot := e.cfg.Clients[0]
	tok := e.form("/token", map[string][]string{"grant_type": {"client_credentials"}, "scope": {"dcr"}}, boot.ClientID, boot.ClientSecret)
	r := e.jsonReq(http.MethodPost, "/register", str(tok.Body["access_token"]), map[string]any{"software_id": "backend-service"})
	if r.Status != 201 || r.Body["scope"] != "api.read" {
		t.Errorf("register backend-service: %d %v", r.Status, r.Body["error_description"])
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown_key", "issuer: http://x\nregistraton: open\n", "registraton"},
		{"bad_uses", "initial_token_uses: twice\n", "initial_token_uses"},
		{"not_yaml", "issuer: [\n", "yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"no_issuer", func(c *Config) { c.Issuer = "" }},
		{"issuer_with_query", func(c *Config) { c.Issuer = "http://127.0.0.1:1/?x=1" }},
		{"issuer_not_http", func(c *Config) { c.Issuer = "ftp://127.0.0.1" }},
		{"bad_mode", func(c *Config) { c.Registration = "sometimes" }},
		{"bad_rotation", func(c *Config) { c.RotateClientSecret = "always" }},
		{"bad_template", func(c *Config) { c.Templates[0].Metadata["redirect_uris"] = []any{"javascript:x"} }},
		{"duplicate_client", func(c *Config) { c.Clients = append(c.Clients, c.Clients[0]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mut(&cfg)
			if s, err := New(cfg); err == nil {
				s.Close()
				t.Error("New accepted the config")
			}
		})
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	mut := func(c *Config) {
		c.DBPath = db
		c.Clients[0].ClientSecret = "" // generated on first start, kept in the database
	}
	e := start(t, mut)
	secret := e.cfg.Clients[0].ClientSecret
	c := e.mustRegister(t, ccMetadata)
	jwks := getJSON(t, e, e.url("/jwks")).Raw
	inst := e.mustRegister(t, map[string]any{"software_id": DefaultTemplate})
	callback(t, e.browserLogin(loginParams(DefaultNativeClient, "http://127.0.0.1:1/callback", "openid"), DefaultUser, DefaultUserPassword))
	e.hs.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := start(t, mut)
	e2.hc.Jar = e.hc.Jar // the same browser: its SSO session survives the restart
	req, _ := http.NewRequest(http.MethodGet, e2.url("/authorize?"+loginParams(inst.ID, "http://127.0.0.1:2/callback", "openid").Encode()), nil)
	if sso := e2.do(req); sso.Status != http.StatusFound || callback(t, sso).Get("code") == "" {
		t.Errorf("after restart the SSO session or the template instance is gone: %d", sso.Status)
	}
	g := e2.jsonReq(http.MethodGet, e2.url("/register/"+c.ID), c.RAT, nil)
	tok := e2.form("/token", map[string][]string{"grant_type": {"client_credentials"}}, c.ID, c.Secret)
	got := []any{e2.cfg.Clients[0].ClientSecret == secret, g.Status, g.Body["client_name"], tok.Status, getJSON(t, e2, e2.url("/jwks")).Raw == jwks}
	want := []any{true, 200, "cc", 200, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after restart [same bootstrap secret, GET status, client_name, token status, same key] = %v, want %v", got, want)
	}
}

func TestSchemaVersionNewerRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	cfg := DefaultConfig()
	cfg.DBPath = db
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.store.(*store).w.Exec("PRAGMA user_version = 99")
	s.Close()
	if s, err := New(cfg); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Errorf("err = %v", err)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	cfg := DefaultConfig()
	for _, v := range []any{cfg.Clients[0], cfg.Users[0]} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			out := sprintf(f, v)
			if strings.Contains(out, cfg.Clients[0].ClientSecret) || strings.Contains(out, "password:\"demo\"") || strings.Contains(out, `Password:"demo"`) {
				t.Errorf("%s prints a secret", f)
			}
		}
	}
}

func TestSweepDeletesExpired(t *testing.T) {
	e := start(t, nil)
	old := e.bootstrapToken("dcr")
	e.advance(26 * time.Hour)
	fresh := e.bootstrapToken("dcr")
	cursor := []byte{}
	for range 3 { // a pass over the table, then the wrap-around
		var err error
		if cursor, err = e.srv.store.sweep(t.Context(), *e.now, cursor); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	e.srv.store.(*store).r.QueryRow(`SELECT count(*) FROM tokens`).Scan(&n)
	oldRow, _ := e.srv.store.token(t.Context(), tokenKey(old))
	freshRow, _ := e.srv.store.token(t.Context(), tokenKey(fresh))
	if got := [3]any{n, oldRow == nil, freshRow != nil}; got != [3]any{1, true, true} {
		t.Errorf("[rows, old gone, fresh kept] = %v", got)
	}
}

func TestCachedRowsInvalidated(t *testing.T) {
	e := start(t, func(c *Config) { c.InitialTokenUses = Reusable; c.RotateClientSecret = RotateOnUpdate })
	boot := e.cfg.Clients[0]
	at := e.bootstrapToken("dcr")
	c := e.mustRegister(t, ccMetadata)
	// Use both once so that they are cached.
	first := e.jsonReq(http.MethodPost, "/register", at, ccMetadata).Status
	tok1 := e.form("/token", map[string][]string{"grant_type": {"client_credentials"}}, c.ID, c.Secret).Status
	// Revoke the token; rotate the secret.
	e.form("/revoke", map[string][]string{"token": {at}}, boot.ClientID, boot.ClientSecret)
	p := e.jsonReq(http.MethodPut, c.URI, c.RAT, map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}})
	after := e.jsonReq(http.MethodPost, "/register", at, ccMetadata).Status
	oldSecret := e.form("/token", map[string][]string{"grant_type": {"client_credentials"}}, c.ID, c.Secret).Status
	newSecret := e.form("/token", map[string][]string{"grant_type": {"client_credentials"}}, c.ID, str(p.Body["client_secret"])).Status
	e.jsonReq(http.MethodDelete, c.URI, c.RAT, nil)
	deleted := e.form("/token", map[string][]string{"grant_type": {"client_credentials"}}, c.ID, str(p.Body["client_secret"])).Status
	if got, want := []int{first, tok1, after, oldSecret, newSecret, deleted}, []int{201, 200, 401, 401, 200, 401}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
