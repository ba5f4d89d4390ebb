package testserver

import (
	"net/http"
	"testing"
)

func TestSmoke(t *testing.T) {
	e := start(t, nil)
	r := e.register(map[string]any{"redirect_uris": []string{"http://127.0.0.1/cb"}, "client_name": "x"})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	g := e.jsonReq(http.MethodGet, str(r.Body["registration_client_uri"]), str(r.Body["registration_access_token"]), nil)
	if g.Status != 200 {
		t.Fatalf("%d %s", g.Status, g.Raw)
	}
	if g.Body["client_name"] != "x" {
		t.Fatalf("metadata missing")
	}
}

func TestSmokeLogin(t *testing.T) {
	e := start(t, nil)
	r := e.browserLogin(loginParams("dcrctl", "http://127.0.0.1:5555/callback", "openid dcr"), "demo", "demo")
	if r.Status != 303 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
