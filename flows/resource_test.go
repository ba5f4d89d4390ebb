package flows

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestResourceIndicator: every flow sends Resource (RFC 8707) with its authorization and
// token requests, so the real server's tokens carry it as their audience.
func TestResourceIndicator(t *testing.T) {
	issuer, cfg := startServer(t, nil)
	const res = "https://mcp.example/api"
	boot := cfg.Clients[0]
	audOf := func(at string) []any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, issuer+"/introspect", strings.NewReader(url.Values{"token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(boot.ClientID, boot.ClientSecret)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		aud, _ := m["aud"].([]any)
		return aud
	}
	ctx := context.Background()
	cc, err := ClientCredentials{Issuer: issuer, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}, Resource: res}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	login, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, Scopes: []string{"openid"}, Resource: res, OpenURL: br.Open}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refreshed, err := Refresh{Issuer: issuer, ClientID: testserver.DefaultNativeClient, RefreshToken: login.RefreshToken, Resource: res}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]*Token{"client credentials": cc, "browser login": login, "refresh": refreshed} {
		if aud := audOf(tok.AccessToken); len(aud) != 1 || aud[0] != res {
			t.Errorf("%s: audience %v, want [%s]", name, aud, res)
		}
	}
	if _, err := (Refresh{Issuer: issuer, ClientID: testserver.DefaultNativeClient, RefreshToken: refreshed.RefreshToken,
		Resource: "https://other.example/"}).Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_target") {
		t.Errorf("a refresh for another resource: %v, want invalid_target", err)
	}
}
