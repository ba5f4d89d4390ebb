package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/interop"
	"github.com/dcrctl/dcrctl/keystore"
)

// TestCLIInteropNodeOIDCProvider drives the dcrctl command line against node-oidc-provider (a
// certified third-party server): register with a client-credentials initial access token and
// full metadata including an unknown vendor member, then get, update (its registration access
// token rotates, and the new one is stored), get again with the stored token, and delete.
// It fails when node is missing and CI=true (interop.StartOIDCProvider), and skips otherwise.
func TestCLIInteropNodeOIDCProvider(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_CONFIG_DIR": dir, "DCRCTL_KEYSTORE": "file",
		"DCRCTL_CLIENT_SECRET": op.BootstrapClientSecret, "DCRCTL_ISSUER": op.Issuer}
	file := filepath.Join(t.TempDir(), "client.json")
	sent := `{
  "redirect_uris": ["https://app.example/cb"],
  "grant_types": ["authorization_code", "refresh_token"],
  "response_types": ["code"],
  "token_endpoint_auth_method": "client_secret_post",
  "client_name": "dcrctl cli interop",
  "client_uri": "https://app.example/",
  "contacts": ["ops@app.example"],
  "scope": "openid email",
  "application_type": "web",
  "access_token_ttl": 120,
  "x_dcrctl_note": {"team": "platform", "tags": ["a", "b"]},
  "x_unknown_to_server": "dropped, as RFC 7591 §2 allows"
}`
	if err := os.WriteFile(file, []byte(sent), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() keystore.Credential {
		t.Helper()
		c, err := st.Get(ctx, "interop")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		got := runCLI(t, ctx, "", env, args...)
		if got.Code != ExitOK {
			t.Fatalf("dcrctl %v: exit %d: %s", args, got.Code, got.Stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got.Stdout), &m); err != nil {
			t.Fatalf("dcrctl %v: stdout is not a JSON object: %v", args, err)
		}
		return m
	}

	reg := run("register", "--client-credentials", "--client-id", op.BootstrapClientID, "-f", file, "--name", "interop", "-o", "json")
	first := stored()
	if first.ClientSecret == "" || first.RegistrationAccessToken == "" {
		t.Fatal("the stored credential lacks its secrets")
	}
	// What node-oidc-provider 9.13.3 holds: what was sent, minus the member it does not know,
	// plus its defaults; the secrets are not printed without --show-secrets.
	want := map[string]any{
		"name": "interop", "issuer": op.Issuer, "keystore": "file", "client_id": first.ClientID,
		"client_id_issued_at":     reg["client_id_issued_at"],
		"registration_client_uri": op.RegistrationEndpoint + "/" + first.ClientID,
		"redirect_uris":           []any{"https://app.example/cb"},
		"grant_types":             []any{"authorization_code", "refresh_token"},
		"response_types":          []any{"code"}, "token_endpoint_auth_method": "client_secret_post",
		"client_name": "dcrctl cli interop", "client_uri": "https://app.example/",
		"contacts": []any{"ops@app.example"}, "scope": "openid email", "application_type": "web",
		"access_token_ttl": float64(120), "subject_type": "public",
		"x_dcrctl_note":                         map[string]any{"team": "platform", "tags": []any{"a", "b"}},
		"require_pushed_authorization_requests": false, "dpop_bound_access_tokens": false,
		"post_logout_redirect_uris": []any{}, "require_auth_time": false, "id_token_signed_response_alg": "RS256",
	}
	if _, ok := reg["client_id_issued_at"].(float64); !ok {
		t.Errorf("client_id_issued_at %v is not a number", reg["client_id_issued_at"])
	}
	// The member node-oidc-provider does not know is reported as ignored (dcrctl_changes).
	changes, _ := reg["dcrctl_changes"].([]any)
	if len(changes) != 1 || changes[0].(map[string]any)["member"] != "x_unknown_to_server" || changes[0].(map[string]any)["kind"] != "ignored" {
		t.Errorf("register: dcrctl_changes = %v, want x_unknown_to_server ignored", reg["dcrctl_changes"])
	}
	compareMaps(t, "register", reg, withMember(want, "dcrctl_changes", reg["dcrctl_changes"]))

	compareMaps(t, "get", run("get", "interop", "-o", "json"), want)

	upd := run("update", "interop", "--set", "client_name=renamed", "--unset", "contacts", "--set", `x_dcrctl_note="v2"`, "-o", "json")
	second := stored()
	if second.RegistrationAccessToken == first.RegistrationAccessToken {
		t.Error("the registration access token did not rotate on update, or the new one was not stored")
	}
	wantUp := maps(want)
	wantUp["client_name"] = "renamed"
	wantUp["x_dcrctl_note"] = "v2"
	delete(wantUp, "contacts")
	compareMaps(t, "update", upd, withMember(wantUp, "dcrctl_changes", []any{}))

	// The old token is dead; the stored one works.
	old := &client.Registration{ClientID: first.ClientID, RegistrationAccessToken: first.RegistrationAccessToken, RegistrationClientURI: first.RegistrationClientURI}
	var ce *client.Error
	if _, err := (&client.Client{}).Read(ctx, old); !errors.As(err, &ce) || ce.StatusCode != 401 {
		t.Errorf("read with the rotated-away token: %v, want 401", err)
	}
	compareMaps(t, "get after update", run("get", "interop", "-o", "json"), wantUp)

	if got := runCLI(t, ctx, "", env, "delete", "interop"); got.Code != ExitOK {
		t.Fatalf("delete: exit %d: %s", got.Code, got.Stderr)
	}
	if _, err := st.Get(ctx, "interop"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("after delete the credential is still stored: %v", err)
	}
	cur := &client.Registration{ClientID: second.ClientID, RegistrationAccessToken: second.RegistrationAccessToken, RegistrationClientURI: second.RegistrationClientURI}
	if _, err := (&client.Client{}).Read(ctx, cur); !errors.As(err, &ce) || ce.StatusCode != 401 {
		t.Errorf("read after delete: %v, want 401", err)
	}
}

func maps(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// compareMaps reports every member that differs (values are not secret here: the output
// has no secrets without --show-secrets).
func compareMaps(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s = %v, want %v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected member %s = %v", what, k, g)
		}
	}
}

// withMember returns a copy of m with k set to v.
func withMember(m map[string]any, k string, v any) map[string]any {
	c := maps(m)
	c[k] = v
	return c
}
