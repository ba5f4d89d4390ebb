package testserver

import (
	"net/http"
	"net/url"
	"testing"
)

// TestInitialTokenAudience: an initial access token requested with resource (RFC 8707) is
// for that resource only, so the registration endpoint refuses it (401 invalid_token); one
// without resource, or naming this issuer or its registration endpoint, registers.
func TestInitialTokenAudience(t *testing.T) {
	e := start(t, func(c *Config) { c.InitialTokenUses = Reusable })
	boot := e.cfg.Clients[0]
	tok := func(resources ...string) string {
		r := e.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}, "resource": resources}, boot.ClientID, boot.ClientSecret)
		if r.Status != 200 {
			t.Fatalf("token for %v: %d %s", resources, r.Status, r.Raw)
		}
		return str(r.Body["access_token"])
	}
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}}
	type result struct {
		Status      int
		Error, Desc string
	}
	refused := func(aud string) result {
		return result{401, "invalid_token", "the access token was requested for " + aud + " (its audience, RFC 8707), not for this registration endpoint: get an initial access token without resource"}
	}
	for _, tc := range []struct {
		name      string
		resources []string
		want      result
	}{
		{"no_resource", nil, result{201, "", ""}},
		{"the_issuer", []string{e.srv.Issuer()}, result{201, "", ""}},
		{"the_registration_endpoint", []string{e.url("/register")}, result{201, "", ""}},
		{"an_mcp_server", []string{"https://mcp.example/mcp"}, refused("https://mcp.example/mcp")},
		{"two_others", []string{"https://a.example/", "https://b.example/"}, refused("https://a.example/ https://b.example/")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.jsonReq(http.MethodPost, "/register", tok(tc.resources...), md)
			if got := (result{r.Status, str(r.Body["error"]), str(r.Body["error_description"])}); got != tc.want {
				t.Errorf("got %+v (%s), want %+v", got, r.Raw, tc.want)
			}
		})
	}
}

// TestUserinfoAudience: an access token requested for a resource (RFC 8707) is refused at
// userinfo (401 invalid_token); one without resource, or naming the issuer, is answered.
func TestUserinfoAudience(t *testing.T) {
	e := start(t, nil)
	const cb = "http://127.0.0.1:4000/callback"
	for _, tc := range []struct {
		name, resource string
		status         int
		code           string
	}{
		{"no_resource", "", 200, ""},
		{"the_issuer", e.srv.Issuer(), 200, ""},
		{"an_mcp_server", "https://mcp.example/mcp", 401, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loginParams(DefaultNativeClient, cb, "openid")
			if tc.resource != "" {
				p.Set("resource", tc.resource)
			}
			q := callback(t, e.browserLogin(p, DefaultUser, DefaultUserPassword))
			tr := e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
				"redirect_uri": {cb}, "code_verifier": {verifier}, "client_id": {DefaultNativeClient}}, "", "")
			r := e.jsonReq(http.MethodGet, "/userinfo", str(tr.Body["access_token"]), nil)
			if r.Status != tc.status || str(r.Body["error"]) != tc.code || tc.status == 200 && r.Body["sub"] != DefaultUser {
				t.Errorf("userinfo: %d %s, want %d %q", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
}
