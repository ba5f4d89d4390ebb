package flows

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestVerifyIDToken checks each rule of OpenID Connect Core §3.1.3.7 with tokens signed by a
// key served at a JWKS URI.
func TestVerifyIDToken(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwks)
	}))
	defer srv.Close()
	const iss, aud = "https://issuer.example", "client-1"
	now := time.Now()
	sign := func(k *ecdsa.PrivateKey, kid string, claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(s).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	base := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": iss, "aud": aud, "sub": "u", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": "n-1"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+iss+`","aud":"`+aud+`","exp":9999999999}`)) + "."
	cases := []struct {
		name, raw, nonce, want string
	}{
		{"valid", sign(key, "k1", base(nil)), "n-1", ""},
		{"valid, no nonce sent", sign(key, "k1", base(func(c map[string]any) { delete(c, "nonce") })), "", ""},
		{"another key", sign(other, "k1", base(nil)), "n-1", "no key of the issuer's jwks_uri"},
		{"unknown kid", sign(key, "k9", base(nil)), "n-1", "no key of the issuer's jwks_uri"},
		{"alg none", unsigned, "", "the ID token does not verify"},
		{"wrong issuer", sign(key, "k1", base(func(c map[string]any) { c["iss"] = "https://evil.example" })), "n-1", "invalid issuer"},
		{"wrong audience", sign(key, "k1", base(func(c map[string]any) { c["aud"] = "client-2" })), "n-1", "invalid audience"},
		{"several audiences, no azp", sign(key, "k1", base(func(c map[string]any) { c["aud"] = []string{aud, "client-2"} })), "n-1", "azp"},
		{"several audiences, azp", sign(key, "k1", base(func(c map[string]any) { c["aud"] = []string{aud, "client-2"}; c["azp"] = aud })), "n-1", ""},
		{"expired", sign(key, "k1", base(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })), "n-1", "expired"},
		{"no exp", sign(key, "k1", base(func(c map[string]any) { delete(c, "exp") })), "n-1", "no exp"},
		{"wrong nonce", sign(key, "k1", base(nil)), "n-2", "nonce is not the one"},
		{"nonce missing", sign(key, "k1", base(func(c map[string]any) { delete(c, "nonce") })), "n-1", "nonce is not the one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyIDToken(context.Background(), http.DefaultClient, tc.raw,
				idTokenCheck{issuer: iss, jwksURI: srv.URL, clientID: aud, nonce: tc.nonce, now: now})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (!errors.Is(err, ErrIDToken) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want ErrIDToken mentioning %q", err, tc.want)
			}
		})
	}
}

// TestBrowserLoginVerifiesIDToken: against the real server, a login with scope openid sends
// a nonce and accepts the verified ID token; a nonce changed on the way to the server, or an
// ID token whose signature was tampered with on the way back, fails with ErrIDToken.
func TestBrowserLoginVerifiesIDToken(t *testing.T) {
	issuer, _ := startServer(t, nil)
	for _, tc := range []struct {
		name      string
		openURL   func(string) string
		transport func(body []byte) []byte
		want      string
	}{
		{name: "verified"},
		{name: "nonce changed", openURL: func(u string) string {
			p, _ := url.Parse(u)
			q := p.Query()
			q.Set("nonce", "forged")
			p.RawQuery = q.Encode()
			return p.String()
		}, want: "nonce is not the one"},
		{name: "signature tampered", transport: func(body []byte) []byte {
			var m map[string]any
			json.Unmarshal(body, &m)
			if s, ok := m["id_token"].(string); ok {
				parts := strings.Split(s, ".")
				parts[2] = strings.Repeat("A", len(parts[2]))
				m["id_token"] = strings.Join(parts, ".")
			}
			b, _ := json.Marshal(m)
			return b
		}, want: "no key of the issuer's jwks_uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			var sentNonce bool
			rec := &recorder{open: func(u string) error {
				p, _ := url.Parse(u)
				sentNonce = p.Query().Get("nonce") != ""
				if tc.openURL != nil {
					u = tc.openURL(u)
				}
				return br.Open(u)
			}}
			var hc *http.Client
			if tc.transport != nil {
				hc = &http.Client{Transport: rewriteToken{rewrite: tc.transport}}
			}
			tok, err := BrowserLogin{Issuer: issuer, ClientID: testserver.DefaultNativeClient, Scopes: []string{"openid", "dcr"},
				OpenURL: rec.Open, HTTPClient: hc}.Token(context.Background())
			rec.wait()
			if !sentNonce {
				t.Error("the login sent no nonce with scope openid")
			}
			if tc.want == "" {
				if err != nil || tok.IDToken == "" {
					t.Fatalf("login: %v (ID token present: %v)", err, tok != nil && tok.IDToken != "")
				}
				return
			}
			if !errors.Is(err, ErrIDToken) || !strings.Contains(err.Error(), tc.want) || tok != nil {
				t.Fatalf("error %v, want ErrIDToken mentioning %q", err, tc.want)
			}
		})
	}
}

// rewriteToken changes the token endpoint's answers on their way back (a man in the middle).
type rewriteToken struct{ rewrite func([]byte) []byte }

func (r rewriteToken) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = r.rewrite(b)
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}
