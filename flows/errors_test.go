package flows

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestErrorMessages(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"code, description, advice and URI",
			&Error{Op: "client credentials", StatusCode: 401, Code: "invalid_client", Description: "bad secret", URI: "https://idp.example/doc"},
			`the server answered 401 Unauthorized with error invalid_client ("bad secret"): the client id or secret is wrong, or the client is registered for another token endpoint authentication method (token_endpoint_auth_method) (see https://idp.example/doc)`},
		{"status without an OAuth error",
			&Error{Op: "device token", StatusCode: 502},
			"the server answered 502 Bad Gateway: the server failed: try again later"},
		{"a 401 without a code is not a registration problem",
			&Error{Op: "client credentials", StatusCode: 401},
			"the server answered 401 Unauthorized"},
		{"redirect error without status",
			&Error{Op: "login", Code: "access_denied"},
			"the server answered through the browser's redirect with error access_denied: the login or approval was refused: log in again and approve the request"},
		{"unknown code: no advice",
			&Error{Op: "login", Code: "x_custom"},
			"the server answered through the browser's redirect with error x_custom"},
		{"invalid_grant at the code exchange",
			&Error{Op: "code exchange", StatusCode: 400, Code: "invalid_grant"},
			"the server answered 400 Bad Request with error invalid_grant: the authorization code was rejected (expired, already used, or the PKCE verifier or redirect URI did not match): log in again"},
		{"invalid_grant elsewhere",
			&Error{Op: "device token", StatusCode: 400, Code: "invalid_grant"},
			"the server answered 400 Bad Request with error invalid_grant: the grant was rejected: check the credentials and try again"},
		{"expired_token", &Error{Op: "device token", StatusCode: 400, Code: "expired_token"},
			"the server answered 400 Bad Request with error expired_token: the device code expired before it was approved: start again and approve sooner"},
		{"login timeout", &TimeoutError{Op: "login", After: 5 * time.Minute},
			"flows: login: not completed within 5m0s: finish the login in the browser sooner, or allow more time"},
		{"device expiry", &TimeoutError{Op: "device"},
			"flows: device: the device code expired before it was approved: start again and approve it sooner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
	// Every final code this package meets has advice, and none of it names a command-line
	// flag: that is the CLI's business.
	for _, code := range []string{"invalid_client", "unauthorized_client", "invalid_scope", "invalid_grant", "access_denied",
		"expired_token", "login_required", "interaction_required", "consent_required", "account_selection_required",
		"unsupported_grant_type", "unsupported_response_type", "invalid_request", "temporarily_unavailable", "server_error"} {
		for _, op := range []string{"client credentials", "login", "code exchange", "device authorization", "device token"} {
			h := (&Error{Op: op, Code: code}).Hint()
			if h == "" || strings.Contains(h, "--") {
				t.Errorf("%s at %s: advice %q", code, op, h)
			}
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &Error{Op: "login", Code: "access_denied"})
	cases := []struct {
		target error
		want   bool
	}{
		{&Error{Code: "access_denied"}, true},
		{&Error{Op: "login", Code: "access_denied"}, true},
		{&Error{Op: "device token", Code: "access_denied"}, false},
		{&Error{Code: "invalid_client"}, false},
		{ErrStateMismatch, false},
		{context.DeadlineExceeded, false},
	}
	for _, tc := range cases {
		if got := errors.Is(err, tc.target); got != tc.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, tc.target, got, tc.want)
		}
	}
	if !errors.Is(&TimeoutError{Op: "login"}, context.DeadlineExceeded) {
		t.Error("TimeoutError does not match context.DeadlineExceeded")
	}
}

func TestTokenErrorConversion(t *testing.T) {
	cases := []struct {
		name string
		in   error
		want string
	}{
		{"RetrieveError without a response", &oauth2.RetrieveError{ErrorCode: "invalid_client", ErrorDescription: "d", Body: []byte("secret body")},
			"flows: token: the server answered with error invalid_client (\"d\"): the client id or secret is wrong, or the client is registered for another token endpoint authentication method (token_endpoint_auth_method)"},
		{"canceled", context.Canceled, "flows: token: context canceled"},
		{"transport", errors.New("dial tcp: refused"), "flows: token: the token request failed: dial tcp: refused"},
	}
	for _, tc := range cases {
		if got := tokenError("token", tc.in).Error(); got != tc.want {
			t.Errorf("%s\n got: %s\nwant: %s", tc.name, got, tc.want)
		}
	}
}

func TestTokenRedaction(t *testing.T) {
	tok := &Token{AccessToken: "AT-secret", RefreshToken: "RT-secret", IDToken: "ID-secret", TokenType: "Bearer",
		Scope: "dcr", ExpiresIn: 60, Expiry: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)}
	want := `flows.Token{TokenType: "Bearer", Scope: "dcr", ExpiresIn: 60, Expiry: 2026-01-01T00:01:00Z, AccessToken: [redacted], RefreshToken: [redacted], IDToken: [redacted]}`
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tok, *tok} {
			if got := fmt.Sprintf(format, v); got != want {
				t.Errorf("Sprintf(%q, %T)\n got: %s\nwant: %s", format, v, got, want)
			}
		}
	}
	if got, want := (Token{TokenType: "Bearer"}).String(), `flows.Token{TokenType: "Bearer", Scope: "", ExpiresIn: 0}`; got != want {
		t.Errorf("empty token: got %s, want %s", got, want)
	}
}

func TestFromOAuth2(t *testing.T) {
	now := fixedNow
	cases := []struct {
		name      string
		in        *oauth2.Token
		requested []string
		want      *Token
		wantErr   string
	}{
		{"extra fields, scope omitted means the requested scope (RFC 6749 §5.1)",
			(&oauth2.Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r"}).WithExtra(map[string]any{"id_token": "i", "expires_in": float64(120)}),
			[]string{"dcr", "openid"},
			&Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", IDToken: "i", Scope: "dcr openid", ExpiresIn: 120, Expiry: now.Add(2 * time.Minute)}, ""},
		{"expires_in as a string, granted scope kept",
			(&oauth2.Token{AccessToken: "a", TokenType: "Bearer"}).WithExtra(map[string]any{"expires_in": "30", "scope": "profile"}),
			[]string{"dcr"},
			&Token{AccessToken: "a", TokenType: "Bearer", Scope: "profile", ExpiresIn: 30, Expiry: now.Add(30 * time.Second)}, ""},
		{"no expiry", &oauth2.Token{AccessToken: "a", TokenType: "Bearer"}, []string{"dcr"},
			&Token{AccessToken: "a", TokenType: "Bearer", Scope: "dcr"}, ""},
		{"no access token", &oauth2.Token{TokenType: "Bearer"}, nil, nil, errNoAccessToken.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fromOAuth2(tc.in, tc.requested, now)
			if fmt.Sprint(err) != fmt.Sprint(errOrNil(tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if !equalPtr(got, tc.want) {
				t.Errorf("\n got: %#v\nwant: %#v", got, tc.want)
			}
		})
	}
}

func errOrNil(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func TestAuthStyle(t *testing.T) {
	type result struct {
		Style  oauth2.AuthStyle
		Method string
		Err    string
	}
	cases := []struct {
		name           string
		method, secret string
		supported      []string
		want           result
	}{
		{"default with a secret: client_secret_basic (RFC 7591 §2)", "", "s", nil, result{oauth2.AuthStyleInHeader, AuthClientSecretBasic, ""}},
		{"default without a secret: none", "", "", nil, result{oauth2.AuthStyleInParams, AuthNone, ""}},
		{"server lists only post", "", "s", []string{"client_secret_post", "private_key_jwt"}, result{oauth2.AuthStyleInParams, AuthClientSecretPost, ""}},
		{"server lists both", "", "s", []string{"client_secret_post", "client_secret_basic"}, result{oauth2.AuthStyleInHeader, AuthClientSecretBasic, ""}},
		{"explicit post", "client_secret_post", "s", nil, result{oauth2.AuthStyleInParams, AuthClientSecretPost, ""}},
		{"explicit basic", "client_secret_basic", "s", nil, result{oauth2.AuthStyleInHeader, AuthClientSecretBasic, ""}},
		{"basic without secret", "client_secret_basic", "", nil, result{Err: "token_endpoint_auth_method client_secret_basic needs a client secret: supply one (file, environment or stdin), or use --auth-method none for a public client"}},
		{"post without secret", "client_secret_post", "", nil, result{Err: "token_endpoint_auth_method client_secret_post needs a client secret: supply one (file, environment or stdin), or use --auth-method none for a public client"}},
		{"none with secret", "none", "s", nil, result{Err: "token_endpoint_auth_method none is for public clients, but a client secret was supplied: drop the secret or choose client_secret_basic or client_secret_post"}},
		{"unsupported", "tls_client_auth", "s", nil, result{Err: `token_endpoint_auth_method "tls_client_auth" is not supported by dcrctl: use client_secret_basic, client_secret_post or none`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			style, method, err := authStyle(tc.method, tc.secret, tc.supported)
			got := result{Style: style, Method: method}
			if err != nil {
				got = result{Err: err.Error()}
			}
			if got != tc.want {
				t.Errorf("\n got: %+v\nwant: %+v", got, tc.want)
			}
		})
	}
}

// FuzzCallbackCheck: whatever arrives at the callback, a code is accepted only with the
// exact state, and nothing panics.
func FuzzCallbackCheck(f *testing.F) {
	f.Add("code=c&state=s")
	f.Add("error=access_denied&state=s&error_description=no")
	f.Add("state=s&iss=http%3A%2F%2Fidp&code=x")
	f.Add("state=S&code=c")
	f.Add("state=s&state=t&code=c")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		h := &callbackHandler{state: "s", issuer: "http://idp"}
		res := h.check(q)
		if res.err == nil && (q.Get("state") != "s" || res.code == "" || (q.Has("iss") && q.Get("iss") != "http://idp") || q.Get("error") != "") {
			t.Fatalf("accepted %q", raw)
		}
	})
}
