package testserver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The exchange log behind the debugger page (debug.go): a bounded ring of the protocol
// exchanges the server answered, each already masked (maskExchange), so that the log never
// holds a clear secret; and small bounded indexes of what the page lists beside it — the
// clients seen, the tokens issued to them and the SSO sessions — which hold only the hashes
// the database is keyed by.

// DefaultDebugExchanges is the number of exchanges the debugger keeps when
// DebugPage.Exchanges is 0.
const DefaultDebugExchanges = 1000

// Bounds of what one exchange and the indexes keep.
const (
	debugBodyMax       = 8 << 10 // bytes of a request or response body kept (before masking)
	debugClientsMax    = 2000    // clients indexed; the oldest is forgotten
	debugTokensMax     = 50      // tokens kept per client
	debugSessionsMax   = 500     // SSO sessions indexed
	debugSubscriberBuf = 64      // exchanges buffered per live-update stream
)

// exchange is one request and its answer, masked.
type exchange struct {
	Seq         uint64
	Time        time.Time
	ClientID    string // the client concerned; "" if unknown
	Endpoint    string // register, manage, token, authorize, revoke, introspect, device, userinfo, other
	Kind        string // what happened, in words: "registration", "RFC 7592 read", "silent login (SSO)", …
	Method      string
	Path        string // path and masked query
	Status      int
	Error       string // OAuth error code
	Description string // the server's error_description
	Explain     string // the error in plain words
	Rotated     []string
	Request     string // masked headers and body
	Response    string // masked headers and body
}

// OK reports whether the exchange succeeded.
func (e *exchange) OK() bool { return e.Status < 400 && e.Error == "" }

// Outcome is "ok" or "error".
func (e *exchange) Outcome() string {
	if e.OK() {
		return "ok"
	}
	return "error"
}

// debugToken is a token issued to a client, known by the key it is stored under.
type debugToken struct {
	Ref      uint64
	key      []byte
	Kind     string // access token, refresh token, initial access token
	ClientID string
	Scope    string
	Issued   time.Time
	Masked   string
}

// debugSession is an SSO session, known by the hash it is stored under.
type debugSession struct {
	Ref      uint64
	hash     []byte
	User     string
	Started  time.Time
	LastUsed time.Time
	Clients  []string
}

// debugClient is what the log learnt about a client.
type debugClient struct {
	ID       string
	Created  time.Time
	Updated  time.Time
	Deleted  bool
	Template string
	tokens   []*debugToken
}

// debugLog is the ring buffer and the indexes. It is safe for concurrent use.
type debugLog struct {
	mu       sync.Mutex
	ring     []*exchange
	next     int // index of the next write
	full     bool
	seq      uint64
	ref      uint64
	clients  map[string]*debugClient
	order    []string // client ids, oldest first
	tokens   map[string]*debugToken
	sessions map[string]*debugSession
	sessOrd  []string
	subs     map[chan *exchange]struct{}
}

func newDebugLog(size int) *debugLog {
	if size <= 0 {
		size = DefaultDebugExchanges
	}
	return &debugLog{ring: make([]*exchange, size), clients: map[string]*debugClient{},
		tokens: map[string]*debugToken{}, sessions: map[string]*debugSession{}, subs: map[chan *exchange]struct{}{}}
}

// add appends e to the ring and sends it to the live streams (dropping it for a stream that
// is not keeping up).
func (l *debugLog) add(e *exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
	if l.next == 0 {
		l.full = true
	}
	for ch := range l.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// exchanges returns the kept exchanges that keep returns true for, newest first.
func (l *debugLog) exchanges(keep func(*exchange) bool) []*exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*exchange
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	for i := 1; i <= n; i++ {
		e := l.ring[(l.next-i+len(l.ring))%len(l.ring)]
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

func (l *debugLog) subscribe() chan *exchange {
	ch := make(chan *exchange, debugSubscriberBuf)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch
}

func (l *debugLog) unsubscribe(ch chan *exchange) {
	l.mu.Lock()
	delete(l.subs, ch)
	l.mu.Unlock()
}

// client returns the index entry of id, creating it; l.mu must be held.
func (l *debugLog) clientLocked(id string, at time.Time) *debugClient {
	c := l.clients[id]
	if c == nil {
		c = &debugClient{ID: id, Created: at}
		l.clients[id] = c
		l.order = append(l.order, id)
		if len(l.order) > debugClientsMax {
			old := l.clients[l.order[0]]
			for _, t := range old.tokens {
				delete(l.tokens, string(t.key))
			}
			delete(l.clients, l.order[0])
			l.order = l.order[1:]
		}
	}
	return c
}

// touch notes that the client was registered, changed or deleted at at.
func (l *debugLog) touch(id, template string, at time.Time, created, deleted bool) {
	if id == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clientLocked(id, at)
	if created {
		c.Created = at
	}
	if template != "" {
		c.Template = template
	}
	c.Updated = at
	c.Deleted = c.Deleted && !created || deleted
}

// issued indexes a token issued to a client.
func (l *debugLog) issued(clientID, kind, tok, scope string, at time.Time) {
	if clientID == "" || tok == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clientLocked(clientID, at)
	l.ref++
	t := &debugToken{Ref: l.ref, key: tokenKey(tok), Kind: kind, ClientID: clientID, Scope: scope, Issued: at, Masked: maskSecret(tok)}
	c.tokens = append(c.tokens, t)
	if len(c.tokens) > debugTokensMax {
		delete(l.tokens, string(c.tokens[0].key))
		c.tokens = c.tokens[1:]
	}
	l.tokens[string(t.key)] = t
}

// tokenOwner is the client a token was issued to, if the log saw it.
func (l *debugLog) tokenOwner(tok string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.tokens[string(tokenKey(tok))]; t != nil {
		return t.ClientID
	}
	return ""
}

// sessionUsed indexes an SSO session (by the hash it is stored under) and the client it
// logged in to.
func (l *debugLog) sessionUsed(id, user, clientID string, at time.Time) {
	if id == "" {
		return
	}
	h := hashOf(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[string(h)]
	if s == nil {
		l.ref++
		s = &debugSession{Ref: l.ref, hash: h, User: user, Started: at}
		l.sessions[string(h)] = s
		l.sessOrd = append(l.sessOrd, string(h))
		if len(l.sessOrd) > debugSessionsMax {
			delete(l.sessions, l.sessOrd[0])
			l.sessOrd = l.sessOrd[1:]
		}
	}
	s.LastUsed = at
	if clientID != "" && !slices.Contains(s.Clients, clientID) {
		s.Clients = append(s.Clients, clientID)
	}
}

// snapshot copies the indexes for a page.
func (l *debugLog) snapshot() (clients []debugClient, tokens map[string][]debugToken, sessions []debugSession) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tokens = map[string][]debugToken{}
	for _, id := range l.order {
		c := l.clients[id]
		clients = append(clients, *c)
		for _, t := range c.tokens {
			tokens[id] = append(tokens[id], *t)
		}
	}
	for _, h := range l.sessOrd {
		s := *l.sessions[h]
		s.Clients = slices.Clone(s.Clients)
		sessions = append(sessions, s)
	}
	return clients, tokens, sessions
}

// tokenByRef and sessionByRef find what a revoke button names.
func (l *debugLog) tokenByRef(ref uint64) *debugToken {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.tokens {
		if t.Ref == ref {
			return t
		}
	}
	return nil
}

func (l *debugLog) sessionByRef(ref uint64) *debugSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.Ref == ref {
			return s
		}
	}
	return nil
}

// --- recording ---

// shownResponseHeaders are the response headers an exchange shows (maskedResponse), and all
// that describe reads; captureWriter keeps only these.
var shownResponseHeaders = []string{"Content-Type", "Location", "Set-Cookie", "WWW-Authenticate", "ETag", "Retry-After"}

// shownHeaders copies the values of shownResponseHeaders from h (not the whole header: a
// copy of it per exchange was a sixth of what the debugger allocated).
func shownHeaders(h http.Header) http.Header {
	out := make(http.Header, len(shownResponseKeys))
	for _, k := range shownResponseKeys {
		if v := h[k]; len(v) > 0 {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// shownResponseKeys are shownResponseHeaders as http.Header keys.
var shownResponseKeys = func() []string {
	keys := make([]string, len(shownResponseHeaders))
	for i, n := range shownResponseHeaders {
		keys[i] = http.CanonicalHeaderKey(n)
	}
	return keys
}()

// captureWriter keeps the status, the shown headers and the start of the body of a response.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	header http.Header
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
		c.header = shownHeaders(c.ResponseWriter.Header())
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if room := debugBodyMax - c.body.Len(); room > 0 {
		c.body.Write(b[:min(room, len(b))])
	}
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// limitedTee copies the first debugBodyMax bytes read from a request body.
type limitedTee struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (t *limitedTee) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := debugBodyMax - t.buf.Len(); room > 0 && n > 0 {
		t.buf.Write(p[:min(room, n)])
	}
	return n, err
}

// record serves r with next and adds the masked exchange to the log.
func (d *debugger) record(next http.Handler, w http.ResponseWriter, r *http.Request) {
	tee := &limitedTee{ReadCloser: r.Body}
	if n := r.ContentLength; n > 0 {
		tee.buf.Grow(int(min(n, debugBodyMax)))
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = tee
	}
	cw := &captureWriter{ResponseWriter: w}
	next.ServeHTTP(cw, r)
	if cw.status == 0 {
		cw.status = http.StatusOK
		cw.header = shownHeaders(w.Header())
	}
	d.log.add(d.describe(r, tee.buf.Bytes(), cw))
}

// describe turns a request and its answer into a masked exchange and updates the indexes.
// Clear secrets seen here (tokens in responses, session cookies) are turned into the keys
// they are stored under and dropped.
func (d *debugger) describe(r *http.Request, reqBody []byte, cw *captureWriter) *exchange {
	now := d.s.now()
	e := &exchange{Time: now, Method: r.Method, Status: cw.status, Path: maskedURL(requestPath(r), r.URL.RawQuery)}
	var form url.Values
	if mediaTypeIs(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(reqBody))
	}
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	// The answer's top-level string members, clear: read here, masked in e.Response.
	resp := map[string]string{}
	e.Response = maskedResponse(cw, func(k, v string) { resp[k] = v })
	if code, ok := resp["error"]; ok {
		e.Error = code
		e.Description = resp["error_description"]
	}
	if n := errorNote(r); n != nil && n.err != nil && e.Error == "" {
		e.Error, e.Description = n.err.Code, n.err.Description
	}
	d.classify(e, r, cw, form, resp, now)
	if e.Error == "" && e.Status >= 400 {
		e.Error = http.StatusText(e.Status)
	}
	e.Explain = explain(e)
	e.Request = maskedRequest(r, reqBody)
	return e
}

// classify names the exchange's endpoint, kind and client from the request, its form, the
// answer and the answer's top-level string members (resp), and updates the indexes of
// clients, tokens and sessions.
func (d *debugger) classify(e *exchange, r *http.Request, cw *captureWriter, form url.Values, resp map[string]string, now time.Time) {
	basicID := basicClientID(r)
	str := func(k string) string { return resp[k] }
	sub := strings.TrimPrefix(requestPath(r), d.s.path)
	reg := d.s.beh.RegistrationPath
	switch {
	case sub == reg:
		e.Endpoint, e.Kind = "register", "registration"
		e.ClientID = str("client_id")
		if e.ClientID == "" {
			if tok, err := bearer(r); err == nil {
				e.ClientID = d.log.tokenOwner(tok) // the client whose initial access token was used
			}
		} else {
			tpl := str("software_id")
			if d.s.templates[tpl] == nil {
				tpl = ""
			}
			d.log.touch(e.ClientID, tpl, now, true, false)
		}
	case strings.HasPrefix(sub, reg+"/"):
		e.Endpoint = "manage"
		e.ClientID = strings.TrimPrefix(sub, reg+"/")
		e.Kind = map[string]string{http.MethodGet: "RFC 7592 read", http.MethodPut: "RFC 7592 update", http.MethodDelete: "RFC 7592 delete"}[r.Method]
		if e.Kind == "" {
			e.Kind = "RFC 7592 " + r.Method
		}
		if str("client_secret") != "" {
			e.Rotated = append(e.Rotated, "client secret")
		}
		if str("registration_access_token") != "" {
			e.Rotated = append(e.Rotated, "registration access token")
		}
		if e.OK() && r.Method != http.MethodGet {
			d.log.touch(e.ClientID, "", now, false, r.Method == http.MethodDelete)
		}
	case sub == pathToken:
		e.Endpoint = "token"
		e.ClientID = cmpOr(form.Get("client_id"), basicID)
		switch gt := form.Get("grant_type"); gt {
		case "refresh_token":
			e.Kind = "refresh"
		case "":
			e.Kind = "token request"
		case grantDevice:
			e.Kind = "token request (device code)"
		default:
			e.Kind = "token request (" + gt + ")"
		}
		if e.OK() {
			scope := str("scope")
			kind := "access token"
			if hasScope(scope, scopeDCR) {
				kind = "access token (initial access token, scope dcr)"
			}
			d.log.issued(e.ClientID, kind, str("access_token"), scope, now)
			d.log.issued(e.ClientID, "refresh token", str("refresh_token"), scope, now)
		}
	case sub == pathAuthorize:
		e.Endpoint = "authorize"
		e.ClientID = form.Get("client_id")
		d.describeLogin(e, r, form, cw, now)
	case sub == pathRevoke:
		e.Endpoint, e.Kind = "revoke", "revocation"
		e.ClientID = cmpOr(form.Get("client_id"), basicID)
	case sub == pathIntrospect:
		e.Endpoint, e.Kind = "introspect", "introspection"
		e.ClientID = cmpOr(form.Get("client_id"), basicID)
	case sub == pathDeviceAuthz || sub == pathDevice:
		e.Endpoint, e.Kind = "device", "device authorization"
		e.ClientID = form.Get("client_id")
		if sub == pathDevice {
			e.Kind = "device verification page"
		}
	case sub == pathUserinfo:
		e.Endpoint, e.Kind = "userinfo", "userinfo"
		if tok, err := bearer(r); err == nil {
			e.ClientID = d.log.tokenOwner(tok)
		}
	default:
		e.Endpoint, e.Kind = "other", r.Method+" "+sub
	}
}

// describeLogin names an authorization request: a login with the form, a silent login by SSO,
// the login form being shown, or an error sent back to the application.
func (d *debugger) describeLogin(e *exchange, r *http.Request, form url.Values, cw *captureWriter, now time.Time) {
	var code, redirErr string
	if loc, err := url.Parse(cw.header.Get("Location")); err == nil && cw.status/100 == 3 {
		q := loc.Query()
		code, redirErr = q.Get("code"), q.Get("error")
		if redirErr != "" {
			e.Error, e.Description = redirErr, q.Get("error_description")
		}
	}
	var sess string
	if ck, err := r.Cookie(SessionCookie); err == nil {
		sess = ck.Value
	}
	for _, ck := range (&http.Response{Header: cw.header}).Cookies() {
		if ck.Name == SessionCookie && ck.Value != "" {
			sess = ck.Value
		}
	}
	form2 := r.Method == http.MethodPost && form.Has(CSRFField)
	switch {
	case form2 && cw.status == http.StatusUnauthorized:
		e.Kind, e.Error = "login with the form", "wrong_credentials"
	case form2:
		e.Kind = "login with the form"
	case code != "":
		e.Kind = "silent login (SSO)"
	case cw.status == http.StatusOK:
		e.Kind = "login form shown"
	default:
		e.Kind = "authorization request"
	}
	if code != "" && sess != "" {
		user := form.Get(UsernameField)
		if row, err := d.s.store.session(r.Context(), hashOf(sess)); err == nil && row != nil {
			user = row.Username
		}
		d.log.sessionUsed(sess, user, e.ClientID, now)
	}
}

// basicClientID is the client_id of an HTTP Basic Authorization header (RFC 6749 §2.3.1:
// form-encoded); the password is not kept.
func basicClientID(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	if u, err := url.QueryUnescape(id); err == nil {
		return u
	}
	return id
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maskedURL is a path with its query, secret parameters masked.
func maskedURL(path, rawQuery string) string {
	if rawQuery == "" {
		return path
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return path + "?…"
	}
	return path + "?" + maskValues(q).Encode()
}

func maskValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			if isSecretName(k) {
				x = maskSecret(x)
			}
			out.Add(k, x)
		}
	}
	return out
}

// maskedHeaders lists the headers worth showing, secrets masked.
func maskedHeaders(b *strings.Builder, h http.Header, names ...string) {
	for _, n := range names {
		for _, v := range h.Values(n) {
			fmt.Fprintf(b, "%s: %s\n", n, maskHeader(n, v))
		}
	}
}

func maskHeader(name, v string) string {
	switch name {
	case "Authorization":
		scheme, cred, _ := strings.Cut(v, " ")
		if strings.EqualFold(scheme, "Basic") {
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				id, secret, _ := strings.Cut(string(raw), ":")
				return fmt.Sprintf("Basic (client_id %s, secret %s)", id, maskSecret(secret))
			}
		}
		return scheme + " " + maskSecret(strings.TrimSpace(cred))
	case "Cookie", "Set-Cookie":
		parts := strings.Split(v, ";")
		for i, p := range parts {
			if k, val, ok := strings.Cut(p, "="); ok && i == 0 || ok && name == "Cookie" {
				parts[i] = k + "=" + maskSecret(val)
			}
		}
		return strings.Join(parts, ";")
	case "Location":
		if u, err := url.Parse(v); err == nil && u.RawQuery != "" {
			u.RawQuery = maskValues(u.Query()).Encode()
			return u.String()
		}
	case "WWW-Authenticate", "Content-Type", "ETag", "If-Match", "Retry-After":
	}
	return v
}

func maskedRequest(r *http.Request, body []byte) string {
	var b strings.Builder
	maskedHeaders(&b, r.Header, "Content-Type", "Authorization", "Cookie", "If-Match")
	maskedBody(&b, r.Header.Get("Content-Type"), body, nil)
	return strings.TrimSpace(b.String())
}

// maskedResponse is the answer as the debugger shows it; top gets the clear top-level string
// members of a JSON body (maskedJSON).
func maskedResponse(cw *captureWriter, top func(name, value string)) string {
	var b strings.Builder
	maskedHeaders(&b, cw.header, shownResponseHeaders...)
	if !mediaTypeIs(cw.header.Get("Content-Type"), "text/html") {
		maskedBody(&b, cw.header.Get("Content-Type"), cw.body.Bytes(), top)
	} else if cw.body.Len() > 0 {
		b.WriteString("\n(an HTML page)")
	}
	return strings.TrimSpace(b.String())
}

func maskedBody(b *strings.Builder, ct string, body []byte, top func(name, value string)) {
	if len(body) == 0 {
		return
	}
	b.WriteByte('\n')
	switch {
	case mediaTypeIs(ct, "application/json"):
		out, ok := maskedJSON(body, top)
		if !ok {
			b.WriteString("(not valid JSON, not shown)")
			return
		}
		b.Write(out)
	case mediaTypeIs(ct, "application/x-www-form-urlencoded"):
		q, err := url.ParseQuery(string(body))
		if err != nil {
			b.WriteString("(not a valid form, not shown)")
			return
		}
		q = maskValues(q)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range q {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			for _, v := range q[k] {
				fmt.Fprintf(b, "%s=%s\n", k, v)
			}
		}
	default:
		fmt.Fprintf(b, "(%d bytes of %s, not shown)", len(body), cmpOr(ct, "unknown type"))
	}
}
