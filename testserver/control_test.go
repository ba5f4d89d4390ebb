package testserver

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const ctlToken = "control-token-for-tests"

func startControl(t *testing.T, mut func(*Config)) *env {
	return start(t, func(c *Config) {
		c.ControlToken = ctlToken
		if mut != nil {
			mut(c)
		}
	})
}

func (e *env) ctl(method, path string, body any) resp {
	e.t.Helper()
	return e.jsonReq(method, "/_control"+path, ctlToken, body)
}

func (e *env) mustCtl(method, path string, body any) resp {
	e.t.Helper()
	r := e.ctl(method, path, body)
	if r.Status != 200 {
		e.t.Fatalf("control %s %s: %d %s", method, path, r.Status, r.Body["error_description"])
	}
	return r
}

var ccClient = map[string]any{"grant_types": []string{"client_credentials"}, "scope": "openid"}

func TestControlAccess(t *testing.T) {
	off := start(t, nil)
	if r := off.jsonReq(http.MethodPost, "/_control/reset", ctlToken, nil); r.Status != 404 {
		t.Errorf("control API off by default: got %d", r.Status)
	}
	e := startControl(t, nil)
	for _, c := range []struct {
		name, token, remote string
		status              int
	}{
		{"loopback with token", ctlToken, "127.0.0.1:5000", 200},
		{"IPv6 loopback", ctlToken, "[::1]:5000", 200},
		{"no token", "", "127.0.0.1:5000", 401},
		{"wrong token", "nope", "127.0.0.1:5000", 401},
		{"not loopback", ctlToken, "192.0.2.7:5000", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodDelete, e.url("/_control/faults"), nil)
			req.RemoteAddr = c.remote
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
		})
	}
	if r := e.ctl(http.MethodPost, "/nothing", nil); r.Status != 404 {
		t.Errorf("unknown operation: %d", r.Status)
	}
}

func TestControlDeleteAndExpire(t *testing.T) {
	e := startControl(t, nil)
	c := e.register(ccClient).Body
	id, secret := str(c["client_id"]), str(c["client_secret"])
	cc := func() resp {
		return e.form("/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
	}
	if r := cc(); r.Status != 200 {
		t.Fatalf("token before: %d", r.Status)
	}
	e.mustCtl(http.MethodPost, "/clients/"+id+"/expire", nil)
	if r := cc(); r.Status != 401 || !strings.Contains(str(r.Body["error_description"]), "expired") {
		t.Errorf("token after expire: %d %v", r.Status, r.Body["error_description"])
	}
	e.mustCtl(http.MethodPost, "/clients/"+id+"/delete", nil)
	if r := e.jsonReq(http.MethodGet, str(c["registration_client_uri"]), str(c["registration_access_token"]), nil); r.Status != 401 {
		t.Errorf("RFC 7592 read after delete: %d", r.Status)
	}
	if r := e.ctl(http.MethodPost, "/clients/"+id+"/delete", nil); r.Status != 400 {
		t.Errorf("deleting a missing client: %d", r.Status)
	}
}

func TestControlRevoke(t *testing.T) {
	e := startControl(t, nil)
	boot := e.cfg.Clients[0]
	active := func(tok string) bool {
		r := e.form("/introspect", url.Values{"token": {tok}}, boot.ClientID, boot.ClientSecret)
		return r.Body["active"] == true
	}
	one, two := e.bootstrapToken("dcr"), e.bootstrapToken("dcr")
	e.mustCtl(http.MethodPost, "/tokens/revoke", map[string]string{"token": one})
	if active(one) || !active(two) {
		t.Errorf("after revoking one: active %v %v, want false true", active(one), active(two))
	}
	// A revoked initial access token no longer registers.
	if r := e.jsonReq(http.MethodPost, "/register", one, webClient); r.Status != 401 {
		t.Errorf("registration with a revoked token: %d", r.Status)
	}
	e.mustCtl(http.MethodPost, "/clients/"+boot.ClientID+"/revoke-tokens", nil)
	if active(two) {
		t.Error("a token of the client is still active")
	}
}

func TestControlFaults(t *testing.T) {
	e := startControl(t, nil)
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "token", "count": 2, "status": 429, "retry_after": 3})
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "token", "count": 1, "status": 401, "error": "invalid_client"})
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "registration", "count": 1, "status": 503})
	boot := e.cfg.Clients[0]
	tok := func() resp {
		return e.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}, boot.ClientID, boot.ClientSecret)
	}
	type got struct {
		Status      int
		Code, Retry string
		Challenge   bool
	}
	var seq []got
	for range 4 {
		r := tok()
		seq = append(seq, got{r.Status, str(r.Body["error"]), r.Header.Get("Retry-After"), strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic")})
	}
	exp := []got{{429, "temporarily_unavailable", "3", false}, {429, "temporarily_unavailable", "3", false}, {401, "invalid_client", "", true}, {200, "", "", false}}
	want(t, "token responses", seq, exp)
	r := e.jsonReq(http.MethodPost, "/register", e.bootstrapToken("dcr"), webClient)
	want(t, "registration under a 503 fault", []any{r.Status, r.Body["error"]}, []any{503, any("temporarily_unavailable")})

	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "discovery", "count": 1, "drop": true})
	// A fresh connection: on a reused one net/http would retry the GET by itself.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	_, err := fresh.Get(e.url("/.well-known/openid-configuration"))
	if err == nil {
		t.Error("a dropped connection answered")
	}
	if r := e.jsonReq(http.MethodGet, "/.well-known/openid-configuration", "", nil); r.Status != 200 {
		t.Errorf("after the drop: %d", r.Status)
	}
	for _, bad := range []map[string]any{{"endpoint": "nowhere", "count": 1, "status": 500}, {"endpoint": "token", "count": 0, "status": 500}, {"endpoint": "token", "count": 1, "status": 200}} {
		if r := e.ctl(http.MethodPost, "/faults", bad); r.Status != 400 {
			t.Errorf("%v: %d", bad, r.Status)
		}
	}
	// A delay alone: a slow endpoint. A client that gives up first gets nothing; once the
	// fault is used up (the client gave up after consuming it), requests are served again.
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "discovery", "count": 1, "delay": 30})
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := impatient.Get(e.url("/.well-known/openid-configuration")); err == nil {
		t.Error("a request held for 30 s answered within 100 ms")
	}
	if r := e.jsonReq(http.MethodGet, "/.well-known/openid-configuration", "", nil); r.Status != 200 {
		t.Errorf("after the delay fault: %d", r.Status)
	}
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "discovery", "count": 1, "delay": 0.01})
	if r := e.jsonReq(http.MethodGet, "/.well-known/openid-configuration", "", nil); r.Status != 200 || r.Body["issuer"] == nil {
		t.Errorf("a short delay, then served normally: %d %v", r.Status, r.Body)
	}
	e.mustCtl(http.MethodPost, "/faults", map[string]any{"endpoint": "token", "count": 5, "status": 500})
	e.mustCtl(http.MethodDelete, "/faults", nil)
	if r := tok(); r.Status != 200 {
		t.Errorf("after clearing: %d", r.Status)
	}
}

func TestControlSigningKey(t *testing.T) {
	e := startControl(t, nil)
	kid := func() string {
		r := e.jsonReq(http.MethodGet, "/jwks", "", nil)
		return str(r.Body["keys"].([]any)[0].(map[string]any)["kid"])
	}
	before := kid()
	got := str(e.mustCtl(http.MethodPost, "/signing-key/rotate", nil).Body["kid"])
	if got == before || kid() != got {
		t.Errorf("kid before %s, returned %s, published %s", before, got, kid())
	}
	tr := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1/callback", "openid")
	if h := strings.Split(str(tr.Body["id_token"]), ".")[0]; !strings.Contains(string(mustB64(t, h)), got) {
		t.Error("the ID token is not signed with the new key")
	}
}

func TestControlClock(t *testing.T) {
	if r := startControl(t, nil).ctl(http.MethodPost, "/clock/advance", map[string]any{"seconds": 1}); r.Status != 400 {
		t.Errorf("advancing the real clock: %d", r.Status)
	}
	clock := NewFakeClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	e := startControl(t, func(c *Config) { c.FakeClock = clock })
	boot := e.cfg.Clients[0]
	tok := e.bootstrapToken("dcr")
	r := e.mustCtl(http.MethodPost, "/clock/advance", map[string]any{"seconds": 3601})
	want(t, "now", r.Body["now"], any(float64(clock.Now().Unix())))
	if in := e.form("/introspect", url.Values{"token": {tok}}, boot.ClientID, boot.ClientSecret); in.Body["active"] != false {
		t.Error("a one-hour token is active after an hour")
	}
}

func TestControlTemplate(t *testing.T) {
	e := startControl(t, nil)
	c := e.register(map[string]any{"software_id": DefaultTemplate}).Body
	md := DefaultConfig().Templates[0].Metadata
	md["client_name"] = "Renamed at run time"
	e.mustCtl(http.MethodPut, "/templates/"+DefaultTemplate, md)
	r := e.jsonReq(http.MethodGet, str(c["registration_client_uri"]), str(c["registration_access_token"]), nil)
	want(t, "instance client_name", r.Body["client_name"], any("Renamed at run time"))
	if r := e.ctl(http.MethodPut, "/templates/"+DefaultTemplate, map[string]any{"grant_types": []string{"implicit"}}); r.Status != 400 {
		t.Errorf("invalid template metadata: %d", r.Status)
	}
	if r := e.ctl(http.MethodPut, "/templates/none", md); r.Status != 400 {
		t.Errorf("unknown template: %d", r.Status)
	}
	e.mustCtl(http.MethodPost, "/reset", nil)
	if r := e.jsonReq(http.MethodGet, str(c["registration_client_uri"]), str(c["registration_access_token"]), nil); r.Status != 401 {
		t.Errorf("client after reset: %d", r.Status)
	}
	n := e.register(map[string]any{"software_id": DefaultTemplate}).Body
	want(t, "template after reset", n["client_name"], DefaultConfig().Templates[0].Metadata["client_name"])
}

func TestSeed(t *testing.T) {
	run := func(seed uint64) []string {
		e := start(t, func(c *Config) { c.Seed = seed; c.Clients[0].ClientSecret = "" })
		boot := e.cfg.Clients[0]
		c := e.register(ccClient).Body
		return []string{boot.ClientSecret, str(c["client_id"]), str(c["client_secret"]), str(c["registration_access_token"]), e.bootstrapToken("dcr")}
	}
	a, b, c := run(7), run(7), run(8)
	want(t, "same seed", b, a)
	for i := range a {
		if a[i] == c[i] {
			t.Errorf("value %d is the same with another seed", i)
		}
	}
}

func TestControlGoAPIErrors(t *testing.T) {
	e := start(t, nil)
	ctx := context.Background()
	for name, err := range map[string]error{
		"expire missing": e.srv.ExpireClient(ctx, "nope"),
		"revoke missing": e.srv.RevokeToken(ctx, "nope"),
		"fault endpoint": e.srv.InjectFault("nope", Fault{Count: 1, Status: 500}),
	} {
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
