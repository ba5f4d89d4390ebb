package testserver

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestIDTokenVerifiesWithJWKS checks the RS256 signature of an ID token with the key
// published at jwks_uri, as a relying party does.
func TestIDTokenVerifiesWithJWKS(t *testing.T) {
	e := start(t, nil)
	tok := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", "openid")
	idt := str(tok.Body["id_token"])
	parts := strings.Split(idt, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr map[string]string
	json.Unmarshal(hb, &hdr)
	jwks := getJSON(t, e, e.url("/jwks")).Body["keys"].([]any)[0].(map[string]any)
	n, _ := base64.RawURLEncoding.DecodeString(jwks["n"].(string))
	eb, _ := base64.RawURLEncoding.DecodeString(jwks["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if hdr["alg"] != "RS256" || hdr["kid"] != jwks["kid"] || rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
		t.Fatalf("ID token does not verify with the JWKS key (header %v)", hdr)
	}
	// at_hash binds the access token (OpenID Connect Core §3.1.3.6).
	ah := sha256.Sum256([]byte(str(tok.Body["access_token"])))
	if jwtClaims(t, idt)["at_hash"] != base64.RawURLEncoding.EncodeToString(ah[:16]) {
		t.Error("at_hash does not match the access token")
	}
}

func TestUserinfo(t *testing.T) {
	e := start(t, nil)
	tok := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", "openid profile email")
	noOpenID := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", "dcr")
	get := func(at string) resp {
		req, _ := http.NewRequest(http.MethodGet, e.url("/userinfo"), nil)
		if at != "" {
			req.Header.Set("Authorization", "Bearer "+at)
		}
		return e.do(req)
	}
	ok := get(str(tok.Body["access_token"]))
	if want := map[string]any{"sub": "demo", "name": "Demo User", "email": "demo@example.com"}; ok.Status != 200 || !reflect.DeepEqual(ok.Body, want) {
		t.Errorf("userinfo %d %v", ok.Status, ok.Body)
	}
	got := []errResult{errOf(get("")), errOf(get("bogus")), errOf(get(str(noOpenID.Body["access_token"]))), errOf(get(e.bootstrapToken("dcr")))}
	want := []errResult{{401, ""}, {401, "invalid_token"}, {403, "insufficient_scope"}, {401, "invalid_token"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSoftwareStatementRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	sign := func(k *rsa.PrivateKey, claims map[string]any) string {
		return signStatement(t, jose.RS256, k, nil, claims)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	e := start(t, func(c *Config) { c.SoftwareStatementIssuers = map[string]string{"https://v.example": pemKey} })
	claims := map[string]any{"iss": "https://v.example", "software_id": "sw", "grant_types": []string{"client_credentials"}}
	good := e.register(map[string]any{"software_statement": sign(key, claims)})
	bad := e.register(map[string]any{"software_statement": sign(other, claims)})
	hs := e.register(map[string]any{"software_statement": hs256(t, vendorSecret, claims)})
	if got := []errResult{errOf(good), errOf(bad), errOf(hs)}; !reflect.DeepEqual(got, []errResult{{201, ""}, {400, errInvalidSoftwareStmt}, {400, errInvalidSoftwareStmt}}) {
		t.Errorf("got %+v", got)
	}
}

func TestTemplateInstanceManagement(t *testing.T) {
	e := start(t, func(c *Config) { c.RotateRegistrationToken = RotateOnUpdate })
	r := e.register(map[string]any{"software_id": DefaultTemplate})
	id, rat, uri := str(r.Body["client_id"]), str(r.Body["registration_access_token"]), str(r.Body["registration_client_uri"])
	change := e.jsonReq(http.MethodPut, uri, rat, map[string]any{"client_id": id, "software_id": "other"})
	ignored := e.jsonReq(http.MethodPut, uri, rat, map[string]any{"client_id": id, "client_name": "mine", "redirect_uris": []string{"https://x.example/cb"}})
	got := []any{errOf(change), ignored.Status, ignored.Body["client_name"], ignored.Body["redirect_uris"], ignored.Body["software_id"]}
	want := []any{errResult{400, errInvalidClientMetadata}, 200, "Native app (template native-app)", []any{"http://127.0.0.1/callback"}, DefaultTemplate}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRefreshScopeAndClientBinding(t *testing.T) {
	e := start(t, func(c *Config) { c.Registration = ModeOpen })
	tok := e.codeLogin(t, DefaultNativeClient, "http://127.0.0.1:4000/callback", "openid profile offline_access")
	other := e.mustRegister(t, map[string]any{"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}, "redirect_uris": []string{"http://127.0.0.1/cb"}})
	ref := func(rt, client, scope string) resp {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return e.form("/token", v, "", "")
	}
	rt := str(tok.Body["refresh_token"])
	wrongClient := errOf(ref(rt, other.ID, ""))
	wider := errOf(ref(rt, DefaultNativeClient, "openid email"))
	narrow := ref(rt, DefaultNativeClient, "openid")
	if got := []any{wrongClient, wider, narrow.Status, narrow.Body["scope"]}; !reflect.DeepEqual(got, []any{errResult{400, "invalid_grant"}, errResult{400, "invalid_scope"}, 200, "openid"}) {
		t.Errorf("got %v", got)
	}
	e.advance(721 * time.Hour)
	if got := errOf(ref(str(narrow.Body["refresh_token"]), DefaultNativeClient, "")); got != (errResult{400, "invalid_grant"}) {
		t.Errorf("expired refresh token: %+v", got)
	}
}

func TestMaxAgeAndDevicePageWithSession(t *testing.T) {
	const cb = "http://127.0.0.1:4000/callback"
	e := start(t, nil)
	callback(t, e.browserLogin(loginParams(DefaultNativeClient, cb, "openid"), DefaultUser, DefaultUserPassword))
	e.advance(10 * time.Minute)
	p := loginParams(DefaultNativeClient, cb, "openid")
	p.Set("max_age", "60")
	req, _ := http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
	stale := e.do(req).Status
	p.Set("max_age", "3600")
	req, _ = http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
	fresh := e.do(req).Status
	p.Set("max_age", "60")
	p.Set("prompt", "none")
	req, _ = http.NewRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil)
	none := callback(t, e.do(req)).Get("error")
	if got := []any{stale, fresh, none}; !reflect.DeepEqual(got, []any{200, 302, "login_required"}) {
		t.Errorf("[max_age exceeded, within, prompt=none exceeded] = %v", got)
	}
	// The device page with an SSO session asks for no password.
	da := e.form("/device_authorization", url.Values{"client_id": {DefaultNativeClient}, "scope": {"openid"}}, "", "")
	req, _ = http.NewRequest(http.MethodGet, str(da.Body["verification_uri_complete"]), nil)
	page := e.do(req)
	if strings.Contains(page.Raw, `name="password"`) || !strings.Contains(page.Raw, str(da.Body["user_code"])) {
		t.Error("device page with a session asks for a password or lacks the code")
	}
	f := hiddenFields(page.Raw)
	f.Set("user_code", str(da.Body["user_code"]))
	f.Set("action", "approve")
	post, _ := http.NewRequest(http.MethodPost, e.url("/device"), strings.NewReader(f.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := e.do(post); r.Status != 200 || !strings.Contains(r.Raw, "approved") {
		t.Errorf("approve with session: %d", r.Status)
	}
	tok := e.form("/token", url.Values{"grant_type": {grantDevice}, "device_code": {str(da.Body["device_code"])}, "client_id": {DefaultNativeClient}}, "", "")
	if tok.Status != 200 {
		t.Errorf("device token: %d %v", tok.Status, tok.Body["error"])
	}
}

func TestUserModeRegistrationWithDeviceToken(t *testing.T) {
	e := start(t, func(c *Config) { c.Registration = ModeUser })
	da := e.form("/device_authorization", url.Values{"client_id": {DefaultNativeClient}, "scope": {"dcr"}}, "", "")
	req, _ := http.NewRequest(http.MethodGet, str(da.Body["verification_uri_complete"]), nil)
	f := hiddenFields(e.do(req).Raw)
	f.Set("user_code", str(da.Body["user_code"]))
	f.Set("username", DefaultUser)
	f.Set("password", DefaultUserPassword)
	f.Set("action", "approve")
	post, _ := http.NewRequest(http.MethodPost, e.url("/device"), strings.NewReader(f.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.do(post)
	tok := e.form("/token", url.Values{"grant_type": {grantDevice}, "device_code": {str(da.Body["device_code"])}, "client_id": {DefaultNativeClient}}, "", "")
	r := e.jsonReq(http.MethodPost, "/register", str(tok.Body["access_token"]), map[string]any{"software_id": DefaultTemplate})
	if r.Status != 201 {
		t.Errorf("register with a device-flow token in user mode: %d %v", r.Status, r.Body["error_description"])
	}
}

func TestPutChangesConfidentiality(t *testing.T) {
	e := start(t, nil)
	pub := e.mustRegister(t, map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{"http://127.0.0.1/cb"}})
	toConf := e.jsonReq(http.MethodPut, pub.URI, pub.RAT, map[string]any{"client_id": pub.ID, "grant_types": []string{"client_credentials"}})
	secret := str(toConf.Body["client_secret"])
	tok := e.form("/token", url.Values{"grant_type": {"client_credentials"}}, pub.ID, secret)
	toPub := e.jsonReq(http.MethodPut, pub.URI, pub.RAT, map[string]any{"client_id": pub.ID, "token_endpoint_auth_method": "none", "redirect_uris": []string{"http://127.0.0.1/cb"}})
	_, hasSecret := toPub.Body["client_secret"]
	_, hasExp := toPub.Body["client_secret_expires_at"]
	got := []any{toConf.Status, len(secret), tok.Status, toPub.Status, hasSecret, hasExp}
	if want := []any{200, 43, 200, 200, false, false}; !reflect.DeepEqual(got, want) {
		t.Errorf("[PUT to confidential, secret length, token, PUT to public, has secret, has expiry] = %v, want %v", got, want)
	}
}
