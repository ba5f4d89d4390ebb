package testserver

import (
	"net/http"
	"strings"
)

// handleRevoke is RFC 7009 token revocation.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.revoke(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	// RFC 7009 §2.2: 200 for a revoked token and for an invalid one alike.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	// RFC 7009 §2.1: the client authenticates as at the token endpoint.
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return err
	}
	tok := form.Get("token")
	if tok == "" {
		return badRequest("invalid_request", "token is missing: send the access or refresh token to revoke")
	}
	ctx := r.Context()
	h := tokenKey(tok)
	defer s.tokCache.invalidate(string(h)) // after the commit
	return s.store.update(ctx, func(tx txn) error {
		// The hint (token_type_hint) only speeds up other servers' searches; one lookup
		// finds any kind here.
		row, err := tx.token(h)
		if err != nil || row == nil || row.Kind == kindCode {
			return err
		}
		if row.ClientID != c.ID {
			// RFC 7009 §2.1: the server verifies that the token was issued to the client
			// making the request; if not, the request is refused.
			return badRequest("unauthorized_client", "the token was issued to another client: revoke it with the client it was issued to")
		}
		return revokeStored(tx, h)
	})
}

// revokeStored revokes the token stored under h. RFC 7009 §2.1: revoking a refresh token
// SHOULD also invalidate the access tokens of the same grant.
func revokeStored(tx txn, h []byte) error {
	row, err := tx.token(h)
	if err != nil || row == nil {
		return err
	}
	if row.Kind == kindRefresh {
		return revokeGrant(tx, row.GrantID)
	}
	_, err = tx.revokeToken(h)
	return err
}

// introspect is RFC 7662 token introspection. Any authenticated client may introspect
// access tokens; refresh tokens only their own client.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	// RFC 7662 §2.1: "the endpoint MUST also require some form of authorization".
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return nil, err
	}
	tok := form.Get("token")
	if tok == "" {
		return nil, badRequest("invalid_request", "token is missing: send the token to introspect")
	}
	row, err := s.store.token(r.Context(), tokenKey(tok))
	if err != nil {
		return nil, err
	}
	inactive := map[string]any{"active": false}
	if row == nil || row.Revoked || row.Kind == kindCode || s.now().Unix() >= row.ExpiresAt ||
		(row.Kind == kindRefresh && row.ClientID != c.ID) {
		// RFC 7662 §2.2: an invalid token gets only {"active": false}.
		return inactive, nil
	}
	// A deleted client's tokens are dead (RFC 7592 §2.3).
	if owner, err := s.lookupClient(r.Context(), row.ClientID); err != nil || owner == nil {
		if err != nil {
			return nil, err
		}
		return inactive, nil
	}
	out := map[string]any{
		"active":     true,
		"client_id":  row.ClientID,
		"scope":      row.Scope,
		"sub":        row.Subject,
		"exp":        row.ExpiresAt,
		"iat":        row.IssuedAt,
		"iss":        s.iss(),
		"token_type": "Bearer",
	}
	if row.Kind == kindRefresh {
		out["token_type"] = "refresh_token"
	}
	if row.Origin == originUser {
		out["username"] = row.Subject
	}
	if aud := row.audience(); len(aud) > 0 {
		out["aud"] = aud // RFC 7662 §2.2, the resources of RFC 8707
	}
	return out, nil
}

// handleUserinfo is OpenID Connect Core §5.3, for access tokens from a user login with openid.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.writeError(w, r, methodNotAllowed(w, http.MethodGet, http.MethodPost))
		return
	}
	tok, e := bearer(r)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	row, err := s.store.token(r.Context(), tokenKey(tok))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if row == nil || row.Kind != kindAccess || row.Revoked || s.now().Unix() >= row.ExpiresAt || row.Origin != originUser {
		s.writeError(w, r, invalidToken("the access token is unknown, expired, revoked or not from a user login"))
		return
	}
	if aud := row.audience(); !s.audienceAllows(aud) {
		// RFC 8707: a token requested for a resource is for that resource, not for userinfo.
		s.writeError(w, r, invalidToken("the access token was requested for %s (its audience, RFC 8707), not for this server's userinfo endpoint: log in without resource, or with resource=%s", strings.Join(aud, " "), s.issuer))
		return
	}
	if owner, err := s.lookupClient(r.Context(), row.ClientID); err != nil || owner == nil {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, invalidToken("the client this access token was issued to was deleted"))
		return
	}
	if !strings.Contains(" "+row.Scope+" ", " openid ") {
		e := errorf(http.StatusForbidden, "insufficient_scope", "the access token lacks scope openid")
		e.Challenge = "Bearer"
		s.writeError(w, r, e)
		return
	}
	out := map[string]any{"sub": row.Subject}
	if u, ok := s.users[row.Subject]; ok {
		if u.Name != "" && hasScope(row.Scope, "profile") {
			out["name"] = u.Name
		}
		if u.Email != "" && hasScope(row.Scope, "email") {
			out["email"] = u.Email
		}
	}
	writeJSON(w, http.StatusOK, out)
}
