package testserver

import (
	"encoding/json"
	"net/http"
)

// buildDiscovery prepares the RFC 8414 §2 / OpenID Connect Discovery 1.0 §3 metadata. Empty
// arrays are omitted (RFC 8414 §2: omitted parameters have no value).
func (s *Server) buildDiscovery() {
	md := map[string]any{
		"issuer":                                        s.iss(),
		"authorization_endpoint":                        s.url(pathAuthorize),
		"token_endpoint":                                s.url(pathToken),
		"jwks_uri":                                      s.url(pathJWKS),
		"revocation_endpoint":                           s.url(pathRevoke),
		"introspection_endpoint":                        s.url(pathIntrospect),
		"device_authorization_endpoint":                 s.url(pathDeviceAuthz),
		"userinfo_endpoint":                             s.url(pathUserinfo),
		"scopes_supported":                              s.scopes,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         supportedGrants,
		"token_endpoint_auth_methods_supported":         s.beh.AuthMethods,
		"revocation_endpoint_auth_methods_supported":    supportedAuthMethods,
		"introspection_endpoint_auth_methods_supported": supportedAuthMethods,
		"code_challenge_methods_supported":              s.challengeMethods(),
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{"RS256"},
		"claims_supported":                              []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "email"},
		"prompt_values_supported":                       []string{"none", "login"},
		// RFC 9207: the authorization response carries iss (mix-up defence).
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
	}
	if s.cimdFetch != nil {
		md["client_id_metadata_document_supported"] = true // draft-ietf-oauth-client-id-metadata-document §6
	}
	if s.mode != ModeDisabled && s.beh.DiscoveryRegistrationEndpoint {
		// Checklist 2: advertised only while registration is enabled.
		md["registration_endpoint"] = s.registerURL()
	}
	for _, k := range s.beh.DiscoveryHide {
		delete(md, k)
	}
	s.discovery, _ = json.Marshal(md)
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	s.writeStatic(w, r, s.discovery)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	s.keyMu.RLock()
	jwks := s.jwks
	s.keyMu.RUnlock()
	s.writeStatic(w, r, jwks)
}

func (s *Server) writeStatic(w http.ResponseWriter, r *http.Request, b []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, methodNotAllowed(w, http.MethodGet))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(b)
	}
}
