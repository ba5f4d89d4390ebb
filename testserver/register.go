package testserver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// bearer extracts an RFC 6750 §2.1 bearer token. Only the Authorization header is read:
// tokens in the query or body are not accepted here.
func bearer(r *http.Request) (string, *Error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		// RFC 6750 §3.1: "If the request lacks any authentication information ... the
		// resource server SHOULD NOT include an error code or other error information."
		return "", &Error{Status: http.StatusUnauthorized, Challenge: "Bearer",
			Description: "this endpoint needs an access token in the Authorization: Bearer header"}
	}
	return tok, nil
}

func invalidToken(format string, args ...any) *Error {
	e := errorf(http.StatusUnauthorized, "invalid_token", format, args...)
	e.Challenge = "Bearer"
	return e
}

// initialToken checks the initial access token of a registration request (RFC 7591 §3,
// RFC 6750) without consuming it.
func (s *Server) initialToken(r *http.Request) ([]byte, *tokenRow, error) {
	if s.mode == ModeOpen {
		return nil, nil, nil
	}
	tok, e := bearer(r)
	if e != nil {
		return nil, nil, e
	}
	h := tokenKey(tok)
	row, err := s.initialTokenRow(r.Context(), h)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().Unix()
	switch {
	case row == nil || row.Kind != kindAccess || row.Revoked:
		return nil, nil, invalidToken("the initial access token is unknown or revoked: get a new one with scope dcr")
	case now >= row.ExpiresAt:
		return nil, nil, invalidToken("the initial access token has expired: get a new one with scope dcr")
	case !hasScope(row.Scope, "dcr"):
		if s.beh.MissingScopeStatus == http.StatusUnauthorized {
			return nil, nil, invalidToken("the access token is not an initial access token: it lacks scope dcr; request a token with scope dcr")
		}
		// RFC 6750 §3.1: insufficient_scope → 403.
		e := errorf(http.StatusForbidden, "insufficient_scope", "the access token lacks scope dcr: request a token with scope dcr")
		e.Challenge = "Bearer"
		return nil, nil, e
	case !s.audienceAllows(row.audience()):
		// RFC 8707 §1: a token requested with resource is for that resource only.
		return nil, nil, invalidToken("the access token was requested for %s (its audience, RFC 8707), not for this registration endpoint: get an initial access token without resource", strings.Join(row.audience(), " "))
	case row.Uses == 0:
		return nil, nil, invalidToken("the initial access token was already used: it is single-use here; get a new one for each registration")
	case s.mode == ModeClient && row.Origin != originClient:
		return nil, nil, invalidToken("registration here needs an initial access token from the client_credentials grant (client-authenticated mode); this one is from a user login")
	case s.mode == ModeUser && row.Origin != originUser:
		return nil, nil, invalidToken("registration here needs an initial access token from a user login (user-authenticated mode); this one is from client_credentials")
	}
	if c, err := s.lookupClient(r.Context(), row.ClientID); err != nil || c == nil {
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, invalidToken("the client this initial access token was issued to was deleted: get a new token")
	}
	return h, row, nil
}

// audienceAllows reports whether a token with audience aud (nil: none, any use) may be used
// at this server's own endpoints: its audience names the issuer or the registration endpoint.
func (s *Server) audienceAllows(aud []string) bool {
	return len(aud) == 0 || slices.Contains(aud, s.issuer) || slices.Contains(aud, s.registerURL())
}

// initialTokenRow reads a token, from the cache if it is a reusable client-credentials token
// (the only kind whose row changes only by revocation, which invalidates the cache).
func (s *Server) initialTokenRow(ctx context.Context, h []byte) (*tokenRow, error) {
	if row, ok := s.tokCache.get(string(h)); ok {
		return row, nil
	}
	epoch := s.tokCache.epoch()
	row, err := s.store.token(ctx, h)
	if err == nil && row != nil && row.Uses < 0 && row.Origin == originClient && row.GrantID == nil && !row.Revoked {
		s.tokCache.put(epoch, string(h), row)
	}
	return row, err
}

// consumeToken takes one use of an initial access token, in the registration's transaction,
// so that two concurrent registrations cannot both use a single-use token.
func consumeToken(tx txn, h []byte, row *tokenRow) error {
	if h == nil || row.Uses < 0 {
		return nil
	}
	ok, err := tx.useToken(h)
	if err != nil {
		return err
	}
	if !ok {
		return invalidToken("the initial access token was already used: it is single-use here; get a new one for each registration")
	}
	return nil
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, r, methodNotAllowed(w, http.MethodPost))
		return
	}
	resp, err := s.register(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// RFC 7591 §3.2.1: 201 Created, application/json. The ETag lets the client make its
	// first RFC 7592 update conditional.
	w.Header().Set("ETag", resp.etag)
	writeRawJSON(w, s.beh.RegisterStatus, resp.body)
}

// readJSONObject reads a JSON object request body (RFC 7591 §3.1, RFC 7592 §2.2).
func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if !mediaTypeIs(r.Header.Get("Content-Type"), "application/json") {
		return nil, badRequest(errInvalidClientMetadata, "the Content-Type must be application/json (RFC 7591 §3.1)")
	}
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeObject(b)
}

// templateRequest returns the template id if obj asks for a template instance: a software_id
// that names a configured template, or a request whose only metadata is software_id.
func (s *Server) templateRequest(obj map[string]json.RawMessage) (string, bool, error) {
	raw, ok := obj["software_id"]
	if !ok {
		return "", false, nil
	}
	var id string
	if json.Unmarshal(raw, &id) != nil {
		return "", false, badRequest(errInvalidClientMetadata, "software_id must be a string")
	}
	if _, ok := s.templates[id]; ok {
		return id, true, nil
	}
	rest := 0
	for k := range obj {
		if k != "software_id" && k != "software_version" {
			rest++
		}
	}
	if rest == 0 {
		return "", false, badRequest(errInvalidClientMetadata, "software_id %q is not a template on this server: use one of %s, or send full client metadata", id, s.templateList())
	}
	return "", false, nil
}

func (s *Server) templateList() string {
	ids := make([]string, 0, len(s.templates))
	for id := range s.templates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return "(none configured)"
	}
	return strings.Join(ids, ", ")
}

// mayInstantiate reports whether the holder of tokens of client caller ("" in open mode) may
// instantiate template t.
func (s *Server) mayInstantiate(t *tmpl, caller string) bool {
	if len(t.allowed) > 0 {
		return slices.Contains(t.allowed, caller)
	}
	if c, ok := s.static[caller]; ok && c.Templates != nil {
		return slices.Contains(c.Templates, "*") || slices.Contains(c.Templates, t.ID)
	}
	return true
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) (*clientInfo, error) {
	th, trow, err := s.initialToken(r)
	if err != nil {
		return nil, err
	}
	obj, err := readJSONObject(w, r)
	if err != nil {
		return nil, err
	}
	tid, isTemplate, err := s.templateRequest(obj)
	if err != nil {
		return nil, err
	}
	row := &clientRow{ID: s.newClientID(), IssuedAt: s.now().Unix()}
	if trow != nil {
		row.Owner = trow.ClientID
	}
	var md *metadata
	if isTemplate {
		t := s.templates[tid]
		if !s.mayInstantiate(t, row.Owner) {
			return nil, badRequest(errInvalidClientMetadata, "software_id %q is not a template this caller may use: ask the server operator to allow it", tid)
		}
		// Every other field sent with a template's software_id is ignored: the instance's
		// metadata is the template's, now and after the template changes.
		md = t.metadata()
		row.Template = tid
		row.Metadata = "{}"
	} else {
		md, err = s.validator().validate(obj)
		if err != nil {
			return nil, err
		}
		row.Metadata = string(md.encoded())
	}
	var secret string
	if md.AuthMethod != "none" {
		// RFC 7591 §3.2.1: the server issues the secret; a client-chosen one was ignored.
		secret = s.secret()
		row.SecretHash = hashOf(secret)
		if s.lt.ClientSecret > 0 {
			row.SecretExpiresAt = s.now().Add(s.lt.ClientSecret).Unix()
		}
	}
	rat := s.newRAT(row.ID)
	row.RATHash = hashOf(rat)
	err = s.store.batch(th != nil && trow.Uses >= 0, func(tx txn) error {
		if err := consumeToken(tx, th, trow); err != nil {
			return err
		}
		if th != nil && trow.Uses < 0 {
			// The token row may come from the cache: the insert checks it is still live.
			ok, err := tx.putClientFor(row, th)
			if err == nil && !ok {
				return invalidToken("the initial access token is unknown or revoked: get a new one with scope dcr")
			}
			return err
		}
		return tx.putClient(row)
	})
	if err != nil {
		return nil, err
	}
	return s.clientInformation(row, md, secret, rat), nil
}

// clientInfo is an RFC 7591 §3.2.1 / RFC 7592 §3 response body and its entity tag.
type clientInfo struct {
	body []byte
	etag string
}

// etag is the strong entity tag (RFC 9110 §8.8.3) of a client's registration: a hash of what
// a GET shows apart from the credentials, so that it changes with every change of the
// metadata (an update, or a change of the client's template) and not with a rotation.
func etag(row *clientRow, md *metadata) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00", row.ID, row.Template, row.IssuedAt, row.SecretExpiresAt)
	h.Write(md.encoded())
	return `"` + b64(h.Sum(nil)[:18]) + `"`
}

// ifMatch reports whether an If-Match header value (RFC 9110 §13.1.1) matches the current
// entity tag: "*", or a list holding it; weak tags never match (strong comparison).
func ifMatch(header, current string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == current {
			return true
		}
	}
	return false
}

// clientInformation is the RFC 7591 §3.2.1 / RFC 7592 §3 response.
func (s *Server) clientInformation(row *clientRow, md *metadata, secret, rat string) *clientInfo {
	return s.clientInfoOf(row, md, secret, rat, false)
}

// clientInfoOf is clientInformation; read marks an RFC 7592 read, for Behaviour.GetOmits.
func (s *Server) clientInfoOf(row *clientRow, md *metadata, secret, rat string, read bool) *clientInfo {
	out := make(map[string]json.RawMessage, len(md.Fields)+7)
	for k, v := range md.Fields {
		out[k] = v
	}
	str := func(v string) json.RawMessage { return appendJSONString(nil, v) }
	num := func(v int64) json.RawMessage { return strconv.AppendInt(nil, v, 10) }
	out["client_id"] = str(row.ID)
	out["client_id_issued_at"] = num(row.IssuedAt)
	if md.AuthMethod != "none" {
		if secret != "" {
			out["client_secret"] = str(secret)
		}
		// RFC 7591 §3.2.1: client_secret_expires_at is REQUIRED if client_secret is issued; 0 = never.
		out["client_secret_expires_at"] = num(row.SecretExpiresAt)
	}
	if rat != "" && s.beh.Management {
		out["registration_access_token"] = str(rat)
	}
	if s.beh.Management {
		out["registration_client_uri"] = str(s.clientURL(row.ID))
	}
	s.beh.shapeResponse(out, read)
	return &clientInfo{body: encodeObject(out), etag: etag(row, md)}
}

// handleManage is the client configuration endpoint (RFC 7592 §2).
func (s *Server) handleManage(w http.ResponseWriter, r *http.Request, id string) {
	var (
		resp *clientInfo
		err  error
	)
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
		resp, err = s.manage(w, r, id)
	default:
		err = methodNotAllowed(w, http.MethodGet, http.MethodPut, http.MethodDelete)
	}
	switch {
	case err != nil:
		s.writeError(w, r, err)
	case r.Method == http.MethodDelete:
		// RFC 7592 §2.3: 204 No Content.
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("ETag", resp.etag)
		writeRawJSON(w, http.StatusOK, resp.body)
	}
}

var forbiddenInUpdate = []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"}

func (s *Server) manage(w http.ResponseWriter, r *http.Request, id string) (*clientInfo, error) {
	ctx := r.Context()
	tok, e := bearer(r)
	if e != nil {
		return nil, e
	}
	var obj map[string]json.RawMessage
	if r.Method == http.MethodPut {
		var err error
		// The body is read before the transaction, to keep the transaction short; a body
		// error is reported only to a caller whose token is valid.
		if obj, err = readJSONObject(w, r); err != nil {
			if aerr := s.checkRAT(ctx, id, tok); aerr != nil {
				return nil, aerr
			}
			return nil, err
		}
	}
	var resp *clientInfo
	defer s.cache.invalidate(id) // after the commit below
	err := s.store.update(ctx, func(tx txn) error {
		row, err := s.ratClient(tx, id, tok)
		if err != nil {
			return err
		}
		c, err := s.fromRow(row, true)
		if err != nil {
			return err
		}
		if c == nil {
			return invalidToken("the registration access token is not valid for this client: it may have been deleted")
		}
		if im := r.Header.Get("If-Match"); im != "" && !ifMatch(im, etag(row, c.md)) {
			// RFC 9110 §13.1.1: the condition is evaluated against the current
			// representation; a mismatch is 412 and changes nothing, so that of two
			// concurrent updates from one read, the second fails instead of silently
			// undoing the first.
			return errorf(http.StatusPreconditionFailed, "invalid_request", "If-Match does not match: the registration changed since you read it (its ETag is now %s): read it again, apply your change, and retry with the new ETag", etag(row, c.md))
		}
		switch r.Method {
		case http.MethodDelete:
			// RFC 7592 §2.3: the client_id, secret, registration access token and every
			// token issued to the client become invalid.
			if err := tx.deleteClient(id); err != nil {
				return err
			}
			// Its tokens die with it: every token check also looks the client up.
			return nil
		case http.MethodGet:
			secret, rat := s.rotate(row, c.md, RotateOnReadAndUpdate)
			if secret != "" || rat != "" {
				if err := tx.updateClient(row); err != nil {
					return err
				}
			}
			if rat == "" {
				rat = tok // RFC 7592 §3: the response carries the registration access token
			}
			resp = s.clientInfoOf(row, c.md, secret, rat, true)
			return nil
		}
		md, secretEcho, err := s.update(c, row, obj)
		if err != nil {
			return err
		}
		wasPublic := row.SecretHash == nil
		secret, rat := s.rotate(row, md, RotateOnUpdate, RotateOnReadAndUpdate)
		switch {
		case md.AuthMethod == "none":
			row.SecretHash, row.SecretExpiresAt, secret = nil, 0, ""
		case wasPublic && secret == "":
			// Becoming confidential: the client needs a secret.
			secret = s.secret()
			row.SecretHash = hashOf(secret)
			if s.lt.ClientSecret > 0 {
				row.SecretExpiresAt = s.now().Add(s.lt.ClientSecret).Unix()
			}
		case secret == "":
			secret = secretEcho
		}
		if rat == "" {
			rat = tok
		}
		if err := tx.updateClient(row); err != nil {
			return err
		}
		resp = s.clientInformation(row, md, secret, rat)
		return nil
	})
	return resp, s.revokeMisused(ctx, err)
}

// rotate applies the rotation policies for the given triggers and returns the new client
// secret and registration access token ("" for one that is kept).
func (s *Server) rotate(row *clientRow, md *metadata, on ...Rotation) (secret, rat string) {
	if slices.Contains(on, s.beh.RotateClientSecret) && md.AuthMethod != "none" {
		secret = s.secret()
		row.SecretHash = hashOf(secret)
		if s.lt.ClientSecret > 0 {
			row.SecretExpiresAt = s.now().Add(s.lt.ClientSecret).Unix()
		}
	}
	if slices.Contains(on, s.beh.RotateRegistrationToken) {
		rat = s.newRAT(row.ID)
		row.RATHash = hashOf(rat)
	}
	return secret, rat
}

// ratClient finds the client a registration access token may manage (RFC 7592 §2).
func (s *Server) ratClient(tx txn, id, tok string) (*clientRow, error) {
	row, err := tx.client(id)
	if err != nil {
		return nil, err
	}
	if row != nil && matches(row.RATHash, tok) {
		return row, nil
	}
	// RFC 7592 §2.1: if the client does not exist or the token is not valid for it, 401,
	// and "the registration access token used to make this request SHOULD be immediately
	// revoked" (checklist 22: a token used on another client's URI is revoked). The
	// revocation runs after this transaction, which rolls back on the error.
	if other, _, ok := strings.Cut(tok, "."); ok && other != id {
		orow, err := tx.client(other)
		if err != nil {
			return nil, err
		}
		if orow != nil && matches(orow.RATHash, tok) {
			return nil, &misusedRAT{id: other, hash: hashOf(tok), err: invalidToken("this registration access token belongs to another client; it has been revoked: use each client's own token on its own registration_client_uri")}
		}
	}
	return nil, invalidToken("the registration access token is unknown, rotated or revoked: use the latest registration_access_token this server returned")
}

// misusedRAT is a registration access token presented on another client's URI.
type misusedRAT struct {
	err  *Error
	id   string
	hash []byte
}

func (e *misusedRAT) Error() string { return e.err.Error() }
func (e *misusedRAT) Unwrap() error { return e.err }

// revokeMisused revokes the token of a misusedRAT error and returns the error.
func (s *Server) revokeMisused(ctx context.Context, err error) error {
	var m *misusedRAT
	if !errors.As(err, &m) {
		return err
	}
	if rerr := s.store.update(ctx, func(tx txn) error { return tx.clearRAT(m.id, m.hash) }); rerr != nil {
		return rerr
	}
	s.log.Warn("registration access token used on another client's URI; revoked it")
	return m.err
}

// newRAT makes a registration access token: "<client_id>.<256 random bits>". The prefix lets
// the server find, without an index, the client a misused token belongs to.
func (s *Server) newRAT(clientID string) string { return clientID + "." + s.secret() }

// checkRAT checks the token without changing anything (used before reporting body errors).
func (s *Server) checkRAT(ctx context.Context, id, tok string) error {
	return s.revokeMisused(ctx, s.store.update(ctx, func(tx txn) error {
		_, err := s.ratClient(tx, id, tok)
		return err
	}))
}

// update validates an RFC 7592 §2.2 PUT body against the current client and changes row.
func (s *Server) update(c *client, row *clientRow, obj map[string]json.RawMessage) (*metadata, string, error) {
	var cid string
	if raw, ok := obj["client_id"]; !ok || json.Unmarshal(raw, &cid) != nil || cid != row.ID {
		// RFC 7592 §2.2: the request MUST include client_id, equal to the current one.
		return nil, "", badRequest(errInvalidClientMetadata, "the update must include client_id equal to %q", row.ID)
	}
	for _, k := range forbiddenInUpdate {
		if _, ok := obj[k]; ok {
			// RFC 7592 §2.2: "The client MUST NOT include the registration_access_token,
			// registration_client_uri, client_secret_expires_at, or client_id_issued_at fields".
			return nil, "", badRequest(errInvalidClientMetadata, "the update must not include %s: remove it (RFC 7592 §2.2)", k)
		}
	}
	var echo string
	if raw, ok := obj["client_secret"]; ok {
		if json.Unmarshal(raw, &echo) != nil || !matches(row.SecretHash, echo) {
			// RFC 7592 §2.2: if included, client_secret MUST match the currently issued one.
			return nil, "", badRequest(errInvalidClientMetadata, "client_secret differs from the current secret: omit it or send the current one")
		}
	}
	if row.Template != "" {
		if raw, ok := obj["software_id"]; ok {
			var sid string
			if json.Unmarshal(raw, &sid) != nil || sid != row.Template {
				return nil, "", badRequest(errInvalidClientMetadata, "this client is an instance of template %q; its software_id cannot change: register a new client instead", row.Template)
			}
		}
		// An instance's metadata is the template's: other fields are ignored.
		return c.md, echo, nil
	}
	md, err := s.validator().validate(obj)
	if err != nil {
		return nil, "", err
	}
	row.Metadata = string(md.encoded())
	return md, echo, nil
}
