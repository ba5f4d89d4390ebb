package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// TestDiscoverResource finds the authorization server of dcrctl serve's protected resource
// both ways RFC 9728 gives: the path-aware well-known URL, and — with that URL hidden by a
// proxy in front of the real server — the resource_metadata of the resource's 401.
func TestDiscoverResource(t *testing.T) {
	ts := servertest.Start(t, func(c *testserver.Config) { c.ResourcePath = "/mcp" })
	iss := ts.Issuer()
	c := &client.Client{}
	ctx := context.Background()
	md, err := c.DiscoverResource(ctx, iss+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if md.Resource != iss+"/mcp" || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != iss ||
		md.URL != iss+"/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("metadata %+v", md)
	}
	if as, err := md.PickAuthorizationServer(""); as != iss || err != nil {
		t.Errorf("pick: %q %v", as, err)
	}
	if _, err := md.PickAuthorizationServer("https://other.example"); err == nil || !strings.Contains(err.Error(), "does not name https://other.example") {
		t.Errorf("pick another: %v", err)
	}

	// A proxy that hides the well-known URL: the 401's resource_metadata leads to the document.
	target, _ := url.Parse(iss)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource") {
			http.NotFound(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	md, err = c.DiscoverResource(ctx, proxy.URL+"/mcp")
	// The 401 names the real server's metadata, which is for the real server's resource URL:
	// a resource mismatch (RFC 9728 §3.3), reached through the 401.
	if !errors.Is(err, client.ErrResourceMismatch) || !strings.Contains(err.Error(), `is for resource "`+iss+`/mcp"`) {
		t.Errorf("through the 401 of another origin: %v, %+v; want a resource mismatch", err, md)
	}
	// A server whose well-known URL is missing but whose 401 names its metadata.
	var srv *testserver.Server
	hidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource") && r.URL.Query().Get("via") != "401" {
			http.NotFound(w, r)
			return
		}
		srv.ServeHTTP(viaChallenge{w}, r)
	}))
	defer hidden.Close()
	cfg := testserver.DefaultConfig()
	cfg.Issuer, cfg.ResourcePath = hidden.URL, "/mcp"
	if srv, err = testserver.New(cfg); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	md, err = c.DiscoverResource(ctx, hidden.URL+"/mcp")
	if err != nil || md.URL != hidden.URL+"/.well-known/oauth-protected-resource/mcp?via=401" || md.AuthorizationServers[0] != hidden.URL {
		t.Errorf("through the 401: %+v, %v", md, err)
	}
	if _, err := c.DiscoverResource(ctx, iss+"/nothing-here"); !errors.Is(err, client.ErrNotResource) {
		t.Errorf("not a resource: %v", err)
	}
}

// viaChallenge makes the resource_metadata of a 401 point at a URL the proxy serves (the
// well-known one with ?via=401), as a server whose metadata lives elsewhere would.
type viaChallenge struct{ http.ResponseWriter }

func (v viaChallenge) WriteHeader(code int) {
	if h := v.Header().Get("WWW-Authenticate"); code == http.StatusUnauthorized && strings.Contains(h, "resource_metadata=") {
		v.Header().Set("WWW-Authenticate", strings.Replace(h, `/mcp"`, `/mcp?via=401"`, 1))
	}
	v.ResponseWriter.WriteHeader(code)
}
