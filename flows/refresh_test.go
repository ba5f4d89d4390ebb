package flows

import (
	"context"
	"errors"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestRefresh logs in in the scripted browser, refreshes the token at the real server (RFC
// 6749 §6), and shows that a used refresh token is refused as invalid_grant once the server
// rotated it.
func TestRefresh(t *testing.T) {
	issuer, _ := startServer(t, nil)
	ctx := context.Background()
	b := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	first, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, Scopes: []string{"openid", "dcr"},
		OpenURL: b.Open}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.RefreshToken == "" {
		t.Fatal("the login issued no refresh token")
	}
	r := Refresh{Issuer: issuer, ClientID: testserver.DefaultNativeClient, RefreshToken: first.RefreshToken}
	second, err := r.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == "" || second.AccessToken == first.AccessToken || !second.HasScope("dcr") || second.Expiry.IsZero() {
		t.Fatalf("refreshed token %v: want a new access token with the original scope and an expiry", second)
	}
	narrowed, err := Refresh{Issuer: issuer, ClientID: testserver.DefaultNativeClient, RefreshToken: second.RefreshToken,
		Scopes: []string{"openid"}}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if narrowed.HasScope("dcr") || !narrowed.HasScope("openid") {
		t.Fatalf("a refresh asking for openid only granted %q", narrowed.Scope)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatal("dcrctl serve rotates refresh tokens: the refresh returned none, or the same")
	}
	_, err = r.Token(ctx) // the rotated-out refresh token again
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("reusing a rotated refresh token: %v, want invalid_grant", err)
	}
}
