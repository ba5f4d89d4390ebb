package declare_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client/declare"
)

// compileSchema compiles the published JSON Schema with a real validator.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(declare.Schema()))
	if err != nil {
		t.Fatalf("schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("schema.json is not a valid JSON Schema: %v", err)
	}
	return s
}

// asJSONValue turns a YAML document into the JSON value the schema validates.
func asJSONValue(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExampleParsesAndValidates: the annotated example (apply --explain) is valid against
// the published schema and parses into the entries it describes.
func TestExampleParsesAndValidates(t *testing.T) {
	s := compileSchema(t)
	if err := s.Validate(asJSONValue(t, string(declare.Example()))); err != nil {
		t.Errorf("the example does not validate against schema.json: %v", err)
	}
	f, err := declare.Parse("example.yaml", declare.Example())
	if err != nil {
		t.Fatal(err)
	}
	want := []declare.Entry{{
		Name: "shop-web", Issuer: "http://127.0.0.1:8414", Line: 14,
		Token: declare.TokenSource{Flow: "client-credentials", ClientID: "bootstrap", ClientSecretFile: "bootstrap.secret"},
		Metadata: map[string]json.RawMessage{"client_name": json.RawMessage(`"Shop"`), "grant_types": json.RawMessage(`["client_credentials"]`),
			"token_endpoint_auth_method": json.RawMessage(`"client_secret_basic"`), "scope": json.RawMessage(`"profile"`)},
	}, {
		Name: "shop-mobile", Issuer: "http://127.0.0.1:8414", Line: 34, Token: declare.TokenSource{TokenEnv: "DCRCTL_SHOP_TOKEN"},
		Template: "native-app",
	}}
	if !reflect.DeepEqual(f.Entries, want) {
		t.Errorf("parsed example:\n got %+v\nwant %+v", f.Entries, want)
	}
}

// TestParseErrors: what Parse refuses, and that the schema refuses the same files (so the
// two do not drift apart). Secrets inline are named by key and line.
func TestParseErrors(t *testing.T) {
	s := compileSchema(t)
	for _, tc := range []struct {
		name, text, want string
		schemaToo        bool
	}{
		{"client secret inline", "registrations:\n  a:\n    issuer: https://as\n    template: t\n    token:\n      client_id: x\n      client_secret: hunter2\n",
			"f.yaml:7: registrations.a.token.client_secret: a secret is never written in this file", true},
		{"token inline", "registrations:\n  a:\n    issuer: https://as\n    template: t\n    token:\n      token: eyJ\n",
			"f.yaml:6: registrations.a.token.token: a secret is never written in this file", true},
		{"initial access token at entry level", "registrations:\n  a:\n    issuer: https://as\n    initial_access_token: x\n    template: t\n",
			"f.yaml:4: registrations.a.initial_access_token: a secret is never written in this file", true},
		{"secret in metadata", "registrations:\n  a:\n    issuer: https://as\n    metadata:\n      client_name: A\n      client_secret: s\n",
			"f.yaml:6: registrations.a.metadata.client_secret: issued by the server, not requested: remove it", true},
		{"private JWK", "registrations:\n  a:\n    issuer: https://as\n    metadata:\n      jwks:\n        keys:\n          - {kty: EC, crv: P-256, x: a, y: b, d: c}\n",
			"f.yaml:7: registrations.a.metadata.jwks.keys.0.d: a private key member of a JWK", false},
		{"vendor secret", "registrations:\n  a:\n    issuer: https://as\n    metadata:\n      client_name: A\n      x_webhook_secret: s\n",
			"f.yaml:6: registrations.a.metadata.x_webhook_secret: a secret is never written in this file", false},
		{"no registrations", "version: 1\n", "f.yaml:1: version: unknown key", true},
		{"unknown entry key", "registrations:\n  a:\n    issuer: https://as\n    templat: t\n", "f.yaml:4: registrations.a.templat: unknown key", true},
		{"nothing to register", "registrations:\n  a:\n    issuer: https://as\n", "f.yaml:2: registrations.a: nothing to register", true},
		{"bad name", "registrations:\n  -a:\n    issuer: https://as\n    template: t\n", "f.yaml:2: registrations.-a: not a credential name", true},
		{"issuer without scheme", "registrations:\n  a:\n    issuer: as.example\n    template: t\n", "registrations.a.issuer: \"as.example\" has no scheme", true},
		{"two token sources", "registrations:\n  a:\n    issuer: https://as\n    template: t\n    token: {token_file: f, token_env: E}\n", "token_file and token_env: give one", true},
		{"bad flow", "registrations:\n  a:\n    issuer: https://as\n    template: t\n    token: {flow: password}\n", "registrations.a.token.flow: \"password\"", true},
		{"wrong type", "registrations:\n  a:\n    issuer: https://as\n    metadata: {redirect_uris: 3}\n", "registrations.a.metadata: does not fit RFC 7591 client metadata", true},
		{"template and software_id differ", "registrations:\n  a:\n    issuer: https://as\n    template: t\n    metadata: {software_id: u}\n", "differs from template \"t\"", false},
		{"duplicate name", "registrations:\n  a:\n    issuer: https://as\n    template: t\n  a:\n    issuer: https://as\n    template: t\n", "f.yaml:5: registrations.a: given twice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := declare.Parse("f.yaml", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the secret: %v", err)
			}
			if tc.schemaToo {
				if verr := s.Validate(asJSONValue(t, tc.text)); verr == nil {
					t.Errorf("schema.json accepts a file Parse refuses")
				}
			}
		})
	}
}

// TestParseJSON: a JSON file is read like its YAML form.
func TestParseJSON(t *testing.T) {
	f, err := declare.Parse("f.json", []byte(`{"registrations": {"a": {"issuer": "https://as", "template": "t",
		"token": {"flow": "client-credentials", "client_id": "boot", "client_secret_env": "BOOT_SECRET"},
		"metadata": {"default_max_age": 3600, "require_auth_time": true}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []declare.Entry{{Name: "a", Issuer: "https://as", Template: "t", Line: 1,
		Token:    declare.TokenSource{Flow: "client-credentials", ClientID: "boot", ClientSecretEnv: "BOOT_SECRET"},
		Metadata: map[string]json.RawMessage{"default_max_age": json.RawMessage(`3600`), "require_auth_time": json.RawMessage(`true`)}}}
	if !reflect.DeepEqual(f.Entries, want) {
		t.Errorf("got %+v\nwant %+v", f.Entries, want)
	}
}
