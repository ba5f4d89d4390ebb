package client

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func ptr[T any](v T) *T { return &v }

// sameJSON reports whether a and b hold the same JSON value, numbers compared as written.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(data []byte) any {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %s: %v", data, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got %s\nwant %s", name, got, want)
	}
}

func indent(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestMetadataRoundTrip decodes every testdata/metadata/*.json, encodes it again, and checks
// that nothing was lost or changed (the golden file pins the encoding itself).
func TestMetadataRoundTrip(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/metadata/*.json")
	if len(inputs) < 4 {
		t.Fatalf("found only %d inputs", len(inputs))
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var md Metadata
			if err := json.Unmarshal(data, &md); err != nil {
				t.Fatal(err)
			}
			out, err := md.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, data, out) {
				t.Errorf("round trip changed the document:\n in %s\nout %s", data, out)
			}
			var again Metadata
			if err := json.Unmarshal(out, &again); err != nil {
				t.Fatal(err)
			}
			out2, err := again.MarshalJSON()
			if err != nil || !bytes.Equal(out2, out) {
				t.Errorf("encoding is not stable:\n first %s\nsecond %s (%v)", out, out2, err)
			}
			golden(t, "golden/metadata/"+name, indent(t, out))
		})
	}
}

func TestMetadataDecodeFull(t *testing.T) {
	data, err := os.ReadFile("testdata/metadata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	var got Metadata
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := Metadata{
		RedirectURIs:                      []string{"https://app.example.com/cb", "http://127.0.0.1/callback", "com.example.app:/oauth2redirect?a=1&b=2"},
		TokenEndpointAuthMethod:           "private_key_jwt",
		GrantTypes:                        []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes:                     []string{"code"},
		ClientName:                        "Example App",
		ClientURI:                         "https://app.example.com/",
		LogoURI:                           "https://app.example.com/logo.png",
		Scope:                             "openid profile dcr",
		Contacts:                          []string{"ops@example.com", "dev@example.com"},
		TOSURI:                            "https://app.example.com/tos",
		PolicyURI:                         "https://app.example.com/privacy",
		JWKS:                              json.RawMessage(`{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`),
		SoftwareID:                        "4NRB1-0XZABZI9E6-5SM3R",
		SoftwareVersion:                   "2.1",
		SoftwareStatement:                 "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3B1Ymxpc2hlci5leGFtcGxlIn0.c2ln",
		ApplicationType:                   "native",
		SectorIdentifierURI:               "https://app.example.com/sector.json",
		SubjectType:                       "pairwise",
		IDTokenSignedResponseAlg:          "ES256",
		IDTokenEncryptedResponseAlg:       "ECDH-ES",
		IDTokenEncryptedResponseEnc:       "A128GCM",
		UserinfoSignedResponseAlg:         "ES256",
		UserinfoEncryptedResponseAlg:      "RSA-OAEP-256",
		UserinfoEncryptedResponseEnc:      "A256GCM",
		RequestObjectSigningAlg:           "PS256",
		RequestObjectEncryptionAlg:        "RSA-OAEP",
		RequestObjectEncryptionEnc:        "A128CBC-HS256",
		TokenEndpointAuthSigningAlg:       "ES256",
		DefaultMaxAge:                     ptr(int64(0)),
		RequireAuthTime:                   ptr(false),
		DefaultACRValues:                  []string{},
		InitiateLoginURI:                  "https://app.example.com/login",
		RequestURIs:                       []string{"https://app.example.com/req#hash"},
		PostLogoutRedirectURIs:            []string{"https://app.example.com/bye"},
		FrontchannelLogoutURI:             "https://app.example.com/fc",
		FrontchannelLogoutSessionRequired: ptr(true),
		BackchannelLogoutURI:              "https://app.example.com/bc",
		BackchannelLogoutSessionRequired:  ptr(false),
		AccessTokenTTL:                    ptr(int64(300)),
		RefreshTokenTTL:                   ptr(int64(0)),
		RequiresConsent:                   ptr(false),
		AllowedOrigins:                    []string{"https://app.example.com"},
		AuthenticatorFilters:              []string{"strong"},
		Localized: map[string]string{
			"client_name#ja-Jpan-JP": "クライアント名",
			"client_name#fr":         "Application d'exemple",
			"logo_uri#fr":            "https://app.example.com/logo-fr.png",
			"tos_uri#fr":             "https://app.example.com/cgu",
		},
		Extra: map[string]json.RawMessage{
			"x_vendor_settings":                          json.RawMessage(`{"nested": [1, 2.50, {"deep": null}], "flag": true, "text": "<&>"}`),
			"urn:example:policy":                         json.RawMessage(`"strict"`),
			"tls_client_certificate_bound_access_tokens": json.RawMessage(`true`),
			"client_name#":                               json.RawMessage(`"tagless stays extra"`),
			"description#fr":                             json.RawMessage(`"unknown base stays extra"`),
			"client_name#de":                             json.RawMessage(`42`),
			"Client_Name":                                json.RawMessage(`"case variants are different members"`),
		},
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("decoded metadata differs:\n got %s", gj)
	}
	out, _ := got.MarshalJSON() // json.Marshal would HTML-escape < & >: same JSON, other bytes
	if !bytes.Contains(out, []byte(`"x_vendor_settings":{"nested":[1,2.50,{"deep":null}],"flag":true,"text":"<&>"}`)) {
		t.Errorf("vendor member not kept byte for byte: %s", out)
	}
}

func TestMetadataDecodeErrors(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"null", `null`, "want a JSON object, got null"},
		{"array", `[]`, "cannot unmarshal array"},
		{"malformed", `{"client_name":`, "unexpected end of JSON input"},
		{"wrong type", `{"redirect_uris":"https://a/cb"}`, `member "redirect_uris": got a JSON string, want []string`},
		{"wrong bool", `{"require_auth_time":"yes"}`, `member "require_auth_time": got a JSON string, want bool`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var md Metadata
			err := json.Unmarshal([]byte(tc.in), &md)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestMetadataEncode(t *testing.T) {
	tests := []struct {
		name    string
		md      Metadata
		want    string
		wantErr string
	}{
		{"zero", Metadata{}, `{}`, ""},
		{"absent and empty slices differ", Metadata{RedirectURIs: []string{}, Contacts: nil}, `{"redirect_uris":[]}`, ""},
		{"explicit zero and false survive", Metadata{DefaultMaxAge: ptr(int64(0)), RequiresConsent: ptr(false)}, `{"default_max_age":0,"requires_consent":false}`, ""},
		{"urls are not html-escaped", Metadata{RedirectURIs: []string{"https://a/cb?x=1&y=<2>"}}, `{"redirect_uris":["https://a/cb?x=1&y=<2>"]}`, ""},
		{"order: fields, localized, extra", Metadata{ClientName: "n", Localized: map[string]string{LocalizedKey("client_name", "fr"): "nom"}, Extra: map[string]json.RawMessage{"b": json.RawMessage(`2`), "a": json.RawMessage(` { "x" : 1 } `)}},
			`{"client_name":"n","client_name#fr":"nom","a":{"x":1},"b":2}`, ""},
		{"extra repeating a field", Metadata{Extra: map[string]json.RawMessage{"client_name": json.RawMessage(`"x"`)}}, "", `Extra member "client_name" has a field of its own`},
		{"extra repeating a localized member", Metadata{Localized: map[string]string{"client_name#fr": "a"}, Extra: map[string]json.RawMessage{"client_name#fr": json.RawMessage(`"b"`)}}, "", `member "client_name#fr" given twice`},
		{"bad localized key", Metadata{Localized: map[string]string{"scope#fr": "x"}}, "", `Localized key "scope#fr"`},
		{"invalid extra JSON", Metadata{Extra: map[string]json.RawMessage{"x": json.RawMessage(`{`)}}, "", `member "x": invalid JSON`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.md.MarshalJSON()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// FuzzMetadataRoundTrip: whatever decodes must encode, and encoding is a fixed point after
// one round.
func FuzzMetadataRoundTrip(f *testing.F) {
	for _, name := range []string{"full", "minimal", "template", "empty"} {
		data, err := os.ReadFile("testdata/metadata/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"client_name#":1,"a#b":"c","jwks":null,"default_max_age":null,"x":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var md Metadata
		if json.Unmarshal(data, &md) != nil {
			return
		}
		out, err := md.MarshalJSON()
		if err != nil {
			t.Fatalf("decoded %q but cannot encode: %v", data, err)
		}
		var again Metadata
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("cannot decode own output %q: %v", out, err)
		}
		out2, err := again.MarshalJSON()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("unstable: %q then %q (%v)", out, out2, err)
		}
	})
}

// BenchmarkMetadataRoundTrip decodes and re-encodes testdata/metadata/full.json.
func BenchmarkMetadataRoundTrip(b *testing.B) {
	data, err := os.ReadFile("testdata/metadata/full.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var md Metadata
		if err := json.Unmarshal(data, &md); err != nil {
			b.Fatal(err)
		}
		if _, err := md.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
