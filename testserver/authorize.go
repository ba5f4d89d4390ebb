package testserver

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Names a scripted browser needs (see the package documentation, "Driving the login form").
const (
	// SessionCookie is the SSO session cookie (HttpOnly, SameSite=Lax, Secure on https).
	SessionCookie = "dcr_session"
	// CSRFCookie holds the login form's anti-CSRF value; the form repeats it in CSRFField.
	CSRFCookie = "dcr_csrf"
	// CSRFField is the hidden form field that must equal the CSRFCookie value.
	CSRFField = "csrf_token"
	// UsernameField and PasswordField are the login form's credential fields.
	UsernameField = "username"
	PasswordField = "password"
)

// authRequest is a validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).
type authRequest struct {
	client       *client
	params       url.Values
	redirectURI  string
	sentRedirect bool
	state        string
	scope        string
	challenge    string
	nonce        string
	prompt       []string
	maxAge       int64    // -1: not sent
	resources    []string // RFC 8707
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	params, err := pageParams(w, r)
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	login := r.Method == http.MethodPost && params.Has(CSRFField)
	ar, err := s.parseAuthRequest(r.Context(), params)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			s.redirectError(w, r, re)
			return
		}
		s.writeErrorPage(w, r, err)
		return
	}

	var user string
	var authTime int64
	if login {
		if !s.csrfOK(r, params.Get(CSRFField)) {
			s.writeErrorPage(w, r, errorf(http.StatusForbidden, "invalid_request", "the login form was not sent from this server's page or has expired (CSRF check failed): go back to the application and start again"))
			return
		}
		u, ok := s.users[params.Get(UsernameField)]
		if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(params.Get(PasswordField))) != 1 {
			s.loginPage(w, r, ar, http.StatusUnauthorized, "Wrong username or password.")
			return
		}
		user, authTime = u.Username, s.now().Unix()
		if err := s.newSession(w, r, user); err != nil {
			s.writeErrorPage(w, r, err)
			return
		}
	} else {
		sess, err := s.session(r)
		if err != nil {
			s.writeErrorPage(w, r, err)
			return
		}
		fresh := sess != nil && (ar.maxAge < 0 || s.now().Unix()-sess.authTime <= ar.maxAge)
		switch {
		case slices.Contains(ar.prompt, "none"):
			if !fresh {
				// OpenID Connect Core §3.1.2.6: login_required when prompt=none and no session.
				s.redirectError(w, r, &redirectError{ar, "login_required", "no single sign-on session: the user must log in; retry without prompt=none"})
				return
			}
		case slices.Contains(ar.prompt, "login") || !fresh:
			s.loginPage(w, r, ar, http.StatusOK, "")
			return
		}
		user, authTime = sess.user, sess.authTime
	}
	code, err := s.newCode(r.Context(), ar, user, authTime)
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	v := url.Values{"code": {code}}
	s.redirect(w, r, ar, v)
}

type redirectError struct {
	ar          *authRequest
	code, descr string
}

func (e *redirectError) Error() string { return e.code + ": " + e.descr }

// parseAuthRequest validates the request. Until client_id and redirect_uri are known good the
// error is an *Error, shown on a page; afterwards it is a *redirectError (RFC 6749 §4.1.2.1:
// "If the request fails due to a missing, invalid, or mismatching redirection URI, or if the
// client identifier is missing or invalid, the authorization server SHOULD inform the resource
// owner of the error and MUST NOT automatically redirect the user-agent to the invalid
// redirection URI.").
func (s *Server) parseAuthRequest(ctx context.Context, p url.Values) (*authRequest, error) {
	id := p.Get("client_id")
	if id == "" || len(p["client_id"]) > 1 {
		return nil, badRequest("invalid_request", "the authorization request has no client_id (or more than one): the application must send its client_id")
	}
	c, err := s.lookupClient(ctx, id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, badRequest("invalid_client", "client %q is unknown or was deleted: the application must register first", id)
	}
	ar := &authRequest{client: c, params: p, state: p.Get("state"), maxAge: -1}
	if ar.redirectURI, ar.sentRedirect, err = s.redirectFor(c, id, p); err != nil {
		return nil, err
	}
	// From here on errors go back to the client.
	rerr := func(code, format string, args ...any) error {
		return &redirectError{ar, code, fmtS(format, args...)}
	}
	for k, vs := range p {
		if len(vs) > 1 && k != "resource" { // RFC 8707 §2: resource may repeat
			// RFC 6749 §3.1: parameters MUST NOT be included more than once.
			return nil, rerr("invalid_request", "parameter %s is sent more than once", k)
		}
	}
	switch rt := p.Get("response_type"); rt {
	case "code":
	case "":
		return nil, rerr("invalid_request", "response_type is missing: send response_type=code")
	default:
		return nil, rerr("unsupported_response_type", "response_type %q is not supported: use code", rt)
	}
	if rm := p.Get("response_mode"); rm != "" && rm != "query" {
		return nil, rerr("invalid_request", "response_mode %q is not supported: use query (the default)", rm)
	}
	if !c.md.has("authorization_code") {
		return nil, rerr("unauthorized_client", "client %q is not registered for the authorization_code grant", id)
	}
	if ar.scope, err = s.grantScope(c, p.Get("scope")); err != nil {
		var pe *Error
		errors.As(err, &pe)
		return nil, rerr("invalid_scope", "%s", pe.Description)
	}
	var desc string
	if ar.challenge, desc = s.challengeOf(c, p); desc != "" {
		return nil, rerr("invalid_request", "%s", desc)
	}
	ar.nonce = p.Get("nonce")
	ar.prompt = strings.Fields(p.Get("prompt"))
	if slices.Contains(ar.prompt, "none") && len(ar.prompt) > 1 {
		return nil, rerr("invalid_request", "prompt=none cannot be combined with other prompt values")
	}
	if ma := p.Get("max_age"); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil || n < 0 {
			return nil, rerr("invalid_request", "max_age must be a non-negative integer")
		}
		ar.maxAge = n
	}
	for _, k := range []string{"request", "request_uri"} {
		if p.Has(k) {
			return nil, rerr(k+"_not_supported", "the %s parameter is not supported: send the parameters directly", k)
		}
	}
	if ar.resources, err = parseResources(p); err != nil {
		var pe *Error
		errors.As(err, &pe)
		return nil, rerr("invalid_target", "%s", pe.Description)
	}
	return ar, nil
}

// redirectFor is the redirect URI of an authorization request (p) of client c (id), and
// whether the request sent it; an error here is shown on the page, never sent to an
// unchecked URI.
func (s *Server) redirectFor(c *client, id string, p url.Values) (uri string, sent bool, err error) {
	reqURI := p.Get("redirect_uri")
	switch {
	case len(p["redirect_uri"]) > 1:
		return "", false, badRequest("invalid_request", "redirect_uri is sent more than once")
	case reqURI == "" && len(c.md.RedirectURIs) == 1 && !isLoopbackURI(c.md.RedirectURIs[0]):
		// RFC 6749 §3.1.2.3: with a single registered URI the parameter may be omitted.
		return c.md.RedirectURIs[0], false, nil
	case reqURI == "":
		return "", false, badRequest("invalid_request", "redirect_uri is missing: client %q must send one of its registered redirect URIs", id)
	default:
		ok := false
		for _, reg := range c.md.RedirectURIs {
			if reg == reqURI || (s.beh.LoopbackAnyPort || c.doc != nil) && redirectMatches(reg, reqURI) {
				ok = true
				break
			}
		}
		if !ok {
			match := "loopback URIs match on any port, others exactly"
			if !s.beh.LoopbackAnyPort {
				match = "this server matches every redirect URI exactly, a loopback port included"
			}
			return "", false, badRequest("invalid_request", "redirect_uri %q is not registered for client %q: register it (%s)", reqURI, id, match)
		}
		return reqURI, true, nil
	}
}

// challengeOf is the PKCE code challenge of an authorization request (p) of client c, as
// stored ("plain:" before a plain one), or why it is refused (an invalid_request).
func (s *Server) challengeOf(c *client, p url.Values) (challenge, refused string) {
	ch, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	switch {
	case ch == "" && method != "":
		return "", "code_challenge_method without code_challenge"
	case ch == "" && c.public() && (s.beh.PKCERequired || c.doc != nil):
		// RFC 9700 §2.1.1 / RFC 8252 §8.1: public clients must use PKCE.
		return "", "PKCE is required for public clients: send code_challenge with code_challenge_method=S256 (RFC 7636)"
	case ch != "" && !slices.Contains(s.challengeMethods(), cmp.Or(method, "plain")):
		return "", fmtS("code_challenge_method %q is not supported: use %s", method, strings.Join(s.challengeMethods(), " or "))
	case ch != "" && cmp.Or(method, "plain") == "plain" && !validVerifier(ch):
		return "", "a plain code_challenge is the code_verifier itself: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)"
	case ch != "" && method == "S256" && (!validVerifier(ch) || len(ch) != 43):
		return "", "code_challenge is not a base64url SHA-256 (43 characters): compute BASE64URL(SHA256(code_verifier))"
	}
	if ch != "" && method != "S256" {
		return "plain:" + ch, "" // Behaviour.PKCEPlain; the verifier is compared as is
	}
	return ch, ""
}

func fmtS(format string, args ...any) string { return errorf(0, "", format, args...).Description }

func isLoopbackURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "http" && isLoopback(u.Hostname())
}

// validVerifier checks the RFC 7636 §4.1 alphabet: [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validVerifier(v string) bool {
	for _, c := range v {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// redirect sends the authorization response to the client (RFC 6749 §4.1.2), with state and
// iss (RFC 9207).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, ar *authRequest, v url.Values) {
	if ar.state != "" {
		v.Set("state", ar.state)
	}
	v.Set("iss", s.iss())
	sep := "?"
	if strings.Contains(ar.redirectURI, "?") {
		sep = "&"
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", ar.redirectURI+sep+v.Encode())
	w.WriteHeader(status)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, e *redirectError) {
	s.redirect(w, r, e.ar, url.Values{"error": {e.code}, "error_description": {e.descr}})
}

// newCode stores an authorization code (RFC 6749 §4.1.2: short-lived, single use).
func (s *Server) newCode(ctx context.Context, ar *authRequest, user string, authTime int64) (string, error) {
	code := s.newToken()
	g := userGrant{Subject: user, AuthTime: authTime, Nonce: ar.nonce, RedirectURI: ar.redirectURI,
		SentRedirect: ar.sentRedirect, Challenge: ar.challenge, Resources: ar.resources}
	data, _ := json.Marshal(g)
	now := s.now()
	row := &tokenRow{Kind: kindCode, ClientID: ar.client.ID, GrantID: newGrantID(s), Subject: user, Scope: ar.scope,
		Origin: originUser, IssuedAt: now.Unix(), ExpiresAt: now.Add(s.lt.Code).Unix(), Data: string(data)}
	h := tokenKey(code)
	return code, s.store.batch(false, func(tx txn) error { return tx.putToken(h, row) })
}

// authorizationCode is the token request of RFC 6749 §4.1.3 with RFC 7636 §4.6.
func (s *Server) authorizationCode(ctx context.Context, c *client, form url.Values) (*tokenResponse, error) {
	code := form.Get("code")
	if code == "" {
		return nil, badRequest("invalid_request", "code is missing")
	}
	return s.redeem(ctx, c, code, "authorization code", func(row *tokenRow) (redemption, error) {
		switch {
		case row == nil || row.Kind != kindCode:
			return redemption{}, badRequest("invalid_grant", "the authorization code is unknown: start a new authorization request")
		case row.Revoked:
			// RFC 6749 §4.1.2: "If an authorization code is used more than once, the
			// authorization server MUST deny the request and SHOULD revoke (when possible) all
			// tokens previously issued based on that authorization code."
			return redemption{reused: true}, badRequest("invalid_grant", "the authorization code was already used; the tokens issued with it are revoked: start a new authorization request")
		case s.now().Unix() >= row.ExpiresAt:
			return redemption{}, badRequest("invalid_grant", "the authorization code has expired: codes live %s; exchange it sooner", s.lt.Code)
		case row.ClientID != c.ID:
			return redemption{}, badRequest("invalid_grant", "the authorization code was issued to another client")
		}
		var g userGrant
		if err := json.Unmarshal([]byte(row.Data), &g); err != nil {
			return redemption{}, err
		}
		ru := form.Get("redirect_uri")
		if (g.SentRedirect || ru != "") && ru != g.RedirectURI {
			// RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the authorization
			// request, and the values MUST be identical.
			return redemption{}, badRequest("invalid_grant", "redirect_uri must be identical to the one in the authorization request")
		}
		v := form.Get("code_verifier")
		switch {
		case g.Challenge != "" && v == "":
			return redemption{}, badRequest("invalid_grant", "code_verifier is missing: send the PKCE verifier of this authorization request")
		case g.Challenge != "" && (len(v) < 43 || len(v) > 128 || !validVerifier(v)):
			// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
			return redemption{}, badRequest("invalid_grant", "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
		case g.Challenge != "":
			sum := sha256.Sum256([]byte(v))
			want, got := g.Challenge, b64(sum[:])
			if plain, ok := strings.CutPrefix(want, "plain:"); ok {
				want, got = plain, v
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return redemption{}, badRequest("invalid_grant", "code_verifier does not match the code_challenge (S256)")
			}
		case v != "":
			return redemption{}, badRequest("invalid_grant", "code_verifier was sent but the authorization request had no code_challenge")
		}
		aud, err := s.tokenAudience(form, g.Resources)
		return redemption{scope: row.Scope, grant: g, aud: aud}, err
	})
}

// refresh is RFC 6749 §6 with rotation: every use returns a new refresh token and invalidates
// the old one; presenting an old one again revokes the whole grant (RFC 9700 §4.14.2).
func (s *Server) refresh(ctx context.Context, c *client, form url.Values) (*tokenResponse, error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "refresh_token is missing")
	}
	return s.redeem(ctx, c, rt, "refresh token", func(row *tokenRow) (redemption, error) {
		switch {
		case row == nil || row.Kind != kindRefresh:
			return redemption{}, badRequest("invalid_grant", "the refresh token is unknown or revoked: log in again")
		case row.ClientID != c.ID:
			return redemption{}, badRequest("invalid_grant", "the refresh token was issued to another client")
		case row.Revoked:
			return redemption{reused: true}, badRequest("invalid_grant", "the refresh token was already used (tokens rotate on every refresh); the grant is revoked: log in again")
		case s.now().Unix() >= row.ExpiresAt:
			return redemption{}, badRequest("invalid_grant", "the refresh token has expired: log in again")
		}
		scope := row.Scope
		if req := form.Get("scope"); req != "" {
			want, err := parseScope(req)
			if err != nil {
				return redemption{}, err
			}
			have := strings.Fields(row.Scope)
			for _, w := range want {
				if !slices.Contains(have, w) {
					// RFC 6749 §6: the scope MUST NOT include any scope not originally granted.
					return redemption{}, badRequest("invalid_scope", "scope %q was not granted originally (%q)", w, row.Scope)
				}
			}
			scope = strings.Join(want, " ")
		}
		var g userGrant
		if err := json.Unmarshal([]byte(row.Data), &g); err != nil {
			return redemption{}, err
		}
		aud, err := s.tokenAudience(form, g.Resources)
		return redemption{scope: scope, grant: g, aud: aud}, err
	})
}

// redemption is what a single-use grant credential, checked, gives: the scope and the grant
// to issue tokens for, or, with an error, whether it had been used already.
type redemption struct {
	scope  string
	grant  userGrant
	aud    []string // the access token's audience (RFC 8707)
	reused bool
}

// redeem exchanges a single-use credential of a user grant — an authorization code or a
// refresh token (what names it) — for new tokens in one transaction. check validates the
// stored row (nil when unknown) against the request. The row is then marked used with a
// conditional UPDATE, so two concurrent redemptions cannot both succeed. When check reports a
// credential presented again after its use, every token of its grant is revoked afterwards.
func (s *Server) redeem(ctx context.Context, c *client, credential, what string, check func(*tokenRow) (redemption, error)) (*tokenResponse, error) {
	h := tokenKey(credential)
	var resp *tokenResponse
	var reused []byte
	err := s.store.update(ctx, func(tx txn) error {
		row, err := tx.token(h)
		if err != nil {
			return err
		}
		r, err := check(row)
		if err != nil {
			if r.reused {
				reused = row.GrantID
			}
			return err
		}
		ok, err := tx.revokeToken(h)
		if err != nil {
			return err
		}
		if !ok {
			return badRequest("invalid_grant", "the %s was already used", what)
		}
		resp, err = s.issueUserTokens(tx, c, row.GrantID, r.scope, r.grant, r.aud, true)
		return err
	})
	if reused != nil {
		if rerr := s.store.update(ctx, func(tx txn) error { return tx.revokeGrant(reused) }); rerr != nil {
			return nil, rerr
		}
	}
	return resp, err
}

// --- sessions and the login page ---

type sessionInfo struct {
	user     string
	authTime int64
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: s.path + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure || r.TLS != nil, MaxAge: int(maxAge / time.Second)}
}

func (s *Server) newSession(w http.ResponseWriter, r *http.Request, user string) error {
	id := s.secret()
	now := s.now()
	row := &sessionRow{Username: user, AuthTime: now.Unix(), ExpiresAt: now.Add(s.lt.Session).Unix()}
	err := s.store.batch(false, func(tx txn) error { return tx.putSession(hashOf(id), row) })
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, SessionCookie, id, s.lt.Session))
	return nil
}

// session returns the request's SSO session, or nil.
func (s *Server) session(r *http.Request) (*sessionInfo, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	row, err := s.store.session(r.Context(), hashOf(ck.Value))
	if err != nil || row == nil {
		return nil, err
	}
	if _, ok := s.users[row.Username]; !ok || s.now().Unix() >= row.ExpiresAt {
		return nil, nil
	}
	return &sessionInfo{user: row.Username, authTime: row.AuthTime}, nil
}

// csrfValue returns the browser's anti-CSRF value, setting the cookie if it has none.
func (s *Server) csrfValue(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(CSRFCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	v := s.secret()
	http.SetCookie(w, s.cookie(r, CSRFCookie, v, 0))
	return v
}

// csrfOK is the double-submit check: the form field must equal the cookie, which a page on
// another site can neither read nor set.
func (s *Server) csrfOK(r *http.Request, field string) bool {
	ck, err := r.Cookie(CSRFCookie)
	return err == nil && len(ck.Value) >= 32 && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(field)) == 1
}

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:26em;margin:3em auto;padding:0 1em}
label{display:block;margin:.8em 0 .2em}input[type=text],input[type=password]{width:100%;padding:.4em}
button{margin-top:1em;padding:.5em 1.2em}.error{color:#b00020}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Client}}<p>Application: <strong>{{.Client}}</strong></p>{{end}}
{{if .ClientURL}}<p id="client_id_url">Identified by its metadata document at <strong>{{.ClientHost}}</strong>: <code>{{.ClientURL}}</code></p>{{end}}
{{if .Message}}<p class="error" id="error">{{.Message}}</p>{{end}}
{{if .Info}}<p id="info">{{.Info}}</p>{{else}}<form method="post" action="{{.Action}}" id="login">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{if .UserCode}}<label for="user_code">Code shown on your device</label>
<input type="text" id="user_code" name="user_code" value="{{.UserCode.Value}}" autocomplete="off">
{{end}}{{if .AskLogin}}<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
{{end}}{{range .Buttons}}<button type="submit" name="{{.Name}}" value="{{.Value}}">{{.Label}}</button>
{{end}}</form>{{end}}</body></html>
`))

type field struct{ Name, Value string }
type button struct{ Name, Value, Label string }

type pageData struct {
	Title, Client, Message, Info, Action string
	ClientURL, ClientHost                string // a CIMD client: its client_id URL and host (draft §8.5)
	Hidden                               []field
	UserCode                             *field
	AskLogin                             bool
	Buttons                              []button
}

func (s *Server) renderPage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	loginTmpl.Execute(w, d)
}

// loginPage shows the login form; it posts the authorization request back with the user's
// credentials and the anti-CSRF value.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, ar *authRequest, status int, msg string) {
	params := ar.params
	d := pageData{Title: "Sign in", Message: msg, Action: s.url(pathAuthorize), AskLogin: true,
		Buttons: []button{{"action", "login", "Sign in"}}}
	keys := make([]string, 0, len(params))
	for k := range params {
		switch k {
		case UsernameField, PasswordField, CSRFField, "action":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range params[k] { // resource may repeat (RFC 8707)
			d.Hidden = append(d.Hidden, field{k, v})
		}
	}
	d.Hidden = append(d.Hidden, field{CSRFField, s.csrfValue(w, r)})
	c, err := ar.client, error(nil) // as the request was checked: a CIMD document is not fetched again
	if c.row != nil && c.row.Template == "" {
		c, err = s.fromRow(c.row, true) // with every field, for client_name
	}
	if err == nil && c != nil {
		d.Client = c.ID
		var name string
		if raw, ok := c.md.Fields["client_name"]; ok && json.Unmarshal(raw, &name) == nil && name != "" {
			d.Client = name
		}
		d.ClientURL, d.ClientHost = cimdShown(c)
	}
	s.renderPage(w, status, d)
}
