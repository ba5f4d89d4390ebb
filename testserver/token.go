package testserver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenResponse is RFC 6749 §5.1 plus the OpenID Connect id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// token is the token endpoint (RFC 6749 §3.2).
func (s *Server) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, error) {
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return nil, err
	}
	gt := form.Get("grant_type")
	switch gt {
	case "":
		return nil, badRequest("invalid_request", "grant_type is missing: send grant_type=client_credentials, authorization_code, refresh_token or %s", grantDevice)
	case "client_credentials", "authorization_code", "refresh_token", grantDevice:
	default:
		return nil, badRequest("unsupported_grant_type", "grant_type %q is not supported: use client_credentials, authorization_code, refresh_token or %s", gt, grantDevice)
	}
	if !c.md.has(gt) {
		return nil, badRequest("unauthorized_client", "client %q is not registered for grant type %s: add it to its grant_types", c.ID, gt)
	}
	switch gt {
	case "client_credentials":
		return s.clientCredentials(r.Context(), c, form)
	case "authorization_code":
		return s.authorizationCode(r.Context(), c, form)
	case "refresh_token":
		return s.refresh(r.Context(), c, form)
	default:
		return s.deviceToken(r.Context(), c, form)
	}
}

// parseScope splits and checks a scope parameter (RFC 6749 §3.3).
func parseScope(scope string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(scope, " ") {
		if t == "" {
			continue
		}
		for _, ch := range t {
			// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
			if ch < 0x21 || ch == 0x22 || ch == 0x5c || ch > 0x7e {
				return nil, badRequest("invalid_scope", "the scope contains a character RFC 6749 §3.3 does not allow")
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// grantScope decides the granted scope: the requested one if the client may have it all,
// or the client's registered scope if nothing was requested.
func (s *Server) grantScope(c *client, requested string) (string, error) {
	want, err := parseScope(requested)
	if err != nil {
		return "", err
	}
	if len(want) == 0 {
		return s.defaultScope(c), nil
	}
	if !s.scopeAllowed(c, want) {
		return "", badRequest("invalid_scope", "client %q may not have scope %q: ask for a subset of %q", c.ID, requested, s.allowedScopeText(c))
	}
	return strings.Join(want, " "), nil
}

func (s *Server) allowedScopeText(c *client) string {
	if c.md.Scope != "" {
		return c.md.Scope
	}
	return strings.Join(s.scopes, " ")
}

func hasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// clientCredentials is RFC 6749 §4.4.
func (s *Server) clientCredentials(ctx context.Context, c *client, form url.Values) (*tokenResponse, error) {
	if c.public() {
		// RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
		return nil, badRequest("unauthorized_client", "client_credentials is only for confidential clients")
	}
	granted, err := s.grantScope(c, form.Get("scope"))
	if err != nil {
		return nil, err
	}
	aud, err := parseResources(form)
	if err != nil {
		return nil, err
	}
	at, exp, err := s.newAccessToken(nil, c.ID, nil, c.ID, granted, originClient, aud)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: exp, Scope: granted}, nil
}

// newAccessToken stores a new opaque access token and returns it with its lifetime in seconds.
// If the scope includes "dcr" it is also an initial access token with the configured uses.
func (s *Server) newAccessToken(tx txn, clientID string, grantID []byte, subject, scope string, origin int, aud []string) (string, int64, error) {
	now := s.now()
	tok := s.newToken()
	var uses int64
	if hasScope(scope, "dcr") {
		uses = s.uses
	}
	row := &tokenRow{Kind: kindAccess, ClientID: clientID, GrantID: grantID, Subject: subject, Scope: scope, Origin: origin,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(s.lt.AccessToken).Unix(), Uses: uses}
	if len(aud) > 0 {
		data, _ := json.Marshal(accessData{Audience: aud})
		row.Data = string(data)
	}
	h := tokenKey(tok)
	var err error
	if tx != nil {
		err = tx.putToken(h, row)
	} else {
		err = s.store.batch(false, func(tx txn) error { return tx.putToken(h, row) })
	}
	if err != nil {
		return "", 0, err
	}
	return tok, int64(s.lt.AccessToken / time.Second), nil
}

// userGrant is what a user login hands to the token endpoint.
type userGrant struct {
	Subject  string `json:"sub"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce,omitempty"`
	// code only
	RedirectURI  string `json:"redirect_uri,omitempty"`
	Challenge    string `json:"code_challenge,omitempty"`
	SentRedirect bool   `json:"sent_redirect,omitempty"`
	// Resources are the resource indicators of the authorization request (RFC 8707), kept
	// with the code and the refresh token: later token requests may narrow them.
	Resources []string `json:"resource,omitempty"`
}

// issueUserTokens issues the access token, a refresh token if the client may use one, and an
// ID token if openid was granted, all in tx.
func (s *Server) issueUserTokens(tx txn, c *client, grantID []byte, scope string, g userGrant, aud []string, idToken bool) (*tokenResponse, error) {
	at, exp, err := s.newAccessToken(tx, c.ID, grantID, g.Subject, scope, originUser, aud)
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: exp, Scope: scope}
	if c.md.has("refresh_token") {
		rt := s.newToken()
		data, _ := json.Marshal(userGrant{Subject: g.Subject, AuthTime: g.AuthTime, Resources: g.Resources})
		now := s.now()
		row := &tokenRow{Kind: kindRefresh, ClientID: c.ID, GrantID: grantID, Subject: g.Subject, Scope: scope, Origin: originUser,
			IssuedAt: now.Unix(), ExpiresAt: now.Add(s.lt.RefreshToken).Unix(), Data: string(data)}
		if err := tx.putToken(tokenKey(rt), row); err != nil {
			return nil, err
		}
		resp.RefreshToken = rt
	}
	if idToken && hasScope(scope, "openid") {
		idt, err := s.idToken(c.ID, g, at)
		if err != nil {
			return nil, err
		}
		resp.IDToken = idt
	}
	return resp, nil
}

// idToken makes an OpenID Connect Core §2 ID token, RS256.
func (s *Server) idToken(aud string, g userGrant, accessToken string) (string, error) {
	now := s.now()
	h := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss": s.iss(), "sub": g.Subject, "aud": aud, "azp": aud,
		"iat": now.Unix(), "exp": now.Add(s.lt.IDToken).Unix(), "auth_time": g.AuthTime,
		// OpenID Connect Core §3.1.3.6: at_hash is the left half of the hash, base64url.
		"at_hash": b64(h[:16]),
	}
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	if u, ok := s.users[g.Subject]; ok {
		if u.Name != "" {
			claims["name"] = u.Name
		}
		if u.Email != "" {
			claims["email"] = u.Email
		}
	}
	return s.signJWT(claims)
}

func newGrantID(s *Server) []byte { return []byte(randomString(s.rand, 16)) }

// revokeGrant marks every token of a grant revoked (RFC 6749 §4.1.2, §10.4; RFC 7009 §2.1).
func revokeGrant(tx txn, grantID []byte) error {
	if grantID == nil {
		return nil
	}
	return tx.revokeGrant(grantID)
}

var errGrant = errors.New("grant")
