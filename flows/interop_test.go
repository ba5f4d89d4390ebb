package flows

import (
	"context"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client/interop"
)

// TestInteropNodeOIDCProvider runs every flow against a third-party server,
// node-oidc-provider (client/interop): client credentials with scope dcr; a browser login as
// its public native client (PKCE, loopback redirect on any port), twice, the second time
// silently; and the device flow.
func TestInteropNodeOIDCProvider(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("client credentials", func(t *testing.T) {
		tok, err := ClientCredentials{Issuer: op.Issuer, ClientID: op.BootstrapClientID, ClientSecret: op.BootstrapClientSecret, Now: clock}.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := shape(tok), (&tokenShape{AccessToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: tok.ExpiresIn, Expiry: fixedNow.Add(time.Duration(tok.ExpiresIn) * time.Second)}); *got != *want || tok.ExpiresIn <= 0 {
			t.Errorf("token\n got: %+v\nwant: %+v (expires_in > 0)", got, want)
		}
	})
	t.Run("client credentials, wrong secret", func(t *testing.T) {
		_, err := ClientCredentials{Issuer: op.Issuer, ClientID: op.BootstrapClientID, ClientSecret: "wrong"}.Token(ctx)
		if got, want := shapeErr(err), (&errShape{Op: "client credentials", StatusCode: 401, Code: "invalid_client", HasDescription: true}); !equalPtr(got, want) {
			t.Errorf("error\n got: %+v (%v)\nwant: %+v", got, err, want)
		}
	})

	br := op.NewBrowser(op.DemoUser)
	for i, wantForms := range []int{1, 0} {
		name := map[int]string{0: "browser login", 1: "second browser login is silent"}[i]
		t.Run(name, func(t *testing.T) {
			before := len(br.Submitted())
			tok, err := BrowserLogin{
				Issuer: op.Issuer, ClientID: op.NativeClientID, Scopes: []string{"dcr"},
				OpenURL: br.OpenURL, Timeout: time.Minute,
			}.Token(ctx)
			if _, berr := br.Wait(); berr != nil {
				t.Errorf("browser: %v", berr)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tok.HasScope("dcr") || tok.AccessToken == "" || tok.TokenType != "Bearer" {
				t.Errorf("token %v: want a Bearer token with scope dcr", tok)
			}
			if forms := br.Submitted()[before:]; len(forms) != wantForms {
				t.Errorf("forms submitted during the login: %v; want %d (the login form, or none with SSO)", forms, wantForms)
			}
		})
	}

	t.Run("device flow", func(t *testing.T) {
		dbr := op.NewBrowser(op.DemoUser)
		tok, err := DeviceFlow{
			Issuer: op.Issuer, ClientID: op.NativeClientID, Scopes: []string{"dcr"},
			Notify: func(a DeviceAuthorization) {
				dbr.UserCode = a.UserCode
				if _, err := dbr.Open(ctx, a.VerificationURIComplete); err != nil {
					t.Errorf("approve: %v", err)
				}
			},
			Sleep: func(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, 50*time.Millisecond) },
		}.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !tok.HasScope("dcr") || tok.AccessToken == "" {
			t.Errorf("token %v: want scope dcr", tok)
		}
	})
}
