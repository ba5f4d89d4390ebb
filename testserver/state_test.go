package testserver

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportImport: a state exported from one server and imported into another carries the
// registered clients, their registration access tokens, issued tokens and the static
// clients' generated secrets; the file holds hashes, never the clear secrets it was given.
func TestExportImport(t *testing.T) {
	a := startControl(t, func(c *Config) {
		c.DBPath = filepath.Join(t.TempDir(), "a.db")
		c.Clients[0].ClientSecret = "" // generated and kept in the database
	})
	reg := a.register(ccClient).Body
	tok := a.bootstrapToken("dcr")
	var buf bytes.Buffer
	if err := a.srv.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"client secret": str(reg["client_secret"]), "registration access token": str(reg["registration_access_token"]), "access token": tok} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the export holds a %s in clear", name)
		}
	}
	if r := a.ctl(http.MethodGet, "/export", nil); r.Status != 200 || r.Body["format"] != stateFormat {
		t.Errorf("GET /_control/export: %d %v", r.Status, r.Body["format"])
	}

	b := start(t, func(c *Config) { c.Clients[0].ClientSecret = "" })
	if err := b.srv.Import(context.Background(), bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	b.cfg = b.srv.Config()
	want(t, "bootstrap secret", b.cfg.Clients[0].ClientSecret, a.cfg.Clients[0].ClientSecret)
	uri := strings.Replace(str(reg["registration_client_uri"]), a.srv.Issuer(), b.srv.Issuer(), 1)
	if r := b.jsonReq(http.MethodGet, uri, str(reg["registration_access_token"]), nil); r.Status != 200 || r.Body["client_id"] != reg["client_id"] {
		t.Errorf("RFC 7592 read on the importing server: %d", r.Status)
	}
	boot := b.cfg.Clients[0]
	if in := b.form("/introspect", url.Values{"token": {tok}}, boot.ClientID, boot.ClientSecret); in.Body["active"] != true {
		t.Error("an exported access token is not active after import")
	}
	ka := a.jsonReq(http.MethodGet, "/jwks", "", nil).Raw
	if kb := b.jsonReq(http.MethodGet, "/jwks", "", nil).Raw; ka != kb {
		t.Error("the importing server does not publish the exported signing key")
	}
	if err := b.srv.Import(context.Background(), strings.NewReader(`{"format":"other","version":1}`)); err == nil {
		t.Error("a foreign file was imported")
	}
}
