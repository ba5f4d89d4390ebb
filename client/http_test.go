package client

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRedirectPolicy: a redirected POST, PUT or DELETE is never followed (a 307 would re-send
// the body and its secrets to another place); GET follows, but never from https to http.
func TestRedirectPolicy(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		elsewhere.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer other.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusSeeOther} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", status)
		}))
		for _, hc := range []*http.Client{nil, {}, NewHTTPClient(HTTPOptions{})} {
			c := Client{HTTPClient: hc}
			_, err := c.Register(t.Context(), redirector.URL+"/register", "initial-token", Metadata{ClientName: "x"})
			if err == nil || !strings.Contains(err.Error(), "the server redirected a POST to "+other.URL+"/steal: not followed") {
				t.Errorf("%d: Register error = %v", status, err)
			}
			reg := &Registration{ClientID: "c", ClientSecret: "s", RegistrationAccessToken: "rat", RegistrationClientURI: redirector.URL + "/register/c"}
			if _, err := c.Update(t.Context(), reg, Metadata{}); err == nil || !strings.Contains(err.Error(), "redirected a PUT") {
				t.Errorf("%d: Update error = %v", status, err)
			}
			if err := c.Delete(t.Context(), reg); err == nil || !strings.Contains(err.Error(), "redirected a DELETE") {
				t.Errorf("%d: Delete error = %v", status, err)
			}
		}
		redirector.Close()
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}

	// https → http is refused, even to loopback.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/meta", http.StatusFound)
	}))
	defer tlsSrv.Close()
	hc := NewHTTPClient(HTTPOptions{WrapTransport: func(http.RoundTripper) http.RoundTripper { return tlsSrv.Client().Transport }})
	c := Client{HTTPClient: hc}
	_, err := c.Discover(t.Context(), tlsSrv.URL)
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect from https to "+other.URL+"/meta") {
		t.Errorf("https → http: %v", err)
	}
}

// TestWithRedirectPolicy: a caller's client keeps its own CheckRedirect, gets the policy
// when it has none, and is never changed itself.
func TestWithRedirectPolicy(t *testing.T) {
	own := func(*http.Request, []*http.Request) error { return nil }
	mine := &http.Client{CheckRedirect: own}
	if got := WithRedirectPolicy(mine); got != mine {
		t.Error("a client with its own CheckRedirect was replaced")
	}
	bare := &http.Client{}
	got := WithRedirectPolicy(bare)
	if got == bare || got.CheckRedirect == nil || bare.CheckRedirect != nil {
		t.Error("a client without CheckRedirect did not get the policy on a copy")
	}
	if d := WithRedirectPolicy(nil); d == nil || d.CheckRedirect == nil || d.Timeout == 0 {
		t.Error("nil did not give the default client")
	}
}
