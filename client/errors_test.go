package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Op: "register", StatusCode: 403, Code: "insufficient_scope"}, "the server answered 403 Forbidden with error insufficient_scope: the initial access token lacks the dcr scope: request a token with scope dcr"},
		{Error{Op: "update", StatusCode: 403, Code: "insufficient_scope"}, "the server answered 403 Forbidden with error insufficient_scope: the registration access token lacks the scope this operation needs: use the registration access token returned by the latest register, read or update"},
		{Error{Op: "register", StatusCode: 401, Code: "invalid_token", Description: "expired"}, `the server answered 401 Unauthorized with error invalid_token ("expired"): the initial access token is invalid, expired or already used: get a fresh one (a client-credentials or login token with scope dcr)`},
		{Error{Op: "delete", StatusCode: 401}, "the server answered 401 Unauthorized: the registration access token was refused, or the client no longer exists: use the registration access token returned by the latest register, read or update"},
		{Error{Op: "register", StatusCode: 400, Code: "invalid_software_statement"}, "the server answered 400 Bad Request with error invalid_software_statement: the software statement is malformed or its signature does not verify: get a freshly signed one from its publisher"},
		{Error{Op: "register", StatusCode: 400, Code: "unapproved_software_statement"}, "the server answered 400 Bad Request with error unapproved_software_statement: the server does not trust the software statement's issuer: use a statement from a publisher the server accepts"},
		{Error{Op: "register", StatusCode: 400, Code: "invalid_request"}, "the server answered 400 Bad Request with error invalid_request: the server could not parse the request: check the metadata is a JSON object with values of the right types"},
		{Error{Op: "register", StatusCode: 400, Code: "vendor_specific"}, "the server answered 400 Bad Request with error vendor_specific"},
		{Error{Op: "register", StatusCode: 413}, "the server answered 413 Request Entity Too Large: the request is larger than the server accepts: shorten the metadata"},
		{Error{Op: "register", StatusCode: 429}, "the server answered 429 Too Many Requests: the server is rate limiting: wait and try again"},
		{Error{Op: "discover", StatusCode: 404}, "the server answered 404 Not Found: no metadata document there: check the issuer, which must be exactly the server's issuer identifier"},
		{Error{Op: "", StatusCode: 404}, "the server answered 404 Not Found: nothing there: check the URL"},
		{Error{Op: "read", StatusCode: 418}, "the server answered 418 I'm a teapot"},
	}
	for _, tc := range tests {
		t.Run(tc.err.Op+" "+tc.err.Code+fmt.Sprint(tc.err.StatusCode), func(t *testing.T) {
			check(t, "message", tc.err.Error(), tc.want)
		})
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("client: register: %w", &Error{Op: "register", StatusCode: 403, Code: "insufficient_scope"})
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"same code", ErrInsufficientScope, true},
		{"other code", ErrInvalidToken, false},
		{"status only", &Error{StatusCode: 403}, true},
		{"code and other status", &Error{Code: "insufficient_scope", StatusCode: 401}, false},
		{"empty target matches nothing", &Error{}, false},
		{"other error type", errors.New("insufficient_scope"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "errors.Is", errors.Is(err, tc.target), tc.want)
		})
	}
}

func TestParseBearer(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want map[string]string
	}{
		{"realm only", []string{`Bearer realm="example"`}, map[string]string{"realm": "example"}},
		{"full", []string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			map[string]string{"realm": "example", "error": "invalid_token", "error_description": "The access token expired"}},
		{"case and spacing", []string{`bearer   ERROR = insufficient_scope ,scope="dcr openid"`}, map[string]string{"error": "insufficient_scope", "scope": "dcr openid"}},
		{"quoted escapes", []string{`Bearer error_description="say \"hi\", ok"`}, map[string]string{"error_description": `say "hi", ok`}},
		{"after another challenge", []string{`Basic realm="b", Bearer error="invalid_token"`}, map[string]string{"error": "invalid_token"}},
		{"before another challenge", []string{`Bearer error="invalid_token", DPoP algs="ES256", error="use_dpop_nonce"`}, map[string]string{"error": "invalid_token"}},
		{"second header", []string{`Basic realm="b"`, `Bearer error="invalid_token"`}, map[string]string{"error": "invalid_token"}},
		{"no bearer", []string{`Basic realm="b"`}, nil},
		{"bare scheme", []string{`Bearer`}, map[string]string{}},
		{"unterminated quote", []string{`Bearer error="invalid_tok`}, map[string]string{"error": "invalid_tok"}},
		{"garbage", []string{`=,,"" Bearer ==`}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "params", bearerChallenge(tc.in), tc.want)
		})
	}
}

func FuzzParseBearer(f *testing.F) {
	f.Add(`Bearer realm="example", error="invalid_token", error_description="x\"y"`)
	f.Add(`Basic realm="b", Bearer error=insufficient_scope`)
	f.Fuzz(func(t *testing.T, s string) {
		parseBearer(s) // must not panic or loop
	})
}

// TestSecretsNeverPrinted prints a Registration and a Metadata every way a program might,
// and checks that no secret shows.
func TestSecretsNeverPrinted(t *testing.T) {
	secrets := []string{"cs-Secret-1", "rat-Secret-2", "eyJ.statement.sig", "pw-Secret-3", "jwk-private-d", "jwk-symmetric-k", "echoed"}
	reg := Registration{
		Metadata: Metadata{
			ClientName:        "app",
			SoftwareStatement: "eyJ.statement.sig",
			JWKS:              json.RawMessage(`{"keys":[{"kty":"EC","x":"pub-x","d":"jwk-private-d"},{"kty":"oct","k":"jwk-symmetric-k"}]}`),
			Extra: map[string]json.RawMessage{
				"x_admin_password": json.RawMessage(`"pw-Secret-3"`),
			},
		},
		ClientID:                "client-1",
		ClientSecret:            "cs-Secret-1",
		ClientSecretExpiresAt:   0,
		RegistrationAccessToken: "rat-Secret-2",
		RegistrationClientURI:   "https://as.example/register/client-1",
	}
	var textLog, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("registered", "reg", reg, "md", reg.Metadata)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("registered", "reg", &reg)
	type holder struct{ R Registration }
	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", reg),
		"%+v":         fmt.Sprintf("%+v", reg),
		"%#v":         fmt.Sprintf("%#v", reg),
		"%s":          fmt.Sprintf("%s", reg),
		"%q":          fmt.Sprintf("%q", reg),
		"%v pointer":  fmt.Sprintf("%v", &reg),
		"%+v nested":  fmt.Sprintf("%+v", holder{reg}),
		"%#v nested":  fmt.Sprintf("%#v", holder{reg}),
		"%d":          fmt.Sprintf("%d", reg),
		"String":      reg.String(),
		"GoString":    reg.GoString(),
		"Metadata %v": fmt.Sprintf("%v", reg.Metadata),
		"Metadata #v": fmt.Sprintf("%#v", reg.Metadata),
		"Println":     fmt.Sprintln(reg, &reg.Metadata),
		"slog text":   textLog.String(),
		"slog json":   jsonLog.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets[:6] {
			if strings.Contains(out, s) {
				t.Errorf("%s shows secret %q: %s", name, s, out)
			}
		}
		if !strings.Contains(out, "client-1") && name[0] != 'M' && name != "%d" {
			t.Errorf("%s lost the client_id: %s", name, out)
		}
	}
	want := `{"client_id":"client-1","client_secret":"[REDACTED]","client_secret_expires_at":0,"registration_access_token":"[REDACTED]",` +
		`"registration_client_uri":"https://as.example/register/client-1","client_name":"app",` +
		`"jwks":{"keys":[{"kty":"EC","x":"pub-x","d":"[REDACTED]"},{"kty":"oct","k":"[REDACTED]"}]},"software_statement":"[REDACTED]",` +
		`"x_admin_password":"[REDACTED]"}`
	check(t, "String", reg.String(), want)
	check(t, "GoString", reg.GoString(), "client.Registration("+want+")")

	// A secret echoed in a member not named for it is still caught in a Registration.
	echo := reg
	echo.Extra = map[string]json.RawMessage{"x_note": json.RawMessage(`"the secret is cs-Secret-1, the token rat-Secret-2"`)}
	check(t, "echoed secret", strings.Contains(fmt.Sprint(echo), `"x_note":"the secret is [REDACTED], the token [REDACTED]"`), true)

	// JSON encoding is the storage form: it keeps the secrets.
	b, _ := json.Marshal(reg)
	for _, s := range secrets[:3] {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("json.Marshal lost %q", s)
		}
	}
	check(t, "WithoutSecrets", reg.WithoutSecrets().ClientSecret+reg.WithoutSecrets().RegistrationAccessToken, "")
}

func TestIsSecretMember(t *testing.T) {
	for name, want := range map[string]bool{
		"client_secret": true, "registration_access_token": true, "software_statement": true, "initial_access_token": true,
		"x_password": true, "token": true, "private_key_pem": true, "x_admin_password": true,
		"X-Api-Key": true, "x_webhook_secret": true, "client_assertion": true, "code": true, "device_code": true,
		"code_verifier": true, "signing_key": true, "x_credentials": true, "csrf_token": true,
		"public_key": false, "jwks": false, "keys": false, "client_assertion_type": false, "kid": false,
		"client_secret_expires_at": false, "access_token_ttl": false, "token_endpoint_auth_method": false,
		"id_token_signed_response_alg": false, "client_name": false,
	} {
		check(t, name, IsSecretMember(name), want)
	}
}
