package testserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestBadRegistrationInput(t *testing.T) {
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("https://a.example/cb%d", i)
	}
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	for _, tc := range []struct {
		name string
		body string
		want errResult
	}{
		{"huge_array", mustJSON(map[string]any{"redirect_uris": many}), errResult{400, errInvalidClientMetadata}},
		{"huge_vendor_array", `{"grant_types":["client_credentials"],"x_list":[` + strings.Repeat(`1,`, 200) + `1]}`, errResult{400, errInvalidClientMetadata}},
		{"deep_vendor_nesting", `{"grant_types":["client_credentials"],"x_deep":` + deep + `}`, errResult{400, errInvalidClientMetadata}},
		{"crlf_in_client_name", `{"grant_types":["client_credentials"],"client_name":"a\r\nb"}`, errResult{400, errInvalidClientMetadata}},
		{"nul_in_contacts", `{"grant_types":["client_credentials"],"contacts":["a\u0000b"]}`, errResult{400, errInvalidClientMetadata}},
		{"crlf_in_vendor_field", `{"grant_types":["client_credentials"],"x_v":"a\nb"}`, errResult{400, errInvalidClientMetadata}},
		{"number_for_string", `{"grant_types":["client_credentials"],"client_name":5}`, errResult{400, errInvalidClientMetadata}},
		{"string_for_array", `{"grant_types":"client_credentials"}`, errResult{400, errInvalidClientMetadata}},
		{"object_for_array", `{"redirect_uris":{"a":1}}`, errResult{400, errInvalidClientMetadata}},
		{"array_of_numbers", `{"redirect_uris":[1,2]}`, errResult{400, errInvalidClientMetadata}},
		{"unsupported_auth_method", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}`, errResult{400, errInvalidClientMetadata}},
		{"public_client_credentials", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`, errResult{400, errInvalidClientMetadata}},
		{"bad_client_uri", `{"grant_types":["client_credentials"],"client_uri":"javascript:alert(1)"}`, errResult{400, errInvalidClientMetadata}},
		{"bad_application_type", `{"grant_types":["client_credentials"],"application_type":"robot"}`, errResult{400, errInvalidClientMetadata}},
		{"vbscript_redirect", `{"redirect_uris":["vbscript:msgbox"]}`, errResult{400, errInvalidRedirectURI}},
		{"userinfo_in_redirect", `{"redirect_uris":["https://user:pw@a.example/cb"]}`, errResult{400, errInvalidRedirectURI}},
		{"control_in_key", "{\"a\\u0001\":1,\"grant_types\":[\"client_credentials\"]}", errResult{400, errInvalidClientMetadata}},
		{"unsupported_id_token_alg", `{"grant_types":["client_credentials"],"id_token_signed_response_alg":"none"}`, errResult{400, errInvalidClientMetadata}},
		{"nulls_are_omitted", `{"grant_types":["client_credentials"],"client_name":null}`, errResult{201, ""}},
		{"duplicate_keys_last_wins", `{"grant_types":["authorization_code"],"grant_types":["client_credentials"]}`, errResult{201, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			r := e.jsonReq(http.MethodPost, "/register", e.bootstrapToken("dcr"), tc.body)
			if got := errOf(r); got != tc.want {
				t.Errorf("got %+v, want %+v (%s)", got, tc.want, r.Body["error_description"])
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestNeverServerError sends malformed requests to every endpoint: each answer is a 4xx,
// and JSON endpoints answer JSON with an error description.
func TestNeverServerError(t *testing.T) {
	e := start(t, nil)
	big := strings.Repeat("a", 65<<10)
	type req struct {
		method, path, ct, body, auth string
	}
	var reqs []req
	for _, p := range []string{"/token", "/revoke", "/introspect", "/device_authorization"} {
		reqs = append(reqs,
			req{"POST", p, "application/x-www-form-urlencoded", "a=" + big, ""},
			req{"POST", p, "application/x-www-form-urlencoded", "%zz", ""},
			req{"POST", p, "application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=x", ""},
			req{"POST", p, "text/plain", "x", ""},
			req{"POST", p, "application/x-www-form-urlencoded", "token=x", "Basic !!!"},
			req{"POST", p, "application/x-www-form-urlencoded", "token=x", "Basic " + b64([]byte("nocolon"))},
			req{"POST", p, "application/x-www-form-urlencoded", "token=x", "Basic " + b64([]byte("%zz:%zz"))},
			req{"POST", p, "application/x-www-form-urlencoded", "token=x", "Bearer x"},
			req{"PUT", p, "", "", ""},
		)
	}
	reqs = append(reqs,
		req{"POST", "/register", "application/json", big, "Bearer " + e.bootstrapToken("dcr")},
		req{"POST", "/register", "application/json", "{}", "Bearer"},
		req{"POST", "/register", "application/json", "{}", "Bearer   "},
		req{"PATCH", "/register", "", "", ""},
		req{"PATCH", "/register/x", "", "", "Bearer x"},
		req{"GET", "/register/", "", "", "Bearer x"},
		req{"GET", "/register/%00", "", "", "Bearer x"},
		req{"PUT", "/register/x", "application/json", "[", "Bearer x"},
		req{"PUT", "/register/x", "application/json", big, "Bearer x"},
		req{"GET", "/nope", "", "", ""},
		req{"POST", "/jwks", "", "", ""},
		req{"GET", "/userinfo", "", "", "Bearer x"},
		req{"DELETE", "/authorize", "", "", ""},
		req{"GET", "/authorize?client_id=dcrctl&client_id=x", "", "", ""},
		req{"GET", "/authorize?client_id=%ff", "", "", ""},
		req{"POST", "/authorize", "application/x-www-form-urlencoded", "client_id=dcrctl&csrf_token=x", ""},
		req{"POST", "/device", "application/x-www-form-urlencoded", "user_code=x&csrf_token=x", ""},
		req{"POST", "/device", "text/plain", "x", ""},
	)
	for _, q := range reqs {
		name := q.method + " " + q.path + " " + q.ct
		r, _ := http.NewRequest(q.method, e.url(q.path), strings.NewReader(q.body))
		if q.ct != "" {
			r.Header.Set("Content-Type", q.ct)
		}
		if q.auth != "" {
			r.Header.Set("Authorization", q.auth)
		}
		res := e.do(r)
		if res.Status < 400 || res.Status >= 500 {
			t.Errorf("%s: status %d", name, res.Status)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && str(res.Body["error_description"]) == "" {
			t.Errorf("%s: JSON error without description: %s", name, res.Raw)
		}
	}
}

// FuzzRegistrationRequest fuzzes the registration request parser and validator: it never
// panics, rejects with a 400 and a registration error code, and what it accepts is
// consistent and a fixed point (validating the stored form again gives the same result).
func FuzzRegistrationRequest(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"redirect_uris":["https://a.example/cb"]}`,
		`{"grant_types":["client_credentials"],"scope":"dcr openid nope"}`,
		`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name#ja-Jpan-JP":"アプリ"}`,
		`{"redirect_uris":["com.example.app:/cb"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`,
		`{"redirect_uris":["javascript:alert(1)"]}`, `{"redirect_uris":["http://evil.example/cb"]}`,
		`{"jwks":{"keys":[]},"jwks_uri":"https://a.example/jwks","grant_types":["client_credentials"]}`,
		`{"grant_types":["client_credentials"],"x_vendor":{"a":[1,2,{"b":"c"}]}}`,
		`{"software_statement":"a.b.c"}`, `{"client_name":"a\r\nb"}`, "{\"client_name\":\"\xff\"}",
		`{"grant_types":["client_credentials"],"response_types":["code"]}`, `{"default_max_age":-1}`,
		`{"redirect_uris":[],"grant_types":[]}`, `{"a":1}{"b":2}`,
	} {
		f.Add([]byte(s))
	}
	v := &validator{scopes: DefaultScopes, vendorFields: []string{"x_*"}}
	codes := []string{errInvalidClientMetadata, errInvalidRedirectURI, errInvalidSoftwareStmt, errUnapprovedSoftwareStmt}
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := v.parse(body)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Status != 400 || !slices.Contains(codes, pe.Code) || pe.Description == "" {
				t.Fatalf("error %#v is not a 400 registration error", err)
			}
			return
		}
		if !slices.Contains(supportedAuthMethods, md.AuthMethod) {
			t.Fatalf("accepted auth method %q", md.AuthMethod)
		}
		if slices.Contains(md.GrantTypes, "authorization_code") != slices.Contains(md.ResponseTypes, "code") {
			t.Fatalf("accepted disagreeing grant and response types %v %v", md.GrantTypes, md.ResponseTypes)
		}
		for _, u := range md.RedirectURIs {
			if checkRedirectURI(u) != nil || hasControl(u) {
				t.Fatalf("accepted redirect URI %q", u)
			}
		}
		stored, err := json.Marshal(md.Fields)
		if err != nil {
			t.Fatal(err)
		}
		if checkStrings("all", stored) != nil {
			t.Fatalf("accepted control characters: %s", stored)
		}
		md2, err := v.parse(stored)
		if err != nil {
			t.Fatalf("the stored form %s is rejected: %v", stored, err)
		}
		again, _ := json.Marshal(md2.Fields)
		if !bytes.Equal(stored, again) {
			t.Fatalf("not a fixed point:\n%s\n%s", stored, again)
		}
	})
}
