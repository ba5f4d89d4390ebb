// Package servertest runs the real dcrctl authorization server (package testserver) under
// net/http/httptest, for tests of code that talks to an RFC 7591/7592 server: the SDK's own
// tests, and yours. It is the one place that writes out that set-up.
//
// It does not import package testing (a public package must not): Start takes the small TB
// interface, which *testing.T, *testing.B and *testing.F satisfy.
//
//	srv := servertest.Start(t, func(c *testserver.Config) { c.Registration = testserver.ModeOpen })
//	md, err := client.Client{}.Discover(ctx, srv.Issuer())
package servertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/dcrctl/dcrctl/testserver"
)

// TB is what Start needs from a test: *testing.T, *testing.B and *testing.F satisfy it.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Server is a testserver answering on a loopback port.
type Server struct {
	// HTTP is the httptest server; HTTP.URL is the issuer.
	HTTP *httptest.Server
	// Server is the authorization server.
	Server *testserver.Server
	// Config is the effective configuration: secrets that the server generated for static
	// clients are filled in (Config.Clients[0].ClientSecret is the bootstrap client's).
	Config testserver.Config
}

// Issuer is the server's issuer identifier, its base URL.
func (s *Server) Issuer() string { return s.Server.Issuer() }

// URL is the URL of path below the issuer, e.g. URL("/register").
func (s *Server) URL(path string) string { return s.Server.Issuer() + path }

// Start runs testserver.DefaultConfig() with its Issuer set to a free loopback port and its
// database in memory, changed by mutate (which may be nil), until the test ends. It fails
// the test if the server cannot start.
func Start(tb TB, mutate func(*testserver.Config)) *Server {
	tb.Helper()
	return start(tb, false, nil, mutate)
}

// StartWith is Start with the server's handler wrapped by wrap: for a test that watches the
// requests reaching the real server (counting its writes, say) or holds some of them up.
func StartWith(tb TB, wrap func(http.Handler) http.Handler, mutate func(*testserver.Config)) *Server {
	tb.Helper()
	return start(tb, false, wrap, mutate)
}

// StartTLS is Start over HTTPS: the issuer is https://127.0.0.1:PORT, with httptest's
// certificate (HTTP.Client() trusts it) unless mutate sets Config.TLS.
func StartTLS(tb TB, mutate func(*testserver.Config)) *Server {
	tb.Helper()
	return start(tb, true, nil, mutate)
}

// New is Start for code without a test to fail, such as examples: the caller must Close the
// server.
func New(mutate func(*testserver.Config)) (*Server, error) { return open(false, nil, mutate) }

// Close stops the HTTP server and closes the authorization server's database.
func (s *Server) Close() error {
	s.HTTP.Close()
	return s.Server.Close()
}

func start(tb TB, useTLS bool, wrap func(http.Handler) http.Handler, mutate func(*testserver.Config)) *Server {
	tb.Helper()
	s, err := open(useTLS, wrap, mutate)
	if err != nil {
		tb.Fatalf("%v", err)
		return nil
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func open(useTLS bool, wrap func(http.Handler) http.Handler, mutate func(*testserver.Config)) (*Server, error) {
	hs := httptest.NewUnstartedServer(nil)
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	if useTLS {
		cfg.Issuer = "https://" + hs.Listener.Addr().String()
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := testserver.New(cfg)
	if err != nil {
		hs.Close()
		return nil, fmt.Errorf("servertest: %w", err)
	}
	hs.Config.Handler = srv
	if wrap != nil {
		hs.Config.Handler = wrap(srv)
	}
	if useTLS {
		hs.TLS = cfg.TLS
		hs.StartTLS()
	} else {
		hs.Start()
	}
	return &Server{HTTP: hs, Server: srv, Config: srv.Config()}, nil
}
