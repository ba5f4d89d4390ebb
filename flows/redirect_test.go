package flows

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTokenRequestRedirectNotFollowed: a token endpoint answering 307 or 308 must not make
// the flow re-send its client_secret_post body (or a device code) to the new place, whatever
// HTTP client the caller gave (nil, or one without a CheckRedirect of its own).
func TestTokenRequestRedirectNotFollowed(t *testing.T) {
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 || r.Header.Get("Authorization") != "" {
			stolen.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"x","token_type":"Bearer","device_code":"d","user_code":"u","verification_uri":"https://x","expires_in":60}`)
	}))
	defer other.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token", status)
		}))
		for _, hc := range []*http.Client{nil, {}} {
			for _, method := range []string{AuthClientSecretPost, AuthClientSecretBasic} {
				cc := ClientCredentials{TokenURL: redirector.URL + "/token", ClientID: "c", ClientSecret: "s3cret-value",
					AuthMethod: method, HTTPClient: hc}
				_, err := cc.Token(t.Context())
				if err == nil || !strings.Contains(err.Error(), "redirected a POST") {
					t.Errorf("%d %s: client credentials error = %v", status, method, err)
				}
			}
			d := DeviceFlow{DeviceAuthURL: redirector.URL + "/device", TokenURL: redirector.URL + "/token",
				ClientID: "c", ClientSecret: "s3cret-value", AuthMethod: AuthClientSecretPost, HTTPClient: hc}
			if _, err := d.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "redirected a POST") {
				t.Errorf("%d: device error = %v", status, err)
			}
		}
		redirector.Close()
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests with a body or credentials", n)
	}
}
