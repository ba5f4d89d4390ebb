package testserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dcrctl/dcrctl/client/cimd"
)

// DebugPage configures the debugger page at I/debug: the clients, each client's timeline of
// protocol exchanges (secrets masked to their last four characters), live updates, and the
// SSO sessions and tokens with a revoke button.
//
// Access: without a Password the page is served only when every listener Serve was given is
// on a loopback address and the request arrived on a loopback address with a loopback or
// issuer Host header; otherwise it answers 404. With a Password it is served on any address
// to a browser that gives the password (HTTP Basic, any user name).
type DebugPage struct {
	// Off turns the page and the exchange log off.
	Off bool `yaml:"off"`
	// Password protects the page; required on a non-loopback address.
	Password string `yaml:"password"`
	// Exchanges is the size of the in-memory exchange log; 0 means DefaultDebugExchanges.
	Exchanges int `yaml:"exchanges"`
}

// String hides the password.
func (p DebugPage) String() string {
	return fmt.Sprintf("DebugPage{Off:%t Password:%s Exchanges:%d}", p.Off, redacted(p.Password), p.Exchanges)
}

// GoString hides the password.
func (p DebugPage) GoString() string { return p.String() }

const pathDebug = "/debug"

//go:embed debugui/*.html
var debugFS embed.FS

var debugTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("15:04:05")
	},
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"join": strings.Join,
	"base": func() string { return "" }, // replaced per server: the page's URL
}).ParseFS(debugFS, "debugui/*.html"))

// debugger is the debugger page and its exchange log.
type debugger struct {
	s           *Server
	log         *debugLog
	tmpl        *template.Template
	nonLoopback atomic.Bool // Serve was given a listener on a non-loopback address

	mu       sync.Mutex
	shutdown map[*http.Server]chan struct{}
}

// newDebugger returns nil when the page is off.
func newDebugger(s *Server) *debugger {
	if s.cfg.DebugPage.Off {
		return nil
	}
	base := s.url(pathDebug)
	t := template.Must(debugTmpl.Clone()).Funcs(template.FuncMap{"base": func() string { return base }})
	return &debugger{s: s, log: newDebugLog(s.cfg.DebugPage.Exchanges), tmpl: t, shutdown: map[*http.Server]chan struct{}{}}
}

// listening notes a listener of Serve, for the access rule.
func (d *debugger) listening(a net.Addr) {
	if d == nil {
		return
	}
	if ta, ok := a.(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		d.nonLoopback.Store(true)
	}
}

// errNote carries the protocol error of an HTML error page to the exchange log.
type errNote struct{ err *Error }

type errNoteKey struct{}

// errorNote returns the request's note, if the debugger is recording it.
func errorNote(r *http.Request) *errNote {
	n, _ := r.Context().Value(errNoteKey{}).(*errNote)
	return n
}

// wrap serves the debugger page below I/debug and records every other exchange.
func (d *debugger) wrap(next http.Handler) http.Handler {
	if d == nil {
		return next
	}
	prefix := d.s.path + pathDebug
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == prefix || strings.HasPrefix(p, prefix+"/"):
			d.serve(w, r, strings.TrimPrefix(p, prefix))
		case strings.Contains(p, "/.well-known/") || p == d.s.path+pathJWKS:
			next.ServeHTTP(w, r) // discovery and keys: not worth a line each
		default:
			r = r.WithContext(context.WithValue(r.Context(), errNoteKey{}, &errNote{}))
			d.record(next, w, r)
		}
	})
}

// allowed applies the access rule; it answers the request itself when it returns false.
func (d *debugger) allowed(w http.ResponseWriter, r *http.Request) bool {
	if pw := d.s.cfg.DebugPage.Password; pw != "" {
		_, got, ok := r.BasicAuth()
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(pw)) == 1 {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="dcrctl debugger", charset="UTF-8"`)
		d.s.writeError(w, r, &Error{Status: http.StatusUnauthorized, Code: "invalid_request",
			Description: "the debugger page needs its password (HTTP Basic, any user name)"})
		return false
	}
	if d.nonLoopback.Load() || !loopbackConn(r) || !d.hostOK(r.Host) {
		d.s.writeError(w, r, errorf(http.StatusNotFound, "invalid_request",
			"the debugger page is served without a password only on a loopback address: configure a debugger page password to use it here"))
		return false
	}
	return true
}

// loopbackConn reports whether the request arrived on a loopback address.
func loopbackConn(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOK keeps out pages of other sites that rebind their name to 127.0.0.1: the Host must
// be the issuer's or a loopback name.
func (d *debugger) hostOK(host string) bool {
	if u, err := url.Parse(d.s.issuer); err == nil && strings.EqualFold(u.Host, host) {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || isLoopback(h)
}

func (d *debugger) serve(w http.ResponseWriter, r *http.Request, sub string) {
	if !d.allowed(w, r) {
		return
	}
	switch {
	case sub == "" || sub == "/":
		d.page(w, r, "")
	case strings.HasPrefix(sub, "/client/"):
		d.page(w, r, strings.TrimPrefix(sub, "/client/"))
	case sub == "/events":
		d.events(w, r)
	case sub == "/revoke":
		d.revoke(w, r)
	default:
		d.s.notFound(w, r)
	}
}

// filter is the page's filter: by client, endpoint and outcome.
type filter struct{ Client, Endpoint, Outcome string }

func filterOf(r *http.Request) filter {
	q := r.URL.Query()
	return filter{q.Get("client"), q.Get("endpoint"), q.Get("outcome")}
}

func (f filter) keep(e *exchange) bool {
	return (f.Client == "" || e.ClientID == f.Client) && (f.Endpoint == "" || e.Endpoint == f.Endpoint) &&
		(f.Outcome == "" || e.Outcome() == f.Outcome)
}

// Query is the filter as a query string.
func (f filter) Query() string {
	v := url.Values{}
	for k, x := range map[string]string{"client": f.Client, "endpoint": f.Endpoint, "outcome": f.Outcome} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

// clientView is a client as the page shows it.
type clientView struct {
	ID, Status, AuthMethod, Template, Name string
	GrantTypes, RedirectURIs               []string
	Created, Updated                       time.Time
	Static                                 bool
	Tokens                                 []tokenView
}

type tokenView struct {
	debugToken
	Status string
	Active bool
}

type sessionView struct {
	debugSession
	Active bool
}

type templateGroup struct {
	ID        string
	Instances []clientView
}

type pageView struct {
	Base, CSRF, Nonce, Flash string
	Filter                   filter
	Focus                    *clientView
	Templates                []templateGroup
	Static, Registered       []clientView
	ClientIDs                []string
	Endpoints                []string
	Exchanges                []*exchange
	Sessions                 []sessionView
	Size                     int
}

func (d *debugger) page(w http.ResponseWriter, r *http.Request, focus string) {
	if r.Method != http.MethodGet {
		d.s.writeError(w, r, methodNotAllowed(w, http.MethodGet))
		return
	}
	ctx := r.Context()
	f := filterOf(r)
	if focus != "" {
		f.Client = focus
	}
	v := pageView{Base: d.s.url(pathDebug), CSRF: d.s.csrfValue(w, r), Nonce: d.s.secret(), Filter: f,
		Flash: r.URL.Query().Get("done"), Size: len(d.log.ring),
		Endpoints: []string{"register", "manage", "token", "authorize", "revoke", "introspect", "device", "userinfo", "other"}}
	clients, tokens, sessions := d.log.snapshot()
	now := d.s.now().Unix()
	byTemplate := map[string][]clientView{}
	seen := map[string]bool{}
	for _, c := range clients {
		cv := d.clientView(ctx, c, tokens[c.ID], now)
		seen[c.ID] = true
		switch {
		case cv.Static:
			v.Static = append(v.Static, cv)
		case cv.Template != "":
			byTemplate[cv.Template] = append(byTemplate[cv.Template], cv)
		default:
			v.Registered = append(v.Registered, cv)
		}
		if c.ID == focus {
			v.Focus = &cv
		}
	}
	for _, cc := range d.s.cfg.Clients {
		if !seen[cc.ClientID] {
			v.Static = append(v.Static, d.clientView(ctx, debugClient{ID: cc.ClientID}, nil, now))
		}
	}
	slices.SortFunc(v.Static, func(a, b clientView) int { return strings.Compare(a.ID, b.ID) })
	for _, t := range d.s.cfg.Templates {
		v.Templates = append(v.Templates, templateGroup{t.ID, byTemplate[t.ID]})
	}
	for _, c := range slices.Concat(v.Static, v.Registered) {
		v.ClientIDs = append(v.ClientIDs, c.ID)
	}
	for _, g := range v.Templates {
		for _, c := range g.Instances {
			v.ClientIDs = append(v.ClientIDs, c.ID)
		}
	}
	if focus != "" && v.Focus == nil {
		cv := d.clientView(ctx, debugClient{ID: focus}, nil, now)
		v.Focus = &cv
	}
	v.Exchanges = d.log.exchanges(f.keep)
	for _, s := range sessions {
		row, err := d.s.store.session(ctx, s.hash)
		sv := sessionView{debugSession: s, Active: err == nil && row != nil && now < row.ExpiresAt}
		if focus == "" || slices.Contains(s.Clients, focus) {
			v.Sessions = append(v.Sessions, sv)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make form posts send Origin: null
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+v.Nonce+"'; script-src 'nonce-"+v.Nonce+"'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	var b bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&b, "page.html", v); err != nil {
		d.s.writeError(w, r, err)
		return
	}
	w.Write(b.Bytes())
}

// clientView looks the client up in the database, for its current status and metadata.
func (d *debugger) clientView(ctx context.Context, c debugClient, toks []debugToken, now int64) clientView {
	cv := clientView{ID: c.ID, Created: c.Created, Updated: c.Updated, Template: c.Template, Status: "active"}
	cl, err := d.s.knownClient(ctx, c.ID) // never fetches a CIMD document
	switch {
	case err != nil:
		cv.Status = "unknown (database error)"
	case cl == nil && d.s.cimdFetch != nil && cimd.IsClientIDURL(c.ID):
		cv.Status = "metadata document not cached"
	case cl == nil:
		cv.Status = "deleted"
	default:
		cv.Static, cv.Template = cl.Static, cmpOr(cl.Template, c.Template)
		cv.AuthMethod, cv.GrantTypes, cv.RedirectURIs = cl.md.AuthMethod, cl.md.GrantTypes, cl.md.RedirectURIs
		if cl.SecretExpiresAt != 0 && now >= cl.SecretExpiresAt {
			cv.Status = "expired"
		}
		if cl.row != nil && cv.Created.IsZero() {
			cv.Created = time.Unix(cl.row.IssuedAt, 0)
		}
	}
	for _, t := range slices.Backward(toks) {
		tv := tokenView{debugToken: t, Status: "active", Active: true}
		row, err := d.s.store.token(ctx, t.key)
		switch {
		case err != nil || row == nil:
			tv.Status, tv.Active = "gone", false
		case row.Revoked:
			tv.Status, tv.Active = "revoked", false
		case now >= row.ExpiresAt:
			tv.Status, tv.Active = "expired", false
		}
		cv.Tokens = append(cv.Tokens, tv)
	}
	return cv
}

// revoke ends a token or an SSO session named by a button of the page (POST, with the page's
// anti-CSRF value and, when the browser sends one, a same-origin Origin).
func (d *debugger) revoke(w http.ResponseWriter, r *http.Request) {
	form, err := parseForm(w, r)
	if err != nil {
		d.s.writeError(w, r, err)
		return
	}
	if o := r.Header.Get("Origin"); !d.s.csrfOK(r, form.Get(CSRFField)) || o != "" && !d.sameOrigin(r, o) {
		d.s.writeError(w, r, errorf(http.StatusForbidden, "invalid_request", "the revoke button was not pressed on this server's debugger page (CSRF check failed): reload the page and press it again"))
		return
	}
	ref, _ := strconv.ParseUint(form.Get("ref"), 10, 64)
	ctx := r.Context()
	var done string
	switch form.Get("what") {
	case "token":
		t := d.log.tokenByRef(ref)
		if t == nil {
			d.s.writeError(w, r, badRequest("invalid_request", "no such token on the debugger page: it was forgotten (the log is bounded); reload the page"))
			return
		}
		err = d.s.store.update(ctx, func(tx txn) error { return revokeStored(tx, t.key) })
		d.s.tokCache.invalidate(string(t.key))
		done = "revoked the " + t.Kind + " " + t.Masked + " of " + t.ClientID
	case "session":
		sess := d.log.sessionByRef(ref)
		if sess == nil {
			d.s.writeError(w, r, badRequest("invalid_request", "no such session on the debugger page: it was forgotten (the log is bounded); reload the page"))
			return
		}
		err = d.s.store.update(ctx, func(tx txn) error { return tx.deleteSession(sess.hash) })
		done = "ended the SSO session of " + sess.User
	default:
		d.s.writeError(w, r, badRequest("invalid_request", "what must be token or session"))
		return
	}
	if err != nil {
		d.s.writeError(w, r, err)
		return
	}
	back := form.Get("back")
	if !strings.HasPrefix(back, d.s.path+pathDebug) || strings.HasPrefix(back, "//") {
		back = d.s.path + pathDebug
	}
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("done", done)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (d *debugger) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// events streams new exchanges that match the filter as server-sent events, each an HTML
// fragment of the page's list. It ends when the client goes, the server shuts down, or after
// debugStreamMax (the browser reconnects).
func (d *debugger) events(w http.ResponseWriter, r *http.Request) {
	f := filterOf(r)
	// Subscribe before the client sees the stream open: an exchange it makes right after
	// must arrive (found by a test that waited forever on a loaded machine).
	ch := d.log.subscribe()
	defer d.log.unsubscribe(ch)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // the server's write timeout would cut the stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()
	stop := d.shutdownSignal(r)
	timeout := time.NewTimer(debugStreamMax)
	defer timeout.Stop()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case e := <-ch:
			if !f.keep(e) {
				continue
			}
			var b bytes.Buffer
			if err := d.tmpl.ExecuteTemplate(&b, "exchange", e); err != nil {
				return
			}
			fmt.Fprintf(w, "event: exchange\nid: %d\n", e.Seq)
			for line := range strings.Lines(b.String()) {
				fmt.Fprintf(w, "data: %s\n", strings.TrimRight(line, "\r\n"))
			}
			fmt.Fprint(w, "\n")
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-r.Context().Done():
			return
		case <-stop:
			return
		case <-timeout.C:
			return
		case <-d.s.stop:
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// debugStreamMax bounds one live-update stream.
const debugStreamMax = 10 * time.Minute

// shutdownSignal is closed when the http.Server serving r shuts down, so that live streams do
// not hold up a graceful shutdown.
func (d *debugger) shutdownSignal(r *http.Request) <-chan struct{} {
	hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.shutdown[hs]
	if !ok {
		ch = make(chan struct{})
		d.shutdown[hs] = ch
		hs.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}
