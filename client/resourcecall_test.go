package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// TestCallResource sends tokens to dcrctl serve's protected resource: one requested for it
// (RFC 8707) is accepted with the resource's whole answer; one for another resource, one
// without audience and none at all are *Error invalid_token (or a bare 401) with the
// resource's advice, and the token never shows in the error.
func TestCallResource(t *testing.T) {
	ts := servertest.Start(t, func(c *testserver.Config) { c.ResourcePath = "/mcp" })
	res := ts.Issuer() + "/mcp"
	boot := ts.Config.Clients[0]
	token := func(resource string) string {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}
		if resource != "" {
			form.Set("resource", resource)
		}
		req, _ := http.NewRequest(http.MethodPost, ts.URL("/token"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(boot.ClientID, boot.ClientSecret)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
			t.Fatalf("token for %q: %d %v", resource, r.StatusCode, err)
		}
		return tr.AccessToken
	}
	c := &client.Client{}
	ctx := context.Background()

	a, err := c.CallResource(ctx, res, token(res))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(a.Body, &body)
	want := map[string]any{"resource": res, "sub": boot.ClientID, "client_id": boot.ClientID, "scope": "dcr", "aud": []any{res}}
	if a.Status != 200 || a.ContentType != "application/json" || !reflect.DeepEqual(body, want) {
		t.Errorf("accepted: %d %s %v\nwant 200 application/json %v", a.Status, a.ContentType, body, want)
	}

	for _, tc := range []struct {
		name, token, code string
	}{
		{"other_resource", token("https://other.example/mcp"), "invalid_token"},
		{"no_audience", token(""), "invalid_token"},
		{"no_token", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := c.CallResource(ctx, res, tc.token)
			var ce *client.Error
			if a != nil || !errors.As(err, &ce) {
				t.Fatalf("got %v, %v; want a *client.Error", a, err)
			}
			if ce.Op != "resource" || ce.StatusCode != 401 || ce.Code != tc.code {
				t.Errorf("error %+v: want Op resource, 401, code %q", ce, tc.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, "the resource does not accept this access token") || tc.token != "" && strings.Contains(msg, tc.token) {
				t.Errorf("message %q: want the resource's advice and no token", msg)
			}
		})
	}
}
