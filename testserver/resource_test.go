package testserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestProtectedResource: with ResourcePath the server is an RFC 9728 protected resource
// that takes only tokens whose RFC 8707 audience it is.
func TestProtectedResource(t *testing.T) {
	e := start(t, func(c *Config) { c.ResourcePath = "/mcp" })
	res := e.url("/mcp")
	boot := e.cfg.Clients[0]
	u, _ := url.Parse(e.url(""))
	metaURL := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource/mcp"

	r := e.jsonReq(http.MethodGet, "/mcp", "", nil)
	want(t, "without a token", []any{r.Status, r.Header.Get("WWW-Authenticate")},
		[]any{401, `Bearer realm="` + e.url("") + `", resource_metadata="` + metaURL + `"`})
	m := e.jsonReq(http.MethodGet, metaURL, "", nil)
	want(t, "resource metadata", []any{m.Status, m.Body["resource"], m.Body["authorization_servers"], m.Body["bearer_methods_supported"], m.Body["scopes_supported"]},
		[]any{200, res, []any{e.url("")}, []any{"header"}, []any{"openid", "profile", "email", "offline_access"}})

	cc := func(resources ...string) resp {
		v := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}, "resource": resources}
		return e.form("/token", v, boot.ClientID, boot.ClientSecret)
	}
	tok := cc(res)
	if tok.Status != 200 {
		t.Fatalf("token with resource: %d %s", tok.Status, tok.Raw)
	}
	at := str(tok.Body["access_token"])
	r = e.jsonReq(http.MethodGet, "/mcp", at, nil)
	want(t, "a token for the resource", []any{r.Status, r.Body["sub"], r.Body["aud"], r.Body["scope"]}, []any{200, boot.ClientID, []any{res}, "dcr"})
	in := e.form("/introspect", url.Values{"token": {at}}, boot.ClientID, boot.ClientSecret)
	want(t, "introspection", []any{in.Body["active"], in.Body["aud"]}, []any{true, []any{res}})

	for name, other := range map[string]resp{"no resource": cc(), "another resource": cc("https://other.example/api")} {
		r := e.jsonReq(http.MethodGet, "/mcp", str(other.Body["access_token"]), nil)
		if r.Status != 401 || r.Body["error"] != "invalid_token" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `resource_metadata="`+metaURL+`"`) {
			t.Errorf("%s: %d %v %q; want 401 invalid_token naming the metadata", name, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
		}
	}
	if r := cc("not-absolute"); r.Status != 400 || r.Body["error"] != "invalid_target" {
		t.Errorf("a relative resource: %d %v, want 400 invalid_target", r.Status, r.Body)
	}
}

// TestResourceIndicatorsInCodeFlow: resources of the authorization request bound the code's
// and the refresh token's access tokens (RFC 8707 §2.2).
func TestResourceIndicatorsInCodeFlow(t *testing.T) {
	e := start(t, nil)
	const r1, r2 = "https://api.example/one", "https://api.example/two"
	redirect := "http://127.0.0.1:5555/callback"
	p := loginParams(DefaultNativeClient, redirect, "openid dcr")
	p["resource"] = []string{r1, r2}
	q := callback(t, e.browserLogin(p, DefaultUser, DefaultUserPassword))
	if q.Get("iss") != e.url("") || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want a code and iss (RFC 9207)", q)
	}
	exchange := func(code string, resources ...string) resp {
		return e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"code_verifier": {verifier}, "client_id": {DefaultNativeClient}, "resource": resources}, "", "")
	}
	tok := exchange(q.Get("code"), r1)
	if tok.Status != 200 {
		t.Fatalf("code exchange: %d %s", tok.Status, tok.Raw)
	}
	aud := func(at string) any {
		in := e.form("/introspect", url.Values{"token": {at}}, e.cfg.Clients[0].ClientID, e.cfg.Clients[0].ClientSecret)
		return in.Body["aud"]
	}
	want(t, "narrowed to one", aud(str(tok.Body["access_token"])), any([]any{r1}))
	rt := str(tok.Body["refresh_token"])
	wider := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultNativeClient},
		"resource": {"https://api.example/three"}}, "", "")
	want(t, "a refresh asking for another resource", []any{wider.Status, wider.Body["error"]}, []any{400, "invalid_target"})
	ref := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultNativeClient},
		"resource": {r2}}, "", "")
	if ref.Status != 200 {
		t.Fatalf("refresh for r2: %d %s", ref.Status, ref.Raw)
	}
	want(t, "refreshed for the other", aud(str(ref.Body["access_token"])), any([]any{r2}))
	again := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(ref.Body["refresh_token"])},
		"client_id": {DefaultNativeClient}}, "", "")
	want(t, "a refresh without resource keeps the grant's", aud(str(again.Body["access_token"])), any([]any{r1, r2}))

	p["resource"] = []string{"relative/path"}
	q = callback(t, e.browserLogin(p, DefaultUser, DefaultUserPassword))
	want(t, "a bad resource at /authorize", []any{q.Get("error"), q.Get("iss")}, []any{"invalid_target", e.url("")})
}

// TestResourcePathChecked: a resource path that is no path, or that an endpoint has, is refused.
func TestResourcePathChecked(t *testing.T) {
	for _, p := range []string{"mcp", "/", "/token", "/register/x", "/.well-known/x", "/mcp?x=1"} {
		cfg := DefaultConfig()
		cfg.Issuer, cfg.ResourcePath = "http://127.0.0.1:1", p
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "resource_path") {
			t.Errorf("resource_path %q: %v, want an error naming resource_path", p, err)
		}
	}
}
