package flows

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
)

// tokenShape is a Token with the random secrets replaced by whether they are present, so
// that whole results can be compared.
type tokenShape struct {
	AccessToken, RefreshToken, IDToken bool
	TokenType, Scope                   string
	ExpiresIn                          int64
	Expiry                             time.Time
}

func shape(t *Token) *tokenShape {
	if t == nil {
		return nil
	}
	return &tokenShape{
		AccessToken: t.AccessToken != "", RefreshToken: t.RefreshToken != "", IDToken: t.IDToken != "",
		TokenType: t.TokenType, Scope: t.Scope, ExpiresIn: t.ExpiresIn, Expiry: t.Expiry,
	}
}

// errShape is an *Error without the server's free-text description (only whether it has one),
// or the text of any other error.
type errShape struct {
	Op             string
	StatusCode     int
	Code           string
	HasDescription bool
	Other          string
}

func shapeErr(err error) *errShape {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &errShape{Op: e.Op, StatusCode: e.StatusCode, Code: e.Code, HasDescription: e.Description != ""}
	}
	return &errShape{Other: err.Error()}
}

func TestClientCredentials(t *testing.T) {
	const postSecret = "p:o+s%t é/="
	issuer, cfg := startServer(t, func(c *testserver.Config) {
		c.Clients = append(c.Clients,
			testserver.ClientConfig{
				ClientID: "poster", ClientSecret: postSecret, TokenEndpointAuthMethod: "client_secret_post",
				GrantTypes: []string{"client_credentials"}, Scope: "dcr",
			},
			testserver.ClientConfig{
				ClientID: "basic-odd", ClientSecret: postSecret, TokenEndpointAuthMethod: "client_secret_basic",
				GrantTypes: []string{"client_credentials"}, Scope: "dcr profile",
			},
			testserver.ClientConfig{
				ClientID: "no-dcr", ClientSecret: "no-dcr-secret", TokenEndpointAuthMethod: "client_secret_basic",
				GrantTypes: []string{"client_credentials"}, Scope: "profile",
			})
	})
	boot := cfg.Clients[0]
	hour := fixedNow.Add(time.Hour)
	cases := []struct {
		name      string
		cc        ClientCredentials
		want      *tokenShape
		wantErr   *errShape
		wantPosts int // requests to the token endpoint: never a hidden retry
	}{
		{
			name:      "bootstrap client, default scope dcr, basic",
			cc:        ClientCredentials{ClientID: boot.ClientID, ClientSecret: boot.ClientSecret},
			want:      &tokenShape{AccessToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: hour},
			wantPosts: 1,
		},
		{
			name:      "client_secret_post, secret with reserved characters",
			cc:        ClientCredentials{ClientID: "poster", ClientSecret: postSecret, AuthMethod: AuthClientSecretPost},
			want:      &tokenShape{AccessToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: hour},
			wantPosts: 1,
		},
		{
			name:      "client_secret_basic form-encodes reserved characters (RFC 6749 §2.3.1)",
			cc:        ClientCredentials{ClientID: "basic-odd", ClientSecret: postSecret, Scopes: []string{"dcr", "profile"}},
			want:      &tokenShape{AccessToken: true, TokenType: "Bearer", Scope: "dcr profile", ExpiresIn: 3600, Expiry: hour},
			wantPosts: 1,
		},
		{
			name:      "no scope requested (non-nil empty Scopes): the server.s default for the client, without dcr (granted only when asked for)",
			cc:        ClientCredentials{ClientID: "basic-odd", ClientSecret: postSecret, Scopes: []string{}},
			want:      &tokenShape{AccessToken: true, TokenType: "Bearer", Scope: "profile", ExpiresIn: 3600, Expiry: hour},
			wantPosts: 1,
		},
		{
			name:      "wrong secret: invalid_client, sent once",
			cc:        ClientCredentials{ClientID: boot.ClientID, ClientSecret: "wrong-secret"},
			wantErr:   &errShape{Op: "client credentials", StatusCode: 401, Code: "invalid_client", HasDescription: true},
			wantPosts: 1,
		},
		{
			name:      "unknown client: invalid_client",
			cc:        ClientCredentials{ClientID: "nobody", ClientSecret: "x"},
			wantErr:   &errShape{Op: "client credentials", StatusCode: 401, Code: "invalid_client", HasDescription: true},
			wantPosts: 1,
		},
		{
			name:      "client without scope dcr: invalid_scope",
			cc:        ClientCredentials{ClientID: "no-dcr", ClientSecret: "no-dcr-secret"},
			wantErr:   &errShape{Op: "client credentials", StatusCode: 400, Code: "invalid_scope", HasDescription: true},
			wantPosts: 1,
		},
		{
			name:    "auth method none with a secret: refused before sending",
			cc:      ClientCredentials{ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, AuthMethod: AuthNone},
			wantErr: &errShape{Other: "flows: client credentials: token_endpoint_auth_method none is for public clients, but a client secret was supplied: drop the secret or choose client_secret_basic or client_secret_post"},
		},
		{
			name:    "unsupported auth method",
			cc:      ClientCredentials{ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, AuthMethod: "private_key_jwt"},
			wantErr: &errShape{Other: `flows: client credentials: token_endpoint_auth_method "private_key_jwt" is not supported by dcrctl: use client_secret_basic, client_secret_post or none`},
		},
		{
			name:    "no client id",
			cc:      ClientCredentials{},
			wantErr: &errShape{Other: "flows: client credentials: no client id: give the client's id (--client-id)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cnt := &counter{}
			tc.cc.Issuer = issuer
			tc.cc.HTTPClient = &http.Client{Transport: cnt, Timeout: 10 * time.Second}
			tc.cc.Now = clock
			tok, err := tc.cc.Token(context.Background())
			if got, want := shape(tok), tc.want; !equalPtr(got, want) {
				t.Errorf("token\n got: %+v\nwant: %+v", got, want)
			}
			if got, want := shapeErr(err), tc.wantErr; !equalPtr(got, want) {
				t.Errorf("error\n got: %+v (%v)\nwant: %+v", got, err, want)
			}
			if got := cnt.get("POST /token"); got != tc.wantPosts {
				t.Errorf("token requests: got %d, want %d", got, tc.wantPosts)
			}
			if err != nil && tc.cc.ClientSecret != "" && strings.Contains(err.Error(), tc.cc.ClientSecret) {
				t.Errorf("the error shows the client secret")
			}
		})
	}
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
