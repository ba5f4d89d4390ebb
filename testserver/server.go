package testserver

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxBody is the largest request body any endpoint reads; larger ones get 413.
const maxBody = 64 << 10

// Endpoint paths below the issuer.
const (
	pathAuthorize   = "/authorize"
	pathToken       = "/token"
	pathRegister    = "/register"
	pathJWKS        = "/jwks"
	pathRevoke      = "/revoke"
	pathIntrospect  = "/introspect"
	pathDeviceAuthz = "/device_authorization"
	pathDevice      = "/device"
	pathUserinfo    = "/userinfo"

	grantDevice = "urn:ietf:params:oauth:grant-type:device_code"
)

// Server is the authorization server: an http.Handler serving every endpoint below the
// issuer, backed by SQLite. It is safe for concurrent use.
type Server struct {
	cfg       Config
	faults    faults        // control API: pending injected failures
	keyMu     sync.RWMutex  // guards the signing key, JWKS and signer (RotateSigningKey)
	seq       atomic.Uint64 // the id sequence with Config.Seed
	beh       Behaviour     // effective behaviour switches (behaviour.go)
	issuer    string
	path      string // the issuer's path, "" or "/x"
	secure    bool   // issuer is https: cookies get Secure
	mode      Mode
	store     storage
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	lt        Lifetimes
	key       *rsa.PrivateKey
	kid       string
	signer    jose.Signer
	stmtKeys  map[string]stmtKey
	jwks      []byte
	discovery []byte
	static    map[string]*client
	templates map[string]*tmpl
	users     map[string]User
	scopes    []string
	uses      int64
	cache     *cache[*client]
	tokCache  *cache[*tokenRow] // reusable initial access tokens from client credentials
	mux       http.Handler
	debug     *debugger    // the debugger page and its exchange log; nil when off
	cimdFetch *cimdFetcher // Client ID Metadata Documents (cimd.go); nil when off

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New opens (or creates) the database and returns a Server for cfg. Close releases it.
func New(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("testserver: new: %w", err)
	}
	return s, nil
}

func newServer(cfg Config) (*Server, error) {
	iss, err := url.Parse(cfg.Issuer)
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("the issuer (issuer: in a config file, Config.Issuer in Go) is empty: set it to the URL the server is reachable at, e.g. http://127.0.0.1:8414")
	case err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" || iss.User != nil:
		// RFC 8414 §2: the issuer is an https URL with no query or fragment (http allowed here for local testing).
		return nil, fmt.Errorf("the issuer %q (issuer: in a config file, Config.Issuer in Go) must be an http(s) URL with a host and no query, fragment or user info", cfg.Issuer)
	}
	s := &Server{
		cfg:      cfg,
		issuer:   strings.TrimSuffix(cfg.Issuer, "/"),
		path:     strings.TrimSuffix(iss.EscapedPath(), "/"),
		secure:   iss.Scheme == "https",
		mode:     cfg.Registration,
		log:      cfg.Logger,
		now:      cfg.Now,
		rand:     cfg.Rand,
		lt:       cfg.Lifetimes.withDefaults(),
		scopes:   cfg.Scopes,
		uses:     int64(cfg.InitialTokenUses),
		stop:     make(chan struct{}),
		cache:    newCache[*client](10000),
		tokCache: newCache[*tokenRow](1000),
	}
	if s.beh, err = s.behaviour(cfg); err != nil {
		return nil, err
	}
	if err := s.checkResourcePath(); err != nil {
		return nil, err
	}
	if s.mode, err = ParseMode(string(cfg.Registration)); err != nil {
		return nil, err
	}
	if cfg.Registration == "" {
		s.mode = s.beh.Registration
	}
	s.cfg.Registration = s.mode
	s.cfg.Clients = slices.Clone(cfg.Clients)
	for i, c := range s.cfg.Clients {
		s.cfg.Clients[i] = c.withDefaults()
	}
	if cfg.FakeClock != nil {
		s.now = cfg.FakeClock.Now
	}
	if cfg.Seed != 0 && cfg.Rand == nil {
		s.rand = newSeededRand(cfg.Seed)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if len(s.scopes) == 0 {
		s.scopes = DefaultScopes
	}
	if s.uses == 0 {
		s.uses = int64(s.beh.InitialTokenUses)
	}
	if cfg.MaxConns < 0 {
		return nil, fmt.Errorf("max_conns (Config.MaxConns) is %d: use a positive number, or 0 for the default %d", cfg.MaxConns, DefaultMaxConns)
	}
	if s.stmtKeys, err = statementKeys(cfg.SoftwareStatementIssuers); err != nil {
		return nil, err
	}
	s.users = map[string]User{}
	for _, u := range cfg.Users {
		if u.Username == "" {
			return nil, errors.New("a user has no username")
		}
		s.users[u.Username] = u
	}

	if cfg.CIMD.Enabled {
		s.cimdFetch = newCIMDFetcher(cfg.CIMD, s.now)
	}
	ctx := context.Background()
	if s.store, err = openStorage(ctx, cfg.DBPath); err != nil {
		return nil, fmt.Errorf("open database %q: %w", RedactDB(cfg.DBPath), err)
	}
	if IsPostgres(cfg.DBPath) && pgNoCache {
		// Other replicas change the clients this would keep: no cache (README "PostgreSQL:
		// several replicas" has the measurement). The cache of reusable initial access
		// tokens stays: their rows change only by revocation, which the registration's
		// insert checks (putClientFor).
		s.cache = newCache[*client](0)
	}
	if err := s.init(ctx); err != nil {
		s.store.close()
		return nil, err
	}
	s.wg.Add(1)
	go s.sweeper()
	return s, nil
}

// init loads or creates what lives in the database next to the configuration: the signing
// key and generated secrets of static clients; then builds the static clients and templates.
func (s *Server) init(ctx context.Context) error {
	err := s.store.update(ctx, func(tx txn) error {
		if err := s.loadKey(tx); err != nil {
			return err
		}
		for i := range s.cfg.Clients {
			c := &s.cfg.Clients[i]
			if c.ClientSecret != "" || c.TokenEndpointAuthMethod == "none" {
				continue
			}
			k := "client_secret:" + c.ClientID
			v, err := tx.meta(k)
			if err != nil {
				return err
			}
			if v == nil {
				// Stored in clear on purpose: the operator must be able to read it again
				// after a restart (dcrctl serve prints it). It is the only clear secret.
				v = []byte(newSecret(s.rand))
				if err := tx.putMeta(k, v); err != nil {
					return err
				}
			}
			c.ClientSecret = string(v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.buildTemplates(); err != nil {
		return err
	}
	if err := s.buildStatic(); err != nil {
		return err
	}
	s.buildDiscovery()
	s.debug = newDebugger(s)
	s.mux = s.debug.wrap(s.routes())
	return nil
}

// pgNoCache turns the caches off on PostgreSQL; only BenchmarkLoadStores turns them on.
var pgNoCache = true

var (
	processKeyOnce sync.Once
	processKey     *rsa.PrivateKey
	processKeyErr  error
)

func (s *Server) loadKey(tx txn) error {
	key := s.cfg.SigningKey
	if key == nil && s.cfg.DBPath == "" {
		// Generating an RSA key takes a while; in-memory servers (tests) share one.
		processKeyOnce.Do(func() { processKey, processKeyErr = rsa.GenerateKey(rand.Reader, 2048) })
		key, _ = processKey, processKeyErr
		if processKeyErr != nil {
			return processKeyErr
		}
	}
	if key == nil {
		der, err := tx.meta("signing_key")
		if err != nil {
			return err
		}
		if der != nil {
			k, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return fmt.Errorf("stored signing key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return errors.New("stored signing key is not RSA")
			}
			key = rk
		} else {
			if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				return err
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return err
			}
			if err := tx.putMeta("signing_key", der); err != nil {
				return err
			}
		}
	}
	return s.useKey(key)
}

// Config returns the effective configuration: secrets generated and kept in the database
// for static clients without a configured secret are filled in.
func (s *Server) Config() Config {
	c := s.cfg
	c.Clients = slices.Clone(c.Clients)
	return c
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// Close stops background work and closes the database. It does not stop an http.Server that
// uses s; shut that down first.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		if s.cimdFetch != nil {
			s.cimdFetch.close()
		}
		err = s.store.close()
	})
	return err
}

// sweepEvery is the sweeper's tick (a variable for tests).
var sweepEvery = 5 * time.Second

func (s *Server) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	cursor := []byte{}
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			next, err := s.store.sweep(ctx, s.now(), cursor)
			if err != nil {
				s.log.Warn("sweeping expired tokens failed", "error", err.Error())
			} else {
				cursor = next
			}
			if err := s.syncKey(ctx); err != nil {
				s.log.Warn("reading the signing key another replica stored failed", "error", err.Error())
			}
			cancel()
		}
	}
}

// ServeHTTP routes a request to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
			if rec.status == 0 {
				s.writeError(rec, r, errors.New("panic"))
			}
		}
		// Only the path: query strings carry codes, states and user codes; headers and
		// bodies carry credentials.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	}()
	if s.injectFault(rec, r) {
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// routes builds the endpoints below the issuer's path (Go 1.22 ServeMux patterns; the
// issuer's path is stripped first, so that it needs no escaping in a pattern). Handlers check
// the method themselves, to answer a wrong one with a JSON error and Allow.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	json := func(endpoint func(http.ResponseWriter, *http.Request) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { serveJSON(s, w, r, endpoint) }
	}
	mux.HandleFunc("/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc(pathJWKS, s.handleJWKS)
	mux.HandleFunc(pathToken, s.cors(json(func(w http.ResponseWriter, r *http.Request) (any, error) { return s.token(w, r) })))
	mux.HandleFunc(pathAuthorize, s.handleAuthorize)
	if reg := s.beh.RegistrationPath; s.mode != ModeDisabled {
		mux.HandleFunc(reg, s.cors(s.handleRegister))
		if s.beh.Management {
			mux.HandleFunc(reg+"/{client_id}", s.cors(func(w http.ResponseWriter, r *http.Request) {
				s.handleManage(w, r, r.PathValue("client_id"))
			}))
		}
	}
	mux.HandleFunc(pathRevoke, s.handleRevoke)
	mux.HandleFunc(pathIntrospect, json(func(w http.ResponseWriter, r *http.Request) (any, error) { return s.introspect(w, r) }))
	mux.HandleFunc(pathDeviceAuthz, json(func(w http.ResponseWriter, r *http.Request) (any, error) { return s.deviceAuthorization(w, r) }))
	mux.HandleFunc(pathDevice, s.handleDevicePage)
	mux.HandleFunc(pathUserinfo, s.handleUserinfo)
	if s.cfg.ControlToken != "" {
		mux.Handle("/_control/", s.controlHandler())
	}
	if s.cfg.ResourcePath != "" {
		mux.HandleFunc(s.cfg.ResourcePath, s.handleResource)
	}
	mux.HandleFunc("/", s.notFound)

	below := http.StripPrefix(s.path, mux)
	// RFC 8414 §3.1 and RFC 9728 §3.1: the well-known segment goes between the host and the
	// issuer's (or the resource's) path.
	discovery := "/.well-known/oauth-authorization-server" + s.path
	resourceMetadata := resourceMetadataPrefix + s.path + s.cfg.ResourcePath
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == discovery:
			s.handleDiscovery(w, r)
		case s.cfg.ResourcePath != "" && r.URL.Path == resourceMetadata:
			s.handleResourceMetadata(w, r)
		case s.path != "" && !strings.HasPrefix(r.URL.Path, s.path+"/"):
			s.notFound(w, r)
		default:
			below.ServeHTTP(w, r)
		}
	})
}

// notFound answers a path that is no endpoint. RFC 6749 has no error code for it;
// invalid_request is the generic one ("the request is … otherwise malformed").
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errorf(http.StatusNotFound, "invalid_request", "no endpoint at %s: see %s/.well-known/openid-configuration for the endpoints", requestPath(r), s.issuer))
}

// requestPath is the path the client asked for, also below http.StripPrefix (which keeps
// RequestURI); never the query, which can carry codes and states.
func requestPath(r *http.Request) string {
	if r.RequestURI == "" || r.RequestURI == "*" {
		return r.URL.Path
	}
	p, _, _ := strings.Cut(r.RequestURI, "?")
	if u, err := url.Parse(p); err == nil && u.Path != "" {
		return u.Path
	}
	return p
}

// serveJSON answers a request with what endpoint returns: 200 with the JSON value, or the
// protocol error through writeError.
func serveJSON[T any](s *Server, w http.ResponseWriter, r *http.Request, endpoint func(http.ResponseWriter, *http.Request) (T, error)) {
	resp, err := endpoint(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// pageParams reads the parameters of an HTML endpoint that takes GET (a link) and POST (its
// own form): the query, or the form body. RFC 6749 §3.1: the authorization endpoint MAY
// support POST; the login and device forms use it.
func pageParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	switch r.Method {
	case http.MethodGet:
		return r.URL.Query(), nil
	case http.MethodPost:
		return parseForm(w, r)
	default:
		return nil, methodNotAllowed(w, http.MethodGet, http.MethodPost)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow ...string) *Error {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return errorf(http.StatusMethodNotAllowed, "invalid_request", "use %s on this endpoint", strings.Join(allow, " or "))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// readBody reads the whole body through the size limit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	var b []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= maxBody {
		b = make([]byte, n) // the size is known: one allocation, not ReadAll's doublings
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "invalid_request", "the request body is larger than %d bytes: send less", maxBody)
		}
		return nil, badRequest("invalid_request", "reading the request body failed")
	}
	return b, nil
}

// parseForm parses an application/x-www-form-urlencoded POST body (RFC 6749 §3.2, §4.1.3).
// Parameters sent without a value are treated as omitted; repeated parameters are an error
// (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, methodNotAllowed(w, http.MethodPost)
	}
	if !mediaTypeIs(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, badRequest("invalid_request", "the Content-Type must be application/x-www-form-urlencoded")
	}
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, badRequest("invalid_request", "the form body is not valid application/x-www-form-urlencoded")
	}
	for k, vs := range v {
		if len(vs) > 1 && k != "resource" { // RFC 8707 §2: resource may repeat
			return nil, badRequest("invalid_request", "parameter %q is included more than once; send it once", k)
		}
	}
	return v, nil
}

func mediaTypeIs(ct, want string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), want)
}

// b64 is unpadded base64url.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// newSecret returns 256 random bits, base64url: client secrets, tokens, codes.
func newSecret(r io.Reader) string { return randomString(r, 32) }

func randomString(r io.Reader, n int) string {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		panic("testserver: random source failed: " + err.Error())
	}
	return b64(b)
}

func (s *Server) secret() string { return newSecret(s.rand) }

// sortable is base64 with its alphabet in ASCII order, so that encoded strings sort like the
// bytes they encode.
var sortable = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)

var lastSeq atomic.Uint64

// nextSeq is a strictly increasing, time-based sequence number.
func nextSeq() uint64 {
	for {
		old := lastSeq.Load()
		n := uint64(time.Now().UnixNano())
		if n <= old {
			n = old + 1
		}
		if lastSeq.CompareAndSwap(old, n) {
			return n
		}
	}
}

func (s *Server) sequenced(random int) string {
	b := make([]byte, 8+random)
	binary.BigEndian.PutUint64(b, s.nextSeq())
	if _, err := io.ReadFull(s.rand, b[8:]); err != nil {
		panic("testserver: random source failed: " + err.Error())
	}
	return sortable.EncodeToString(b)
}

// newClientID is 64 bits of sequence and 64 random bits: unique, and new clients land at the
// end of the clients B-tree instead of on a random page (cheaper commits).
func (s *Server) newClientID() string { return s.sequenced(8) }

// newToken is an access or refresh token or a code: 64 bits of sequence and 256 random bits.
// It is stored under tokenKey.
func (s *Server) newToken() string { return s.sequenced(32) }

// tokenKey is the stored key of a token: its sequence prefix (not secret) and the SHA-256 of
// the whole token, so that new tokens are appended to the B-tree.
func tokenKey(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	if len(tok) != 54 {
		return h[:]
	}
	raw, err := sortable.DecodeString(tok)
	if err != nil || len(raw) != 40 {
		return h[:]
	}
	return append(raw[:8:8], h[:]...)
}

// hashOf is the stored form of a secret. SHA-256 without salt is right for 256-bit random
// values: there is nothing to brute-force, and it keeps lookups indexable.
func hashOf(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// matches compares a presented secret with a stored hash in constant time.
func matches(stored []byte, presented string) bool {
	if len(stored) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(stored, hashOf(presented)) == 1
}

func (s *Server) url(p string) string { return s.issuer + p }
