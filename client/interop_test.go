package client

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client/interop"
)

// TestInteropNodeOIDCProvider runs the whole SDK against node-oidc-provider, a third-party
// certified OpenID Provider: discover, register with full metadata (vendor and unknown
// members included), read, update (the registration access token rotates: the old one must
// stop working and the new one must work), delete, and the errors on the way.
func TestInteropNodeOIDCProvider(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	ctx := context.Background()
	c := Client{UserAgent: "dcrctl/interop-test"}

	// Discovery: RFC 8414 is not served by node-oidc-provider, so this exercises the
	// OpenID fallback.
	md, err := c.Discover(ctx, op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "endpoints", []string{md.Issuer, md.RegistrationEndpoint, md.TokenEndpoint, md.AuthorizationEndpoint, md.DeviceAuthorizationEndpoint},
		[]string{op.Issuer, op.RegistrationEndpoint, op.TokenEndpoint, op.AuthorizationEndpoint, op.DeviceAuthorizationEndpoint})
	check(t, "code_challenge_methods_supported", md.CodeChallengeMethodsSupported, []string{"S256"})
	for _, g := range []string{"authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"} {
		if !slices.Contains(md.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported %q lacks %q", md.GrantTypesSupported, g)
		}
	}
	if _, ok := md.Extra["claims_parameter_supported"]; !ok {
		t.Errorf("unknown discovery members were not kept: %v", md.Extra)
	}
	// The issuer must match exactly: a trailing slash is another issuer.
	if _, err := c.Discover(ctx, op.Issuer+"/"); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("discover with a trailing slash: %v, want ErrIssuerMismatch", err)
	}

	sent := Metadata{
		RedirectURIs:             []string{"https://app.example/cb", "https://app.example/cb2?x=1&y=2"},
		GrantTypes:               []string{"authorization_code", "refresh_token"},
		ResponseTypes:            []string{"code"},
		TokenEndpointAuthMethod:  "client_secret_post",
		ClientName:               "dcrctl interop",
		ClientURI:                "https://app.example/",
		LogoURI:                  "https://app.example/logo.png",
		TOSURI:                   "https://app.example/tos",
		PolicyURI:                "https://app.example/privacy",
		Contacts:                 []string{"ops@app.example"},
		Scope:                    "openid email dcr",
		ApplicationType:          "web",
		IDTokenSignedResponseAlg: "ES256",
		DefaultMaxAge:            ptr(int64(300)),
		RequireAuthTime:          ptr(true),
		PostLogoutRedirectURIs:   []string{"https://app.example/bye"},
		AccessTokenTTL:           ptr(int64(120)),
		RequiresConsent:          ptr(false),
		Extra: map[string]json.RawMessage{
			"x_dcrctl_note":       json.RawMessage(`{"team":"platform","tags":["a","b"]}`),
			"x_unknown_to_server": json.RawMessage(`"ignored, RFC 7591 §2"`),
		},
	}
	// What node-oidc-provider 9.13.3 holds: what was sent (minus the member it does not know)
	// plus its defaults.
	want := sent
	want.Extra = map[string]json.RawMessage{
		"x_dcrctl_note":                         json.RawMessage(`{"team":"platform","tags":["a","b"]}`),
		"require_pushed_authorization_requests": json.RawMessage(`false`),
		"dpop_bound_access_tokens":              json.RawMessage(`false`),
	}
	want.SubjectType = "public"

	iat := op.ClientCredentialsToken(t, "dcr")
	reg, err := c.Register(ctx, md.RegistrationEndpoint, iat, sent)
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" || reg.RegistrationAccessToken == "" || reg.ClientIDIssuedAt == 0 {
		t.Fatalf("registration lacks credentials: %v", reg)
	}
	check(t, "registration", reg, &Registration{
		Metadata: want, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, ClientIDIssuedAt: reg.ClientIDIssuedAt,
		ClientSecretExpiresAt: 0, RegistrationAccessToken: reg.RegistrationAccessToken,
		RegistrationClientURI: md.RegistrationEndpoint + "/" + reg.ClientID,
	})

	// The initial access token was single-use.
	_, err = c.Register(ctx, md.RegistrationEndpoint, iat, sent)
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "the initial access token is invalid, expired or already used") {
		t.Errorf("reused initial access token: %v, want invalid_token with advice", err)
	}
	if strings.Contains(errString(err), iat) {
		t.Error("the error shows the initial access token")
	}

	read, err := c.Read(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "read", read, reg) // node-oidc-provider rotates nothing on read

	changed := want
	changed.ClientName = "dcrctl interop, renamed"
	changed.Contacts = nil
	changed.AccessTokenTTL = ptr(int64(60))
	changed.Extra = map[string]json.RawMessage{"x_dcrctl_note": json.RawMessage(`"v2"`)}
	up, err := c.Update(ctx, read, changed)
	if err != nil {
		t.Fatal(err)
	}
	if up.RegistrationAccessToken == read.RegistrationAccessToken {
		t.Fatal("the registration access token did not rotate on update")
	}
	wantUp := *read
	wantUp.Metadata = changed
	wantUp.Extra = map[string]json.RawMessage{"x_dcrctl_note": json.RawMessage(`"v2"`),
		"require_pushed_authorization_requests": json.RawMessage(`false`), "dpop_bound_access_tokens": json.RawMessage(`false`)}
	wantUp.RegistrationAccessToken = up.RegistrationAccessToken
	check(t, "update", up, &wantUp)

	// The old token is dead: a caller that did not persist the new one is locked out.
	_, err = c.Read(ctx, read)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("read with the rotated-away token: %v", err)
	}
	check(t, "read with the old token", *pe, Error{Op: "read", StatusCode: 401, Code: "invalid_token", Description: "invalid token provided"})

	again, err := c.Read(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "read after update", again, up)

	// A bad redirect URI is refused with the RFC 7591 code.
	_, err = c.Register(ctx, md.RegistrationEndpoint, op.InitialAccessToken, Metadata{RedirectURIs: []string{"https://app.example/cb#frag"}})
	if !errors.Is(err, ErrInvalidRedirectURI) {
		t.Errorf("redirect URI with a fragment: %v, want invalid_redirect_uri", err)
	}

	if err := c.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, again); !errors.Is(err, &Error{StatusCode: 401}) {
		t.Errorf("read after delete: %v, want 401", err)
	}
	if err := c.Delete(ctx, again); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("second delete: %v, want invalid_token", err)
	}
	if err := c.Delete(ctx, again, TreatUnauthorizedAsDeleted()); err != nil {
		t.Errorf("second delete with TreatUnauthorizedAsDeleted: %v", err)
	}
}

// TestInteropPublicNativeClient registers a public native client with a loopback redirect
// URI: no secret may come back, and the response checks must accept that.
func TestInteropPublicNativeClient(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{NoRotation: true})
	ctx := context.Background()
	var c Client
	md := Metadata{RedirectURIs: []string{"http://127.0.0.1/callback"}, ApplicationType: "native", TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}}
	reg, err := c.Register(ctx, op.RegistrationEndpoint, op.InitialAccessToken, md)
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientSecret != "" || reg.ClientSecretExpiresAt != 0 {
		t.Errorf("public client got a secret")
	}
	up, err := c.Update(ctx, reg, md)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "token kept with NoRotation", up.RegistrationAccessToken, reg.RegistrationAccessToken)
	if err := c.Delete(ctx, up); err != nil {
		t.Fatal(err)
	}
}
