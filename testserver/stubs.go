package testserver

import (
	"context"
	"net/http"
	"net/url"
)

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	s.notFound(w, r)
}
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	s.notFound(w, r)
}
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request)   { s.notFound(w, r) }
func (s *Server) deviceToken(ctx context.Context, c *client, form url.Values) (*tokenResponse, error) {
	return nil, badRequest("unsupported_grant_type", "not yet")
}
