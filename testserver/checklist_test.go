package testserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The tests below are named after the S lines of testdata/rfc-checklist.md (a copy of the
// project's RFC checklist lines this package enforces); TestChecklistCoversTestdata checks that
// every line there has a subtest.

// errBody is the JSON error shape of a response, for whole-value comparisons.
type errResult struct {
	Status int
	Error  string
}

func errOf(r resp) errResult { return errResult{r.Status, str(r.Body["error"])} }

func keys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

func getJSON(t *testing.T, e *env, u string) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return e.do(req)
}

func checklist01DiscoveryBothWellKnowns(t *testing.T) {
	for _, path := range []string{"", "/tenant/a"} {
		name := "01_discovery_issuer_without_path"
		if path != "" {
			name = "01_discovery_issuer_with_path"
		}
		t.Run(name, func(t *testing.T) {
			var base string
			e := start(t, func(c *Config) { base = c.Issuer; c.Issuer += path })
			for _, u := range []string{base + "/.well-known/oauth-authorization-server" + path, base + path + "/.well-known/openid-configuration"} {
				r := getJSON(t, e, u)
				if r.Status != 200 || r.Body["issuer"] != base+path {
					t.Fatalf("GET %s: %d issuer %v", u, r.Status, r.Body["issuer"])
				}
				if r.Body["token_endpoint"] != base+path+"/token" {
					t.Errorf("token_endpoint = %v", r.Body["token_endpoint"])
				}
			}
		})
	}
	t.Run("01_iss_in_every_token", func(t *testing.T) {
		e := start(t, nil)
		tok := e.codeLogin(t, "dcrctl", "http://127.0.0.1:4000/callback", "openid dcr")
		claims := jwtClaims(t, str(tok.Body["id_token"]))
		if claims["iss"] != e.srv.Issuer() {
			t.Errorf("id_token iss = %v, want %s", claims["iss"], e.srv.Issuer())
		}
		in := e.form("/introspect", url.Values{"token": {str(tok.Body["access_token"])}}, e.cfg.Clients[0].ClientID, e.cfg.Clients[0].ClientSecret)
		if in.Body["iss"] != e.srv.Issuer() {
			t.Errorf("introspection iss = %v", in.Body["iss"])
		}
	})
}

func checklist02RegistrationEndpointAdvertised(t *testing.T) {
	for _, tc := range []struct {
		mode       Mode
		advertised bool
		status     int // POST /register without a token
	}{
		{ModeOpen, true, 400}, {ModeClient, true, 401}, {ModeUser, true, 401}, {ModeDisabled, false, 404},
	} {
		t.Run("02_registration_endpoint_only_when_enabled_"+string(tc.mode), func(t *testing.T) {
			e := start(t, func(c *Config) { c.Registration = tc.mode })
			d := getJSON(t, e, e.url("/.well-known/openid-configuration"))
			_, has := d.Body["registration_endpoint"]
			r := e.jsonReq(http.MethodPost, "/register", "", "{")
			got := struct {
				Advertised bool
				Status     int
			}{has, r.Status}
			want := struct {
				Advertised bool
				Status     int
			}{tc.advertised, tc.status}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if tc.mode == ModeDisabled {
				if m := e.jsonReq(http.MethodGet, "/register/x", "t", nil); m.Status != 404 {
					t.Errorf("management when disabled: %d", m.Status)
				}
			}
		})
	}
}

func checklist03MetadataFields(t *testing.T) {
	t.Run("03_required_fields_present_empty_arrays_omitted", func(t *testing.T) {
		e := start(t, nil)
		r := getJSON(t, e, e.url("/.well-known/oauth-authorization-server"))
		for _, k := range []string{"response_types_supported", "grant_types_supported", "token_endpoint_auth_methods_supported", "code_challenge_methods_supported", "scopes_supported", "jwks_uri"} {
			if _, ok := r.Body[k]; !ok {
				t.Errorf("%s missing", k)
			}
		}
		for k, v := range r.Body {
			if a, ok := v.([]any); ok && len(a) == 0 {
				t.Errorf("%s is an empty array", k)
			}
		}
		if !reflect.DeepEqual(r.Body["code_challenge_methods_supported"], []any{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v", r.Body["code_challenge_methods_supported"])
		}
		j := getJSON(t, e, str(r.Body["jwks_uri"]))
		ks := j.Body["keys"].([]any)
		k0 := ks[0].(map[string]any)
		if len(ks) != 1 || k0["kty"] != "RSA" || k0["alg"] != "RS256" || k0["kid"] == "" || k0["d"] != nil {
			t.Errorf("jwks = %v", j.Raw)
		}
	})
}

func checklist04JSONObjectOnly(t *testing.T) {
	big := `{"client_name":"` + strings.Repeat("a", 70<<10) + `","redirect_uris":["https://a.example/cb"]}`
	for _, tc := range []struct {
		name, ct, body string
		want           errResult
	}{
		{"04_wrong_content_type", "text/plain", `{"redirect_uris":["https://a.example/cb"]}`, errResult{400, errInvalidClientMetadata}},
		{"04_form_content_type", "application/x-www-form-urlencoded", `a=b`, errResult{400, errInvalidClientMetadata}},
		{"04_null", "application/json", `null`, errResult{400, errInvalidClientMetadata}},
		{"04_array", "application/json", `[{"redirect_uris":["https://a.example/cb"]}]`, errResult{400, errInvalidClientMetadata}},
		{"04_string", "application/json", `"x"`, errResult{400, errInvalidClientMetadata}},
		{"04_malformed", "application/json", `{"redirect_uris":`, errResult{400, errInvalidClientMetadata}},
		{"04_trailing_data", "application/json", `{}{}`, errResult{400, errInvalidClientMetadata}},
		{"04_empty", "application/json", ``, errResult{400, errInvalidClientMetadata}},
		{"04_invalid_utf8", "application/json", "{\"client_name\":\"\xff\xfe\",\"redirect_uris\":[\"https://a.example/cb\"]}", errResult{400, errInvalidClientMetadata}},
		{"04_body_over_64KiB_413", "application/json", big, errResult{413, "invalid_request"}},
		{"04_json_with_charset_ok", "application/json; charset=utf-8", `{"redirect_uris":["https://a.example/cb"]}`, errResult{201, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			req, _ := http.NewRequest(http.MethodPost, e.url("/register"), strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ct)
			req.Header.Set("Authorization", "Bearer "+e.bootstrapToken("dcr"))
			r := e.do(req)
			if got := errOf(r); got != tc.want {
				t.Errorf("got %+v, want %+v (%v)", got, tc.want, r.Body["error_description"])
			}
			if r.Status >= 400 && (r.Header.Get("Content-Type") != "application/json" || r.Body["error_description"] == "") {
				t.Errorf("error is not JSON with a description: %s", r.Raw)
			}
		})
	}
}

func checklist05OpenMode(t *testing.T) {
	t.Run("05_open_mode_without_token", func(t *testing.T) {
		e := start(t, func(c *Config) { c.Registration = ModeOpen })
		r := e.jsonReq(http.MethodPost, "/register", "", map[string]any{"redirect_uris": []string{"https://app.example/cb"}})
		if r.Status != 201 || str(r.Body["client_id"]) == "" {
			t.Fatalf("%d %v", r.Status, r.Body["error_description"])
		}
	})
}

func checklist06InitialAccessToken(t *testing.T) {
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}}
	type result struct {
		Status int
		Error  string
		Chall  string
	}
	e := start(t, nil)
	cc := e.bootstrapToken("dcr")
	userTok := str(e.codeLogin(t, "dcrctl", "http://127.0.0.1:4000/callback", "dcr").Body["access_token"])
	noDCR := str(e.codeLogin(t, "dcrctl", "http://127.0.0.1:4000/callback", "openid").Body["access_token"])
	expiring := e.bootstrapToken("dcr")
	realm := `Bearer realm="` + e.srv.Issuer() + `"`
	cases := []struct {
		name string
		req  func() *http.Request
		want result
	}{
		{"06_no_credentials_401_bearer_realm", func() *http.Request { return e.newJSON("", md) }, result{401, "", realm}},
		{"06_basic_scheme_is_no_credentials", func() *http.Request {
			r := e.newJSON("", md)
			r.SetBasicAuth("bootstrap", "x")
			return r
		}, result{401, "", realm}},
		{"06_token_in_query_not_accepted", func() *http.Request {
			r := e.newJSON("", md)
			r.URL.RawQuery = "access_token=" + cc
			return r
		}, result{401, "", realm}},
		{"06_invalid_token_401", func() *http.Request { return e.newJSON("not-a-token", md) }, result{401, "invalid_token", realm + `, error="invalid_token"`}},
		{"06_user_token_in_client_mode_401", func() *http.Request { return e.newJSON(userTok, md) }, result{401, "invalid_token", realm + `, error="invalid_token"`}},
		{"06_no_dcr_scope_403_insufficient_scope", func() *http.Request { return e.newJSON(noDCR, md) }, result{403, "insufficient_scope", realm + `, error="insufficient_scope"`}},
		{"06_valid_token_201", func() *http.Request { return e.newJSON(cc, md) }, result{201, "", ""}},
		{"06_already_used_401", func() *http.Request { return e.newJSON(cc, md) }, result{401, "invalid_token", realm + `, error="invalid_token"`}},
		{"06_expired_401", func() *http.Request { e.advance(2 * time.Hour); return e.newJSON(expiring, md) }, result{401, "invalid_token", realm + `, error="invalid_token"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.req())
			ch := r.Header.Get("WWW-Authenticate")
			if i := strings.Index(ch, `, error_description=`); i >= 0 {
				ch = ch[:i]
			}
			if got := (result{r.Status, str(r.Body["error"]), ch}); got != tc.want {
				t.Errorf("got %+v %q, want %+v", got, ch, tc.want)
			}
			if r.Status == 401 && tc.want.Error == "" && r.Body["error"] != nil {
				t.Errorf("401 without credentials carries an error code: %s", r.Raw)
			}
		})
	}
	t.Run("06_client_token_in_user_mode_401", func(t *testing.T) {
		e := start(t, func(c *Config) { c.Registration = ModeUser })
		r := e.do(e.newJSON(e.bootstrapToken("dcr"), md))
		u := e.do(e.newJSON(str(e.codeLogin(t, "dcrctl", "http://127.0.0.1:4000/callback", "dcr").Body["access_token"]), md))
		if got := [2]errResult{errOf(r), errOf(u)}; got != [2]errResult{{401, "invalid_token"}, {201, ""}} {
			t.Errorf("got %+v", got)
		}
	})
}

func checklist07InitialTokenUses(t *testing.T) {
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"}}
	for _, tc := range []struct {
		name string
		uses Uses
		want []int
	}{
		{"07_single_use_by_default", 0, []int{201, 401, 401}},
		{"07_counted_uses", 2, []int{201, 201, 401}},
		{"07_reusable", Reusable, []int{201, 201, 201}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(c *Config) { c.InitialTokenUses = tc.uses })
			tok := e.bootstrapToken("dcr")
			var got []int
			for range 3 {
				got = append(got, e.do(e.newJSON(tok, md)).Status)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("statuses %v, want %v", got, tc.want)
			}
		})
	}
}

func checklist08UnknownMetadata(t *testing.T) {
	t.Run("08_unknown_ignored_vendor_echoed", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{
			"redirect_uris": []string{"https://app.example/cb"},
			"unknown_thing": map[string]any{"deep": true},
			"x_vendor":      map[string]any{"nested": []any{1.0, "two"}},
		})
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		got := map[string]any{"unknown_thing": r.Body["unknown_thing"], "x_vendor": r.Body["x_vendor"]}
		want := map[string]any{"unknown_thing": nil, "x_vendor": map[string]any{"nested": []any{1.0, "two"}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		g := e.jsonReq(http.MethodGet, str(r.Body["registration_client_uri"]), str(r.Body["registration_access_token"]), nil)
		if !reflect.DeepEqual(g.Body["x_vendor"], want["x_vendor"]) {
			t.Errorf("GET x_vendor = %v", g.Body["x_vendor"])
		}
	})
}

// regFields is the part of a registration response that does not vary between runs.
func regFields(b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range b {
		switch k {
		case "client_id", "client_secret", "registration_access_token", "registration_client_uri", "client_id_issued_at":
			out[k] = "<set>"
		default:
			out[k] = v
		}
	}
	return out
}

func checklist09Defaults(t *testing.T) {
	t.Run("09_defaults_applied_and_echoed", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"redirect_uris": []string{"https://app.example/cb"}})
		want := map[string]any{
			"client_id": "<set>", "client_secret": "<set>", "registration_access_token": "<set>", "registration_client_uri": "<set>",
			"client_id_issued_at": "<set>", "client_secret_expires_at": 0.0,
			"redirect_uris": []any{"https://app.example/cb"}, "grant_types": []any{"authorization_code"},
			"response_types": []any{"code"}, "token_endpoint_auth_method": "client_secret_basic",
		}
		if got := regFields(r.Body); r.Status != 201 || !reflect.DeepEqual(got, want) {
			t.Errorf("got %d %v\nwant %v", r.Status, got, want)
		}
	})
}

func checklist10GrantResponseAgreement(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   map[string]any
		want errResult
	}{
		{"10_client_credentials_with_code_400", map[string]any{"grant_types": []string{"client_credentials"}, "response_types": []string{"code"}}, errResult{400, errInvalidClientMetadata}},
		{"10_code_without_authorization_code_400", map[string]any{"grant_types": []string{"refresh_token"}, "response_types": []string{"code"}, "redirect_uris": []string{"https://a.example/cb"}}, errResult{400, errInvalidClientMetadata}},
		{"10_authorization_code_without_code_400", map[string]any{"grant_types": []string{"authorization_code"}, "response_types": []string{}, "redirect_uris": []string{"https://a.example/cb"}}, errResult{400, errInvalidClientMetadata}},
		{"10_implicit_token_unsupported_400", map[string]any{"grant_types": []string{"implicit"}, "response_types": []string{"token"}, "redirect_uris": []string{"https://a.example/cb"}}, errResult{400, errInvalidClientMetadata}},
		{"10_client_credentials_alone_201", map[string]any{"grant_types": []string{"client_credentials"}}, errResult{201, ""}},
		{"10_code_and_authorization_code_201", map[string]any{"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}, "redirect_uris": []string{"https://a.example/cb"}}, errResult{201, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			if got := errOf(e.register(tc.md)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func checklist11RedirectURIValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		uris []string
		want errResult
	}{
		{"11_missing_for_authorization_code", nil, errResult{400, errInvalidRedirectURI}},
		{"11_relative", []string{"/callback"}, errResult{400, errInvalidRedirectURI}},
		{"11_fragment", []string{"https://a.example/cb#x"}, errResult{400, errInvalidRedirectURI}},
		{"11_javascript", []string{"javascript:alert(1)"}, errResult{400, errInvalidRedirectURI}},
		{"11_data", []string{"data:text/html,hi"}, errResult{400, errInvalidRedirectURI}},
		{"11_file", []string{"file:///etc/passwd"}, errResult{400, errInvalidRedirectURI}},
		{"11_javascript_uppercase", []string{"JavaScript:alert(1)"}, errResult{400, errInvalidRedirectURI}},
		{"11_http_non_loopback", []string{"http://app.example/cb"}, errResult{400, errInvalidRedirectURI}},
		{"11_crlf", []string{"https://a.example/cb\r\nSet-Cookie: x=y"}, errResult{400, errInvalidRedirectURI}},
		{"11_http_127_0_0_1", []string{"http://127.0.0.1/cb"}, errResult{201, ""}},
		{"11_http_ipv6_loopback", []string{"http://[::1]/cb"}, errResult{201, ""}},
		{"11_http_localhost", []string{"http://localhost:8080/cb"}, errResult{201, ""}},
		{"11_https", []string{"https://app.example/cb?x=1"}, errResult{201, ""}},
		{"11_private_use_scheme", []string{"com.example.app:/oauth2redirect"}, errResult{201, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			md := map[string]any{}
			if tc.uris != nil {
				md["redirect_uris"] = tc.uris
			}
			if got := errOf(e.register(md)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func checklist12RedirectMatching(t *testing.T) {
	e := start(t, func(c *Config) { c.Registration = ModeOpen })
	reg := e.register(map[string]any{
		"token_endpoint_auth_method": "none",
		"redirect_uris": []string{"http://127.0.0.1/callback", "http://[::1]/cb", "http://localhost/cb",
			"com.example.app:/oauth2redirect", "https://app.example/cb?tenant=1"},
	})
	id := str(reg.Body["client_id"])
	for _, tc := range []struct {
		name, uri  string
		redirected bool
	}{
		{"12_loopback_any_port_ipv4", "http://127.0.0.1:53211/callback", true},
		{"12_loopback_no_port", "http://127.0.0.1/callback", true},
		{"12_loopback_any_port_ipv6", "http://[::1]:1234/cb", true},
		{"12_localhost_any_port", "http://localhost:9/cb", true},
		{"12_loopback_other_path_rejected", "http://127.0.0.1:53211/other", false},
		{"12_loopback_other_host_rejected", "http://127.0.0.2:53211/callback", false},
		{"12_loopback_https_rejected", "https://127.0.0.1:53211/callback", false},
		{"12_private_use_scheme_exact", "com.example.app:/oauth2redirect", true},
		{"12_https_exact_with_query", "https://app.example/cb?tenant=1", true},
		{"12_https_other_query_rejected", "https://app.example/cb?tenant=2", false},
		{"12_https_other_port_rejected", "https://app.example:8443/cb?tenant=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loginParams(id, tc.uri, "")
			p.Set("prompt", "none")
			req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
			r := e.do(req)
			loc := r.Header.Get("Location")
			got := r.Status == 302 && strings.HasPrefix(loc, tc.uri)
			if got != tc.redirected {
				base, _, _ := strings.Cut(loc, "?") // the query may hold a code: not printed
				t.Errorf("redirected=%v (status %d, Location %q), want %v", got, r.Status, base, tc.redirected)
			}
			if !tc.redirected && (r.Status != 400 || loc != "") {
				t.Errorf("untrusted redirect URI: want a 400 page and no Location, got %d %q", r.Status, loc)
			}
		})
	}
}

func checklist13JWKSAndJWKSURI(t *testing.T) {
	t.Run("13_jwks_and_jwks_uri_together", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"grant_types": []string{"client_credentials"}, "jwks_uri": "https://a.example/jwks", "jwks": map[string]any{"keys": []any{}}})
		if got := errOf(r); got != (errResult{400, errInvalidClientMetadata}) {
			t.Errorf("got %+v", got)
		}
	})
}

func checklist14ServerMakesCredentials(t *testing.T) {
	t.Run("14_client_secret_ignored_and_unique", func(t *testing.T) {
		e := start(t, nil)
		seen := map[string]bool{}
		for range 5 {
			r := e.register(map[string]any{"grant_types": []string{"client_credentials"}, "client_secret": "chosen", "client_id": "chosen"})
			id, sec := str(r.Body["client_id"]), str(r.Body["client_secret"])
			if id == "chosen" || sec == "chosen" || len(sec) < 43 || len(id) < 20 || seen[id] || seen[sec] {
				t.Fatalf("weak or client-chosen credentials: id len %d, secret len %d", len(id), len(sec))
			}
			seen[id], seen[sec] = true, true
		}
	})
	t.Run("14_none_no_secret_no_expires_at", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{"http://127.0.0.1/cb"}})
		_, hasSecret := r.Body["client_secret"]
		_, hasExp := r.Body["client_secret_expires_at"]
		if r.Status != 201 || hasSecret || hasExp {
			t.Errorf("status %d, client_secret %v, client_secret_expires_at %v", r.Status, hasSecret, hasExp)
		}
	})
}

func checklist15LanguageTags(t *testing.T) {
	t.Run("15_language_tagged_fields_echoed", func(t *testing.T) {
		e := start(t, nil)
		md := map[string]any{"grant_types": []string{"client_credentials"}, "client_name": "App",
			"client_name#ja-Jpan-JP": "アプリ", "tos_uri#fr": "https://app.example/fr/tos"}
		r := e.register(md)
		got := map[string]any{"client_name": r.Body["client_name"], "client_name#ja-Jpan-JP": r.Body["client_name#ja-Jpan-JP"], "tos_uri#fr": r.Body["tos_uri#fr"]}
		want := map[string]any{"client_name": "App", "client_name#ja-Jpan-JP": "アプリ", "tos_uri#fr": "https://app.example/fr/tos"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v", got)
		}
		if bad := e.register(map[string]any{"grant_types": []string{"client_credentials"}, "client_name#!!": "x"}); bad.Status != 400 {
			t.Errorf("bad language tag: %d", bad.Status)
		}
	})
}

func hs256(t *testing.T, secret string, claims map[string]any) string {
	t.Helper()
	return signStatement(t, jose.HS256, []byte(secret), nil, claims)
}

// signStatement signs claims with go-jose; extra are additional protected headers.
func signStatement(t *testing.T, alg jose.SignatureAlgorithm, key any, extra map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sg).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned is an alg "none" JWT (RFC 7519 §6), which go-jose rightly refuses to make.
func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// vendorSecret is the HS256 secret of the trusted test issuer (32 bytes, RFC 7518 §3.2).
const vendorSecret = "k1-vendor-shared-secret-32-bytes"

func checklist16SoftwareStatement(t *testing.T) {
	const vendor = "https://vendor.example"
	good := hs256(t, vendorSecret, map[string]any{"iss": vendor, "software_id": "app-1", "client_name": "From statement"})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix() // start's clock
	for _, tc := range []struct {
		name string
		stmt string
		want errResult
	}{
		{"16_valid_claims_win_and_echoed", good, errResult{201, ""}},
		{"16_malformed", "abc", errResult{400, errInvalidSoftwareStmt}},
		{"16_bad_signature", hs256(t, "wrong-secret-but-long-enough-32b", map[string]any{"iss": vendor}), errResult{400, errInvalidSoftwareStmt}},
		{"16_no_iss", hs256(t, vendorSecret, map[string]any{"software_id": "x"}), errResult{400, errInvalidSoftwareStmt}},
		{"16_untrusted_issuer", hs256(t, vendorSecret, map[string]any{"iss": "https://evil.example"}), errResult{400, errUnapprovedSoftwareStmt}},
		// RFC 7591 §3.2.2: unsigned or malformed is invalid whatever the issuer.
		{"16_alg_none_trusted_issuer", unsigned(map[string]any{"iss": vendor}), errResult{400, errInvalidSoftwareStmt}},
		{"16_alg_none_untrusted_issuer", unsigned(map[string]any{"iss": "https://evil.example"}), errResult{400, errInvalidSoftwareStmt}},
		{"16_malformed_untrusted_issuer", "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSJ9.@@", errResult{400, errInvalidSoftwareStmt}},
		{"16_expired", hs256(t, vendorSecret, map[string]any{"iss": vendor, "exp": now - 120}), errResult{400, errInvalidSoftwareStmt}},
		{"16_not_yet_valid", hs256(t, vendorSecret, map[string]any{"iss": vendor, "nbf": now + 120}), errResult{400, errInvalidSoftwareStmt}},
		{"16_issued_in_the_future", hs256(t, vendorSecret, map[string]any{"iss": vendor, "iat": now + 120}), errResult{400, errInvalidSoftwareStmt}},
		{"16_valid_period", hs256(t, vendorSecret, map[string]any{"iss": vendor, "iat": now - 10, "nbf": now - 10, "exp": now + 60, "software_id": "app-1", "client_name": "From statement"}), errResult{201, ""}},
		{"16_crit_not_understood", signStatement(t, jose.HS256, []byte(vendorSecret), map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": now + 60}, map[string]any{"iss": vendor}), errResult{400, errInvalidSoftwareStmt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(c *Config) { c.SoftwareStatementIssuers = map[string]string{vendor: "hs256:" + vendorSecret} })
			r := e.register(map[string]any{"grant_types": []string{"client_credentials"}, "client_name": "From JSON", "software_statement": tc.stmt})
			if got := errOf(r); got != tc.want {
				t.Fatalf("got %+v, want %+v (%s)", got, tc.want, r.Body["error_description"])
			}
			if tc.want.Status == 201 {
				got := [3]any{r.Body["client_name"], r.Body["software_id"], r.Body["software_statement"]}
				if want := [3]any{"From statement", "app-1", tc.stmt}; got != want {
					t.Errorf("got %v, want %v", got, want)
				}
			}
		})
	}
}

func checklist17Templates(t *testing.T) {
	t.Run("17_instance_inherits_template_own_credentials", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"software_id": DefaultTemplate, "client_name": "ignored", "redirect_uris": []string{"https://ignored.example/cb"}})
		want := map[string]any{
			"client_id": "<set>", "registration_access_token": "<set>", "registration_client_uri": "<set>", "client_id_issued_at": "<set>",
			"software_id": DefaultTemplate, "client_name": "Native app (template native-app)", "application_type": "native",
			"token_endpoint_auth_method": "none", "grant_types": []any{"authorization_code", "refresh_token"},
			"response_types": []any{"code"}, "redirect_uris": []any{"http://127.0.0.1/callback"},
			"scope": "openid profile email offline_access",
		}
		if got := regFields(r.Body); r.Status != 201 || !reflect.DeepEqual(got, want) {
			t.Errorf("got %d %v\nwant %v", r.Status, got, want)
		}
		r2 := e.register(map[string]any{"software_id": DefaultTemplate})
		if r2.Body["client_id"] == r.Body["client_id"] {
			t.Error("two instances share a client_id")
		}
		// The instance logs in as itself.
		tok := e.codeLogin(t, str(r.Body["client_id"]), "http://127.0.0.1:777/callback", "openid")
		if tok.Status != 200 {
			t.Errorf("instance login: %d %s", tok.Status, tok.Raw)
		}
	})
	t.Run("17_unknown_template_400", func(t *testing.T) {
		e := start(t, nil)
		if got := errOf(e.register(map[string]any{"software_id": "nope"})); got != (errResult{400, errInvalidClientMetadata}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("17_template_not_allowed_for_caller", func(t *testing.T) {
		e := start(t, func(c *Config) { c.Templates[0].AllowedClients = []string{"someone-else"} })
		if got := errOf(e.register(map[string]any{"software_id": DefaultTemplate})); got != (errResult{400, errInvalidClientMetadata}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("17_changed_template_changes_instances", func(t *testing.T) {
		db := t.TempDir() + "/t.db"
		e := start(t, func(c *Config) { c.DBPath = db })
		r := e.register(map[string]any{"software_id": DefaultTemplate})
		e.hs.Close()
		e.srv.Close()
		e2 := start(t, func(c *Config) {
			c.DBPath = db
			c.Templates[0].Metadata["client_name"] = "Renamed"
		})
		g := e2.jsonReq(http.MethodGet, e2.url("/register/"+str(r.Body["client_id"])), str(r.Body["registration_access_token"]), nil)
		if g.Status != 200 || g.Body["client_name"] != "Renamed" {
			t.Errorf("after the template changed: %d client_name %v", g.Status, g.Body["client_name"])
		}
	})
}

func checklist18ResponseHeaders(t *testing.T) {
	t.Run("18_201_json_no_store_no_cache", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"grant_types": []string{"client_credentials"}})
		got := [4]string{fmt.Sprint(r.Status), r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Header.Get("Pragma")}
		if want := [4]string{"201", "application/json", "no-store", "no-cache"}; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

func checklist19ResponseFields(t *testing.T) {
	t.Run("19_confidential_fields", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"grant_types": []string{"client_credentials"}})
		want := []string{"client_id", "client_id_issued_at", "client_secret", "client_secret_expires_at", "grant_types",
			"registration_access_token", "registration_client_uri", "response_types", "token_endpoint_auth_method"}
		if got := keys(r.Body); !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if r.Body["registration_client_uri"] != e.url("/register/"+str(r.Body["client_id"])) {
			t.Errorf("registration_client_uri = %v", r.Body["registration_client_uri"])
		}
		if iat := r.Body["client_id_issued_at"].(float64); int64(iat) != e.now.Unix() {
			t.Errorf("client_id_issued_at = %v", iat)
		}
	})
	t.Run("19_secret_expiry_configurable", func(t *testing.T) {
		e := start(t, func(c *Config) { c.Lifetimes.ClientSecret = time.Hour })
		r := e.register(map[string]any{"grant_types": []string{"client_credentials"}})
		if exp := int64(r.Body["client_secret_expires_at"].(float64)); exp != e.now.Add(time.Hour).Unix() {
			t.Errorf("client_secret_expires_at = %d", exp)
		}
		e.advance(2 * time.Hour)
		tr := e.form("/token", url.Values{"grant_type": {"client_credentials"}}, str(r.Body["client_id"]), str(r.Body["client_secret"]))
		if got := errOf(tr); got != (errResult{401, "invalid_client"}) {
			t.Errorf("expired secret: %+v", got)
		}
	})
}

func checklist20ErrorFormat(t *testing.T) {
	t.Run("20_error_and_description", func(t *testing.T) {
		e := start(t, nil)
		r := e.register(map[string]any{"redirect_uris": []string{"javascript:x"}})
		if r.Status != 400 || keys(r.Body)[0] != "error" || len(r.Body) != 2 || str(r.Body["error_description"]) == "" {
			t.Errorf("got %d, keys %v", r.Status, keys(r.Body))
		}
	})
}

// TestChecklist runs one subtest per behaviour of the S lines of testdata/rfc-checklist.md, named
// after the line: TestChecklist/06_no_credentials_401_bearer_realm.
func TestChecklist(t *testing.T) {
	checklist01DiscoveryBothWellKnowns(t)
	checklist02RegistrationEndpointAdvertised(t)
	checklist03MetadataFields(t)
	checklist04JSONObjectOnly(t)
	checklist05OpenMode(t)
	checklist06InitialAccessToken(t)
	checklist07InitialTokenUses(t)
	checklist08UnknownMetadata(t)
	checklist09Defaults(t)
	checklist10GrantResponseAgreement(t)
	checklist11RedirectURIValidation(t)
	checklist12RedirectMatching(t)
	checklist13JWKSAndJWKSURI(t)
	checklist14ServerMakesCredentials(t)
	checklist15LanguageTags(t)
	checklist16SoftwareStatement(t)
	checklist17Templates(t)
	checklist18ResponseHeaders(t)
	checklist19ResponseFields(t)
	checklist20ErrorFormat(t)
	checklist21ManagementNeedsToken(t)
	checklist22TokenOnOtherClientRevoked(t)
	checklist23ManagementStatuses(t)
	checklist24PutReplaces(t)
	checklist25DeleteInvalidatesEverything(t)
	checklist26Rotation(t)
	checklist27AuthorizationErrors(t)
	checklist27CodeAndRefresh(t)
	checklist27DeviceGrant(t)
	checklist27TokenEndpoint(t)
	checklist28LoginAndSSO(t)
	checklist29RevocationIntrospection(t)
	checklist31DCRScope(t)
	checklist37ETag(t)
	checklist38Storage(t)
}

// TestChecklistCoversTestdata fails when a numbered S line of testdata/rfc-checklist.md has no
// subtest named after it ("NN_…") in the checklist test files.
func TestChecklistCoversTestdata(t *testing.T) {
	list, err := os.ReadFile("testdata/rfc-checklist.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("checklist*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var src []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(\d\d)_[a-z0-9_]+"`).FindAllSubmatch(src, -1) {
		named[string(m[1])] = true
	}
	var lines, missing []string
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\. S[ :(]`).FindAllSubmatch(list, -1) {
		n := fmt.Sprintf("%02s", m[1])
		lines = append(lines, n)
		if !named[n] {
			missing = append(missing, n)
		}
	}
	if len(lines) < 29 || len(missing) > 0 {
		t.Errorf("%d S lines in testdata/rfc-checklist.md; lines without a subtest: %v", len(lines), missing)
	}
}
