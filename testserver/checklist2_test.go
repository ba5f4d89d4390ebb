package testserver

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// registered is a client registered in a test.
type registered struct {
	ID, Secret, RAT, URI string
}

func (e *env) mustRegister(t *testing.T, md map[string]any) registered {
	t.Helper()
	r := e.register(md)
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	return registered{str(r.Body["client_id"]), str(r.Body["client_secret"]), str(r.Body["registration_access_token"]), str(r.Body["registration_client_uri"])}
}

var ccMetadata = map[string]any{"grant_types": []string{"client_credentials"}, "scope": "dcr", "client_name": "cc"}

func checklist21ManagementNeedsToken(t *testing.T) {
	e := start(t, nil)
	c := e.mustRegister(t, ccMetadata)
	for _, tc := range []struct {
		name, method, token string
		want                errResult
	}{
		{"21_no_token_401", http.MethodGet, "", errResult{401, ""}},
		{"21_unknown_token_401_invalid_token", http.MethodGet, "unknown", errResult{401, "invalid_token"}},
		{"21_unknown_token_put", http.MethodPut, "unknown", errResult{401, "invalid_token"}},
		{"21_unknown_token_delete", http.MethodDelete, "unknown", errResult{401, "invalid_token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == http.MethodPut {
				body = map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}}
			}
			r := e.jsonReq(tc.method, c.URI, tc.token, body)
			if got := errOf(r); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if _, leaked := r.Body["client_id"]; leaked {
				t.Errorf("error body names the client: %s", r.Raw)
			}
		})
	}
}

func checklist22TokenOnOtherClientRevoked(t *testing.T) {
	t.Run("22_other_clients_token_401_and_revoked", func(t *testing.T) {
		e := start(t, nil)
		a := e.mustRegister(t, ccMetadata)
		b := e.mustRegister(t, ccMetadata)
		first := errOf(e.jsonReq(http.MethodGet, b.URI, a.RAT, nil))
		own := errOf(e.jsonReq(http.MethodGet, a.URI, a.RAT, nil))
		bOK := errOf(e.jsonReq(http.MethodGet, b.URI, b.RAT, nil))
		if got, want := [3]errResult{first, own, bOK}, [3]errResult{{401, "invalid_token"}, {401, "invalid_token"}, {200, ""}}; got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func checklist23ManagementStatuses(t *testing.T) {
	t.Run("23_get_200_put_200_delete_204", func(t *testing.T) {
		e := start(t, nil)
		c := e.mustRegister(t, ccMetadata)
		g := e.jsonReq(http.MethodGet, c.URI, c.RAT, nil)
		want := map[string]any{"client_id": "<set>", "registration_access_token": "<set>", "registration_client_uri": "<set>", "client_id_issued_at": "<set>",
			"client_secret_expires_at": 0.0, "grant_types": []any{"client_credentials"}, "response_types": []any{},
			"token_endpoint_auth_method": "client_secret_basic", "scope": "dcr", "client_name": "cc"}
		if got := regFields(g.Body); g.Status != 200 || !reflect.DeepEqual(got, want) || g.Body["registration_access_token"] != c.RAT || g.Body["client_id"] != c.ID {
			t.Errorf("GET: %d %v", g.Status, got)
		}
		p := e.jsonReq(http.MethodPut, c.URI, c.RAT, map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_name": "renamed"})
		if p.Status != 200 || p.Body["client_name"] != "renamed" {
			t.Errorf("PUT: %d client_name %v (%v)", p.Status, p.Body["client_name"], p.Body["error_description"])
		}
		d := e.jsonReq(http.MethodDelete, c.URI, c.RAT, nil)
		if d.Status != 204 || d.Raw != "" {
			t.Errorf("DELETE: %d %q", d.Status, d.Raw)
		}
	})
}

func checklist24PutReplaces(t *testing.T) {
	e := start(t, nil)
	for _, tc := range []struct {
		name  string
		body  func(c registered) map[string]any
		want  errResult
		check func(t *testing.T, b map[string]any)
	}{
		{"24_omitted_fields_removed_defaults_reset", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "redirect_uris": []string{"https://a.example/cb"}}
		}, errResult{200, ""}, func(t *testing.T, b map[string]any) {
			got := [4]any{b["client_name"], b["scope"], b["token_endpoint_auth_method"], b["grant_types"].([]any)[0]}
			if want := [4]any{nil, nil, "client_secret_basic", "authorization_code"}; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		}},
		{"24_client_id_missing_400", func(c registered) map[string]any {
			return map[string]any{"grant_types": []string{"client_credentials"}}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_client_id_different_400", func(c registered) map[string]any {
			return map[string]any{"client_id": "other", "grant_types": []string{"client_credentials"}}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_registration_access_token_sent_400", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "registration_access_token": c.RAT}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_registration_client_uri_sent_400", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "registration_client_uri": c.URI}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_client_secret_expires_at_sent_400", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_secret_expires_at": 0}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_client_id_issued_at_sent_400", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_id_issued_at": 1}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_wrong_client_secret_400", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_secret": "wrong"}
		}, errResult{400, errInvalidClientMetadata}, nil},
		{"24_current_client_secret_ok", func(c registered) map[string]any {
			return map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_secret": c.Secret}
		}, errResult{200, ""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.mustRegister(t, ccMetadata)
			r := e.jsonReq(http.MethodPut, c.URI, c.RAT, tc.body(c))
			if got := errOf(r); got != tc.want {
				t.Fatalf("got %+v, want %+v (%s)", got, tc.want, r.Body["error_description"])
			}
			if tc.check != nil {
				tc.check(t, r.Body)
			}
		})
	}
}

func checklist25DeleteInvalidatesEverything(t *testing.T) {
	t.Run("25_delete_invalidates_id_secret_token_and_tokens", func(t *testing.T) {
		e := start(t, nil)
		c := e.mustRegister(t, ccMetadata)
		tok := e.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}, c.ID, c.Secret)
		at := str(tok.Body["access_token"])
		if d := e.jsonReq(http.MethodDelete, c.URI, c.RAT, nil); d.Status != 204 {
			t.Fatalf("DELETE %d", d.Status)
		}
		got := []errResult{
			errOf(e.jsonReq(http.MethodGet, c.URI, c.RAT, nil)),
			errOf(e.form("/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, c.Secret)),
			errOf(e.jsonReq(http.MethodPost, "/register", at, map[string]any{"grant_types": []string{"client_credentials"}})),
		}
		in := e.form("/introspect", url.Values{"token": {at}}, e.cfg.Clients[0].ClientID, e.cfg.Clients[0].ClientSecret)
		want := []errResult{{401, "invalid_token"}, {401, "invalid_client"}, {401, "invalid_token"}}
		if !reflect.DeepEqual(got, want) || in.Body["active"] != false {
			t.Errorf("got %+v active=%v, want %+v", got, in.Body["active"], want)
		}
	})
}

func checklist26Rotation(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rat, secret  Rotation
		readRAT      bool // GET returns a new registration access token
		readSecret   bool
		updateRAT    bool
		updateSecret bool
	}{
		{"26_never", RotateNever, RotateNever, false, false, false, false},
		{"26_on_update", RotateOnUpdate, RotateOnUpdate, false, false, true, true},
		{"26_on_read_and_update_curity", RotateOnReadAndUpdate, RotateOnReadAndUpdate, true, true, true, true},
		{"26_token_only_on_update", RotateOnUpdate, RotateNever, false, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(c *Config) { c.RotateRegistrationToken, c.RotateClientSecret = tc.rat, tc.secret })
			c := e.mustRegister(t, ccMetadata)
			g := e.jsonReq(http.MethodGet, c.URI, c.RAT, nil)
			rat1, sec1 := str(g.Body["registration_access_token"]), str(g.Body["client_secret"])
			p := e.jsonReq(http.MethodPut, c.URI, rat1, map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}})
			rat2, sec2 := str(p.Body["registration_access_token"]), str(p.Body["client_secret"])
			got := [4]bool{rat1 != c.RAT, sec1 != "" && sec1 != c.Secret, rat2 != rat1, sec2 != "" && sec2 != c.Secret && sec2 != sec1}
			want := [4]bool{tc.readRAT, tc.readSecret, tc.updateRAT, tc.updateSecret}
			if g.Status != 200 || p.Status != 200 || got != want {
				t.Fatalf("GET %d PUT %d: rotated [readRAT readSecret updateRAT updateSecret] = %v, want %v", g.Status, p.Status, got, want)
			}
			// The old token stops working after a rotation; the current secret works.
			if tc.updateRAT {
				if r := e.jsonReq(http.MethodGet, c.URI, rat1, nil); r.Status != 401 {
					t.Errorf("rotated-out token still works: %d", r.Status)
				}
			}
			secret := c.Secret
			for _, s := range []string{sec1, sec2} {
				if s != "" {
					secret = s
				}
			}
			if tr := e.form("/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret); tr.Status != 200 {
				t.Errorf("current secret: %d %s", tr.Status, tr.Raw)
			}
			if secret != c.Secret {
				if tr := e.form("/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, c.Secret); tr.Status != 401 {
					t.Errorf("rotated-out secret still works: %d", tr.Status)
				}
			}
		})
	}
}

func checklist27TokenEndpoint(t *testing.T) {
	const oddSecret = "s3cr:t+with%/spaces é"
	e := start(t, func(c *Config) {
		c.Clients = append(c.Clients, ClientConfig{ClientID: "odd id:1", ClientSecret: oddSecret, Scope: "dcr", GrantTypes: []string{"client_credentials"}})
	})
	boot := e.cfg.Clients[0]
	post := func(v url.Values, user, pass string) errResult { return errOf(e.form("/token", v, user, pass)) }
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}
	withPost := func(id, secret string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
		return v
	}
	rawBasic := func(id, secret string) errResult {
		req, _ := http.NewRequest(http.MethodPost, e.url("/token"), strings.NewReader(cc.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret) // not form-encoded
		return errOf(e.do(req))
	}
	for _, tc := range []struct {
		name string
		got  func() errResult
		want errResult
	}{
		{"27_client_secret_basic", func() errResult { return post(cc, boot.ClientID, boot.ClientSecret) }, errResult{200, ""}},
		{"27_client_secret_basic_form_decoded", func() errResult { return post(cc, "odd id:1", oddSecret) }, errResult{200, ""}},
		{"27_client_secret_basic_not_form_encoded_fails", func() errResult { return rawBasic("odd+id%3A1", "s3cr:t+with%/spaces é") }, errResult{401, "invalid_client"}},
		{"27_client_secret_post", func() errResult { return post(withPost(boot.ClientID, boot.ClientSecret), "", "") }, errResult{200, ""}},
		{"27_two_methods_400", func() errResult {
			return post(withPost(boot.ClientID, boot.ClientSecret), boot.ClientID, boot.ClientSecret)
		}, errResult{400, "invalid_request"}},
		{"27_wrong_secret_401", func() errResult { return post(cc, boot.ClientID, "wrong") }, errResult{401, "invalid_client"}},
		{"27_unknown_client_401", func() errResult { return post(cc, "nobody", "x") }, errResult{401, "invalid_client"}},
		{"27_no_auth_401", func() errResult { return post(cc, "", "") }, errResult{401, "invalid_client"}},
		{"27_unsupported_grant_type", func() errResult {
			return post(url.Values{"grant_type": {"password"}}, boot.ClientID, boot.ClientSecret)
		}, errResult{400, "unsupported_grant_type"}},
		{"27_grant_not_registered_unauthorized_client", func() errResult {
			return post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, boot.ClientID, boot.ClientSecret)
		}, errResult{400, "unauthorized_client"}},
		{"27_missing_grant_type", func() errResult { return post(url.Values{}, boot.ClientID, boot.ClientSecret) }, errResult{400, "invalid_request"}},
		{"27_scope_not_allowed_invalid_scope", func() errResult {
			return post(url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, boot.ClientID, boot.ClientSecret)
		}, errResult{400, "invalid_scope"}},
		{"27_public_client_with_secret_401", func() errResult {
			return post(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, DefaultNativeClient, "x")
		}, errResult{401, "invalid_client"}},
		{"27_json_body_400", func() errResult {
			req, _ := http.NewRequest(http.MethodPost, e.url("/token"), strings.NewReader(`{"grant_type":"client_credentials"}`))
			req.Header.Set("Content-Type", "application/json")
			return errOf(e.do(req))
		}, errResult{400, "invalid_request"}},
		{"27_get_405", func() errResult { return errOf(e.jsonReq(http.MethodGet, "/token", "", nil)) }, errResult{405, "invalid_request"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("27_invalid_client_basic_challenge", func(t *testing.T) {
		r := e.form("/token", cc, boot.ClientID, "wrong")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic realm=") {
			t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("27_client_credentials_response", func(t *testing.T) {
		r := e.form("/token", cc, boot.ClientID, boot.ClientSecret)
		got := map[string]any{"token_type": r.Body["token_type"], "expires_in": r.Body["expires_in"], "scope": r.Body["scope"], "has_token": str(r.Body["access_token"]) != "", "refresh": r.Body["refresh_token"], "cache": r.Header.Get("Cache-Control")}
		want := map[string]any{"token_type": "Bearer", "expires_in": 3600.0, "scope": "dcr", "has_token": true, "refresh": nil, "cache": "no-store"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

func checklist27CodeAndRefresh(t *testing.T) {
	const cb = "http://127.0.0.1:4000/callback"
	t.Run("27_authorization_code_pkce_and_rotating_refresh", func(t *testing.T) {
		e := start(t, nil)
		tok := e.codeLogin(t, DefaultNativeClient, cb, "openid profile dcr offline_access")
		if tok.Status != 200 {
			t.Fatalf("%d %s", tok.Status, tok.Raw)
		}
		claims := jwtClaims(t, str(tok.Body["id_token"]))
		got := map[string]any{"sub": claims["sub"], "aud": claims["aud"], "name": claims["name"], "exp-iat": claims["exp"].(float64) - claims["iat"].(float64)}
		if want := map[string]any{"sub": DefaultUser, "aud": DefaultNativeClient, "name": "Demo User", "exp-iat": 3600.0}; !reflect.DeepEqual(got, want) {
			t.Errorf("id_token claims %v, want %v", got, want)
		}
		rt := str(tok.Body["refresh_token"])
		ref := func(rt string) resp {
			return e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultNativeClient}}, "", "")
		}
		r1 := ref(rt)
		rt2 := str(r1.Body["refresh_token"])
		if r1.Status != 200 || rt2 == "" || rt2 == rt {
			t.Fatalf("refresh: %d, rotated=%v", r1.Status, rt2 != rt)
		}
		// Reusing the old refresh token fails and revokes the grant, including rt2.
		if got := [2]errResult{errOf(ref(rt)), errOf(ref(rt2))}; got != [2]errResult{{400, "invalid_grant"}, {400, "invalid_grant"}} {
			t.Errorf("reuse: %+v", got)
		}
	})
	t.Run("27_code_single_use_and_bound", func(t *testing.T) {
		e := start(t, nil)
		q := callback(t, e.browserLogin(loginParams(DefaultNativeClient, cb, "openid"), DefaultUser, DefaultUserPassword))
		code := q.Get("code")
		redeem := func(mut func(url.Values)) errResult {
			v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cb}, "code_verifier": {verifier}, "client_id": {DefaultNativeClient}}
			mut(v)
			return errOf(e.form("/token", v, "", ""))
		}
		got := []errResult{
			redeem(func(v url.Values) { v.Del("code_verifier") }),
			redeem(func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) }),
			redeem(func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:4001/callback") }),
			redeem(func(url.Values) {}),
			redeem(func(url.Values) {}),
		}
		want := []errResult{{400, "invalid_grant"}, {400, "invalid_grant"}, {400, "invalid_grant"}, {200, ""}, {400, "invalid_grant"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("27_code_expires", func(t *testing.T) {
		e := start(t, nil)
		q := callback(t, e.browserLogin(loginParams(DefaultNativeClient, cb, "openid"), DefaultUser, DefaultUserPassword))
		e.advance(2 * time.Minute)
		r := e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {cb}, "code_verifier": {verifier}, "client_id": {DefaultNativeClient}}, "", "")
		if got := errOf(r); got != (errResult{400, "invalid_grant"}) {
			t.Errorf("got %+v", got)
		}
	})
}

func checklist27AuthorizationErrors(t *testing.T) {
	const cb = "http://127.0.0.1:4000/callback"
	e := start(t, nil)
	for _, tc := range []struct {
		name string
		mut  func(url.Values)
		want string // error in the redirect; "page" for an error page
	}{
		{"27_public_client_requires_pkce", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request"},
		{"27_plain_pkce_rejected", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"27_unsupported_response_type", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{"27_invalid_scope", func(v url.Values) { v.Set("scope", "admin") }, "invalid_scope"},
		{"27_unsupported_response_mode", func(v url.Values) { v.Set("response_mode", "form_post") }, "invalid_request"},
		{"27_request_object_not_supported", func(v url.Values) { v.Set("request", "x.y.z") }, "request_not_supported"},
		{"27_unknown_client_page", func(v url.Values) { v.Set("client_id", "nobody") }, "page"},
		{"27_missing_redirect_uri_page", func(v url.Values) { v.Del("redirect_uri") }, "page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loginParams(DefaultNativeClient, cb, "openid")
			tc.mut(p)
			req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
			r := e.do(req)
			got := "page"
			if r.Status == 302 {
				q := callback(t, r)
				got = q.Get("error")
				if q.Get("state") != "st-1" || q.Get("iss") != e.srv.Issuer() || q.Get("error_description") == "" {
					t.Errorf("error redirect lacks state, iss or description: %v", q)
				}
			} else if r.Status != 400 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("error page: %d %s", r.Status, r.Header.Get("Content-Type"))
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func checklist28LoginAndSSO(t *testing.T) {
	const cb = "http://127.0.0.1:4000/callback"
	t.Run("28_session_cookie_attributes_and_silent_second_login", func(t *testing.T) {
		e := start(t, nil)
		r := e.browserLogin(loginParams(DefaultNativeClient, cb, "openid"), DefaultUser, DefaultUserPassword)
		var sess *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == SessionCookie {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
			t.Fatalf("session cookie = %+v", sess)
		}
		q := callback(t, r)
		if q.Get("state") != "st-1" || q.Get("code") == "" || q.Get("iss") != e.srv.Issuer() {
			t.Errorf("callback: state %q, code present %v, iss %q", q.Get("state"), q.Get("code") != "", q.Get("iss"))
		}
		// Second authorization in the same browser: no form, straight back with a code.
		req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+loginParams(DefaultNativeClient, "http://127.0.0.1:5000/callback", "openid").Encode()), nil)
		silent := e.do(req)
		if silent.Status != 302 || callback(t, silent).Get("code") == "" {
			t.Errorf("second login not silent: %d", silent.Status)
		}
		// prompt=login shows the form again.
		p := loginParams(DefaultNativeClient, cb, "openid")
		p.Set("prompt", "login")
		req, _ = http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
		if f := e.do(req); f.Status != 200 || !strings.Contains(f.Raw, `id="login"`) {
			t.Errorf("prompt=login: %d", f.Status)
		}
		// ... and logging in there completes (no loop on prompt=login).
		if r := e.browserLogin(p, DefaultUser, DefaultUserPassword); r.Status != 303 {
			t.Errorf("login with prompt=login: %d", r.Status)
		}
	})
	t.Run("28_secure_cookie_on_https", func(t *testing.T) {
		e := start(t, func(c *Config) { c.Issuer = strings.Replace(c.Issuer, "http://", "https://", 1) })
		ck := e.srv.cookie(httptestRequest(), SessionCookie, "v", time.Hour)
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %+v", ck)
		}
	})
	t.Run("28_prompt_none_without_session_login_required", func(t *testing.T) {
		e := start(t, nil)
		p := loginParams(DefaultNativeClient, cb, "openid")
		p.Set("prompt", "none")
		req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
		q := callback(t, e.do(req))
		if q.Get("error") != "login_required" || q.Get("state") != "st-1" {
			t.Errorf("got error %q state %q", q.Get("error"), q.Get("state"))
		}
	})
	t.Run("28_session_expires", func(t *testing.T) {
		e := start(t, nil)
		callback(t, e.browserLogin(loginParams(DefaultNativeClient, cb, "openid"), DefaultUser, DefaultUserPassword))
		e.advance(25 * time.Hour)
		req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+loginParams(DefaultNativeClient, cb, "openid").Encode()), nil)
		if r := e.do(req); r.Status != 200 {
			t.Errorf("expired session still silent: %d", r.Status)
		}
	})
	for _, tc := range []struct {
		name   string
		mut    func(f url.Values, jar bool) (url.Values, bool)
		status int
	}{
		{"28_csrf_missing_field_403", func(f url.Values, jar bool) (url.Values, bool) { f.Set(CSRFField, ""); return f, jar }, 403},
		{"28_csrf_wrong_field_403", func(f url.Values, jar bool) (url.Values, bool) {
			f.Set(CSRFField, strings.Repeat("x", 43))
			return f, jar
		}, 403},
		{"28_csrf_no_cookie_403", func(f url.Values, jar bool) (url.Values, bool) { return f, false }, 403},
		{"28_wrong_password_401_form_again", func(f url.Values, jar bool) (url.Values, bool) { f.Set("password", "nope"); return f, jar }, 401},
		{"28_correct_login_303", func(f url.Values, jar bool) (url.Values, bool) { return f, jar }, 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+loginParams(DefaultNativeClient, cb, "openid").Encode()), nil)
			page := e.do(req)
			f := hiddenFields(page.Raw)
			f.Set("username", DefaultUser)
			f.Set("password", DefaultUserPassword)
			f, jar := tc.mut(f, true)
			if !jar {
				e.hc.Jar = nil
			}
			post, _ := http.NewRequest(http.MethodPost, e.url("/authorize"), strings.NewReader(f.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := e.do(post); r.Status != tc.status {
				t.Errorf("status %d, want %d", r.Status, tc.status)
			}
		})
	}
}

func httptestRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	return r
}

func checklist29RevocationIntrospection(t *testing.T) {
	e := start(t, nil)
	boot := e.cfg.Clients[0]
	introspect := func(tok string) map[string]any {
		return e.form("/introspect", url.Values{"token": {tok}}, boot.ClientID, boot.ClientSecret).Body
	}
	t.Run("29_introspection_active_token", func(t *testing.T) {
		at := e.bootstrapToken("dcr")
		got := introspect(at)
		want := map[string]any{"active": true, "client_id": boot.ClientID, "scope": "dcr", "sub": boot.ClientID, "token_type": "Bearer",
			"iss": e.srv.Issuer(), "iat": float64(e.now.Unix()), "exp": float64(e.now.Add(time.Hour).Unix())}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
		if got := introspect("nonsense"); !reflect.DeepEqual(got, map[string]any{"active": false}) {
			t.Errorf("unknown token: %v", got)
		}
	})
	t.Run("29_introspection_requires_client_auth", func(t *testing.T) {
		r := e.form("/introspect", url.Values{"token": {"x"}}, "", "")
		if got := errOf(r); got != (errResult{401, "invalid_client"}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("29_revoke_access_token", func(t *testing.T) {
		at := e.bootstrapToken("dcr")
		r := e.form("/revoke", url.Values{"token": {at}, "token_type_hint": {"access_token"}}, boot.ClientID, boot.ClientSecret)
		reg := e.jsonReq(http.MethodPost, "/register", at, ccMetadata)
		if got := [3]any{r.Status, introspect(at)["active"], reg.Status}; got != [3]any{200, false, 401} {
			t.Errorf("got %v", got)
		}
	})
	t.Run("29_revoke_unknown_token_200", func(t *testing.T) {
		if r := e.form("/revoke", url.Values{"token": {"unknown"}}, boot.ClientID, boot.ClientSecret); r.Status != 200 {
			t.Errorf("status %d", r.Status)
		}
	})
	t.Run("29_revoke_other_clients_token_refused", func(t *testing.T) {
		c := e.mustRegister(t, ccMetadata)
		at := e.bootstrapToken("dcr")
		r := e.form("/revoke", url.Values{"token": {at}}, c.ID, c.Secret)
		if got := [2]any{errOf(r), introspect(at)["active"]}; got != [2]any{errResult{400, "unauthorized_client"}, true} {
			t.Errorf("got %v", got)
		}
	})
	t.Run("29_revoke_refresh_token_revokes_grant", func(t *testing.T) {
		tok := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:1/callback", "openid offline_access")
		rt, at := str(tok.Body["refresh_token"]), str(tok.Body["access_token"])
		r := e.form("/revoke", url.Values{"token": {rt}, "client_id": {DefaultNativeClient}}, "", "")
		ref := e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultNativeClient}}, "", "")
		if got := [3]any{r.Status, introspect(at)["active"], errOf(ref)}; got != [3]any{200, false, errResult{400, "invalid_grant"}} {
			t.Errorf("got %v", got)
		}
	})
	t.Run("29_expired_token_inactive", func(t *testing.T) {
		at := e.bootstrapToken("dcr")
		e.advance(time.Hour)
		if got := introspect(at); got["active"] != false {
			t.Errorf("got %v", got)
		}
	})
}

func checklist27DeviceGrant(t *testing.T) {
	start := func(t *testing.T) (*env, map[string]any) {
		e := start(t, nil)
		r := e.form("/device_authorization", url.Values{"client_id": {DefaultNativeClient}, "scope": {"openid dcr"}}, "", "")
		if r.Status != 200 {
			t.Fatalf("device authorization: %d %s", r.Status, r.Raw)
		}
		return e, r.Body
	}
	poll := func(e *env, dc string) resp {
		return e.form("/token", url.Values{"grant_type": {grantDevice}, "device_code": {dc}, "client_id": {DefaultNativeClient}}, "", "")
	}
	approve := func(t *testing.T, e *env, userCode, action string) resp { return e.decideDevice(userCode, action) }
	t.Run("27_device_pending_slow_down_approve", func(t *testing.T) {
		e, da := start(t)
		dc := str(da["device_code"])
		if da["verification_uri"] != e.url("/device") || da["interval"] != 5.0 || da["expires_in"] != 600.0 {
			t.Errorf("device authorization response: verification_uri %v interval %v expires_in %v", da["verification_uri"], da["interval"], da["expires_in"])
		}
		var got []string
		got = append(got, str(poll(e, dc).Body["error"]))
		got = append(got, str(poll(e, dc).Body["error"])) // too fast
		e.advance(11 * time.Second)
		got = append(got, str(poll(e, dc).Body["error"]))
		if a := approve(t, e, str(da["user_code"]), "approve"); a.Status != 200 || !strings.Contains(a.Raw, "approved") {
			t.Fatalf("approve: %d", a.Status)
		}
		e.advance(11 * time.Second)
		tok := poll(e, dc)
		got = append(got, str(tok.Body["error"]), str(tok.Body["token_type"]))
		e.advance(11 * time.Second)
		got = append(got, str(poll(e, dc).Body["error"]))
		want := []string{"authorization_pending", "slow_down", "authorization_pending", "", "Bearer", "invalid_grant"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if jwtClaims(t, str(tok.Body["id_token"]))["sub"] != DefaultUser {
			t.Errorf("id_token sub")
		}
		// The device token is a user token: accepted for registration only in user mode.
		if r := e.jsonReq(http.MethodPost, "/register", str(tok.Body["access_token"]), ccMetadata); r.Status != 401 {
			t.Errorf("device token in client mode: %d", r.Status)
		}
	})
	t.Run("27_device_access_denied", func(t *testing.T) {
		e, da := start(t)
		approve(t, e, str(da["user_code"]), "deny")
		if got := errOf(poll(e, str(da["device_code"]))); got != (errResult{400, "access_denied"}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("27_device_expired_token", func(t *testing.T) {
		e, da := start(t)
		e.advance(11 * time.Minute)
		if got := errOf(poll(e, str(da["device_code"]))); got != (errResult{400, "expired_token"}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("27_device_wrong_user_code", func(t *testing.T) {
		e, _ := start(t)
		if r := approve(t, e, "BBBB-BBBB", "approve"); r.Status != 400 {
			t.Errorf("status %d", r.Status)
		}
	})
}

func TestConcurrentUpdatesOfOneClient(t *testing.T) {
	for _, rot := range []Rotation{RotateNever, RotateOnUpdate} {
		t.Run(string(rot), func(t *testing.T) {
			e := start(t, func(c *Config) { c.RotateRegistrationToken = rot })
			c := e.mustRegister(t, ccMetadata)
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.jsonReq(http.MethodPut, c.URI, c.RAT, map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "client_name": "n"})
					statuses[i] = r.Status
				}()
			}
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				switch s {
				case 200:
					ok++
				case 401:
				default:
					t.Errorf("status %d", s)
				}
			}
			// Without rotation every update applies in turn; with rotation exactly one wins
			// and the others hold a rotated-out token.
			want := len(statuses)
			if rot == RotateOnUpdate {
				want = 1
			}
			if ok != want {
				t.Errorf("%d updates succeeded, want %d (%v)", ok, want, statuses)
			}
		})
	}
}

// checklist31DCRScope: the seed's rule — dcr is granted only when the token request asks for
// it, in every grant; a request without scope gets the client's other scopes.
func checklist31DCRScope(t *testing.T) {
	// Each case returns the scopes granted without asking and when asking for dcr.
	grants := []struct {
		name string
		get  func(t *testing.T, e *env, scope string) resp
	}{
		{"31_client_credentials", func(t *testing.T, e *env, scope string) resp {
			b := e.cfg.Clients[0]
			return e.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, b.ClientID, b.ClientSecret)
		}},
		{"31_authorization_code", func(t *testing.T, e *env, scope string) resp {
			return e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", scope)
		}},
		{"31_refresh_token", func(t *testing.T, e *env, scope string) resp {
			code := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", scope+" offline_access")
			return e.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(code.Body["refresh_token"])},
				"client_id": {DefaultNativeClient}}, "", "")
		}},
		{"31_device", func(t *testing.T, e *env, scope string) resp {
			da := e.form("/device_authorization", url.Values{"client_id": {DefaultNativeClient}, "scope": {scope}}, "", "")
			if a := e.decideDevice(str(da.Body["user_code"]), "approve"); a.Status != 200 {
				t.Fatalf("approve: %d", a.Status)
			}
			return e.form("/token", url.Values{"grant_type": {grantDevice}, "device_code": {str(da.Body["device_code"])}, "client_id": {DefaultNativeClient}}, "", "")
		}},
	}
	for _, g := range grants {
		t.Run(g.name, func(t *testing.T) {
			e := start(t, nil)
			without, with := g.get(t, e, ""), g.get(t, e, "dcr")
			got := []any{without.Status, hasScope(str(without.Body["scope"]), "dcr"), str(without.Body["scope"]) != "" || g.name == "31_client_credentials", with.Status, hasScope(str(with.Body["scope"]), "dcr")}
			if want := []any{200, false, true, 200, true}; !reflect.DeepEqual(got, want) {
				t.Errorf("[status, dcr, other scopes] without asking, [status, dcr] asking = %v, want %v (scopes %q, %q)", got, want, without.Body["scope"], with.Body["scope"])
			}
		})
	}
	t.Run("31_token_without_dcr_cannot_register", func(t *testing.T) {
		e := start(t, nil)
		b := e.cfg.Clients[0]
		tok := e.form("/token", url.Values{"grant_type": {"client_credentials"}}, b.ClientID, b.ClientSecret)
		r := e.jsonReq(http.MethodPost, "/register", str(tok.Body["access_token"]), ccMetadata)
		if got := errOf(r); got != (errResult{403, "insufficient_scope"}) {
			t.Errorf("got %+v", got)
		}
	})
}
