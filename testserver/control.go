package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The control API steers a running server from a test: it prunes clients behind their
// owners' backs, revokes tokens, injects failures, rotates the signing key, moves a fake
// clock, changes templates and resets the state. Each operation is a method on *Server; with
// Config.ControlToken set, the same operations are also served over HTTP below the issuer at
// /_control/…, to loopback callers holding that bearer token only.

// Endpoint names for InjectFault.
const (
	EndpointRegistration        = "registration"         // RFC 7591 registration endpoint
	EndpointClientConfiguration = "client_configuration" // RFC 7592 client configuration endpoint
	EndpointToken               = "token"
	EndpointAuthorization       = "authorization"
	EndpointDiscovery           = "discovery" // both well-known documents
	EndpointJWKS                = "jwks"
	EndpointRevocation          = "revocation"
	EndpointIntrospection       = "introspection"
	EndpointUserinfo            = "userinfo"
	EndpointDeviceAuthorization = "device_authorization"
)

// Endpoints lists the endpoint names InjectFault takes.
func Endpoints() []string {
	return []string{EndpointRegistration, EndpointClientConfiguration, EndpointToken, EndpointAuthorization,
		EndpointDiscovery, EndpointJWKS, EndpointRevocation, EndpointIntrospection, EndpointUserinfo, EndpointDeviceAuthorization}
}

// Fault makes the next Count requests to an endpoint fail instead of being served.
type Fault struct {
	// Count is how many requests fail; at least 1.
	Count int `json:"count"`
	// Status is the HTTP status of the failure, e.g. 429, 500, 503, 401 or 400. Ignored
	// with Drop.
	Status int `json:"status,omitempty"`
	// Error is the OAuth error code; "" picks one for the status (429 and 503:
	// temporarily_unavailable, 5xx: server_error, 401: invalid_client, 400: invalid_request).
	Error string `json:"error,omitempty"`
	// RetryAfter, if positive, is sent as Retry-After in whole seconds (RFC 9110 §10.2.3).
	RetryAfter time.Duration `json:"-"`
	// Drop closes the connection without a response.
	Drop bool `json:"drop,omitempty"`
	// Delay, if positive, holds the request that long first (real time, not the server's
	// clock), or until the client gives up; with no Status and no Drop the request is then
	// served normally: a slow endpoint.
	Delay time.Duration `json:"-"`
}

// faults holds the pending faults per endpoint, in order.
type faults struct {
	mu sync.Mutex
	m  map[string][]Fault
}

// InjectFault queues f for endpoint (see Endpoints): the next f.Count requests to it fail.
// Faults queued for one endpoint apply one after the other.
func (s *Server) InjectFault(endpoint string, f Fault) error {
	if !slices.Contains(Endpoints(), endpoint) {
		return fmt.Errorf("testserver: inject fault: unknown endpoint %q: use one of %s", endpoint, strings.Join(Endpoints(), ", "))
	}
	if f.Count < 1 {
		return errors.New("testserver: inject fault: count must be at least 1")
	}
	if !f.Drop && !(f.Delay > 0 && f.Status == 0) && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("testserver: inject fault: status %d is not an error status (400-599); or set drop", f.Status)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.m == nil {
		s.faults.m = map[string][]Fault{}
	}
	s.faults.m[endpoint] = append(s.faults.m[endpoint], f)
	return nil
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.m = nil
}

// takeFault takes one use of the first fault pending for endpoint.
func (s *Server) takeFault(endpoint string) (Fault, bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	q := s.faults.m[endpoint]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	if q[0].Count--; q[0].Count == 0 {
		s.faults.m[endpoint] = q[1:]
	}
	return f, true
}

// endpointOf names the endpoint of a path below the issuer ("" for none).
func (s *Server) endpointOf(p string) string {
	if p == "/.well-known/oauth-authorization-server"+s.path {
		return EndpointDiscovery
	}
	p, ok := strings.CutPrefix(p, s.path)
	if !ok {
		return ""
	}
	switch reg := s.beh.RegistrationPath; {
	case p == reg:
		return EndpointRegistration
	case strings.HasPrefix(p, reg+"/"):
		return EndpointClientConfiguration
	}
	return map[string]string{
		"/.well-known/openid-configuration": EndpointDiscovery, pathToken: EndpointToken, pathAuthorize: EndpointAuthorization,
		pathJWKS: EndpointJWKS, pathRevoke: EndpointRevocation, pathIntrospect: EndpointIntrospection,
		pathUserinfo: EndpointUserinfo, pathDeviceAuthz: EndpointDeviceAuthorization,
	}[p]
}

// injectFault answers r with a pending fault of its endpoint, if there is one.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	ep := s.endpointOf(r.URL.Path)
	if ep == "" {
		return false
	}
	f, ok := s.takeFault(ep)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		// Read the body first: only then does net/http notice a client that hangs up.
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true // the client gave up: nobody reads an answer
		}
		if !f.Drop && f.Status == 0 {
			return false
		}
	}
	if f.Drop {
		panic(http.ErrAbortHandler) // net/http closes the connection without a response
	}
	e := &Error{Status: f.Status, Code: f.Error, Description: fmt.Sprintf("injected failure (control API) of the %s endpoint", ep)}
	if e.Code == "" {
		e.Code = map[int]string{429: "temporarily_unavailable", 503: "temporarily_unavailable", 401: "invalid_client"}[f.Status]
	}
	if e.Code == "" {
		e.Code = "invalid_request"
		if f.Status >= 500 {
			e.Code = "server_error"
		}
	}
	if f.Status == http.StatusUnauthorized {
		e.Challenge = "Bearer"
		if e.Code == "invalid_client" {
			e.Challenge = "Basic"
		}
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	s.writeError(w, r, e)
	return true
}

// DeleteClient deletes a registered client without its registration access token, as a
// server pruning registrations does: its tokens die with it.
func (s *Server) DeleteClient(ctx context.Context, id string) error {
	defer s.cache.invalidate(id)
	return s.changeClient(ctx, id, func(tx txn, _ *clientRow) error { return tx.deleteClient(id) })
}

// ExpireClient makes a registered client's secret expire now (client_secret_expires_at):
// the token endpoint refuses it until the client reads its registration (RFC 7592) or
// registers again.
func (s *Server) ExpireClient(ctx context.Context, id string) error {
	defer s.cache.invalidate(id)
	return s.changeClient(ctx, id, func(tx txn, row *clientRow) error {
		if row.SecretHash == nil {
			return fmt.Errorf("testserver: client %q is public: it has no secret to expire", id)
		}
		row.SecretExpiresAt = s.now().Unix()
		return tx.updateClient(row)
	})
}

// RevokeClientTokens revokes every token issued to a registered or static client, and a
// registered client's registration access token.
func (s *Server) RevokeClientTokens(ctx context.Context, id string) error {
	defer s.tokCache.clear()
	defer s.cache.invalidate(id)
	return s.store.update(ctx, func(tx txn) error {
		if err := tx.revokeClientTokens(id); err != nil {
			return err
		}
		row, err := tx.client(id)
		if err != nil || row == nil {
			return err
		}
		row.RATHash = nil
		return tx.updateClient(row)
	})
}

// RevokeToken revokes one access or refresh token, or an authorization code.
func (s *Server) RevokeToken(ctx context.Context, token string) error {
	h := tokenKey(token)
	defer s.tokCache.invalidate(string(h))
	return s.store.update(ctx, func(tx txn) error {
		row, err := tx.token(h)
		if err != nil {
			return err
		}
		if row == nil {
			return errors.New("testserver: revoke token: no such token")
		}
		_, err = tx.revokeToken(h)
		return err
	})
}

func (s *Server) changeClient(ctx context.Context, id string, fn func(txn, *clientRow) error) error {
	return s.store.update(ctx, func(tx txn) error {
		row, err := tx.client(id)
		if err != nil {
			return err
		}
		if row == nil {
			return fmt.Errorf("testserver: no registered client %q (static clients cannot be changed)", id)
		}
		return fn(tx, row)
	})
}

// RotateSigningKey replaces the ID token signing key with a new one and publishes only the
// new key in the JWKS; it returns the new key id. A persistent database keeps the new key.
func (s *Server) RotateSigningKey(ctx context.Context) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	if s.cfg.DBPath != "" {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", err
		}
		if err := s.store.update(ctx, func(tx txn) error { return tx.putMeta("signing_key", der) }); err != nil {
			return "", err
		}
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if err := s.useKey(key); err != nil {
		return "", err
	}
	return s.kid, nil
}

// FakeClock is a clock that moves only when told to: Config.FakeClock makes it the server's
// clock, and AdvanceClock (or Advance) moves it. It is safe for concurrent use.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a FakeClock standing at start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{t: start} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// AdvanceClock moves the server's fake clock forward (tokens, codes, sessions and secrets
// expire by it). It fails unless the server runs on Config.FakeClock.
func (s *Server) AdvanceClock(d time.Duration) (time.Time, error) {
	if s.cfg.FakeClock == nil {
		return time.Time{}, errors.New("testserver: the server runs on the real clock: start it with a fake clock (Config.FakeClock, dcrctl serve --clock fake)")
	}
	if d < 0 {
		return time.Time{}, errors.New("testserver: the clock only moves forward")
	}
	return s.cfg.FakeClock.Advance(d), nil
}

// SetTemplateMetadata replaces a template's metadata while the server runs; its instances
// follow at once (their metadata is always the template's).
func (s *Server) SetTemplateMetadata(id string, md map[string]any) error {
	t, ok := s.templates[id]
	if !ok {
		return fmt.Errorf("testserver: no template %q: use one of %s", id, s.templateList())
	}
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("testserver: template %q: %w", id, err)
	}
	m, err := s.operatorValidator().parse(b)
	if err != nil {
		return fmt.Errorf("testserver: template %q: %w", id, err)
	}
	m.Fields["software_id"], _ = json.Marshal(id)
	t.setMetadata(m)
	s.cache.clear() // cached instances hold the old metadata
	return nil
}

// Reset returns the server to its initial state: no registered clients, tokens, sessions or
// device authorizations; templates as configured; no pending faults. The signing key, the
// static clients' generated secrets and the clock are kept.
func (s *Server) Reset(ctx context.Context) error {
	err := s.store.update(ctx, func(tx txn) error { return tx.wipe() })
	if err != nil {
		return err
	}
	for _, tc := range s.cfg.Templates {
		if err := s.SetTemplateMetadata(tc.ID, tc.Metadata); err != nil {
			return err
		}
	}
	s.ClearFaults()
	s.cache.clear()
	s.tokCache.clear()
	s.seq.Store(0)
	return nil
}

// seededRand is the random source of Config.Seed: ChaCha8, so that a seed gives the same
// client ids, secrets and tokens on every run.
type seededRand struct {
	mu sync.Mutex
	c  *mrand.ChaCha8
}

func newSeededRand(seed uint64) *seededRand {
	var k [32]byte
	for i := range 4 {
		for j := range 8 {
			k[i*8+j] = byte(seed >> (8 * j))
		}
		seed = seed*6364136223846793005 + 1442695040888963407
	}
	return &seededRand{c: mrand.NewChaCha8(k)}
}

func (r *seededRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Read(p)
}

// nextSeq is the sequence part of ids and tokens: time-based, or with Config.Seed a
// counter, so that ids repeat from run to run.
func (s *Server) nextSeq() uint64 {
	if s.cfg.Seed == 0 {
		return nextSeq()
	}
	return 1<<56 + s.seq.Add(1)
}

// controlHandler serves the control API (README "Control API").
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	type obj = map[string]any
	op := func(pattern string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(r)
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					err = badRequest("invalid_request", "%s", strings.TrimPrefix(err.Error(), "testserver: "))
				}
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	body := func(r *http.Request, v any) error {
		b, err := readBody(nil, r)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return nil
		}
		if err := json.Unmarshal(b, v); err != nil {
			return badRequest("invalid_request", "the body is not the JSON object this operation takes: %s", jsonErr(err))
		}
		return nil
	}
	op("POST /_control/clients/{id}/delete", func(r *http.Request) (any, error) {
		return obj{"deleted": r.PathValue("id")}, s.DeleteClient(r.Context(), r.PathValue("id"))
	})
	op("POST /_control/clients/{id}/expire", func(r *http.Request) (any, error) {
		return obj{"expired": r.PathValue("id")}, s.ExpireClient(r.Context(), r.PathValue("id"))
	})
	op("POST /_control/clients/{id}/revoke-tokens", func(r *http.Request) (any, error) {
		return obj{"revoked_tokens_of": r.PathValue("id")}, s.RevokeClientTokens(r.Context(), r.PathValue("id"))
	})
	op("POST /_control/tokens/revoke", func(r *http.Request) (any, error) {
		var in struct{ Token string }
		if err := body(r, &in); err != nil {
			return nil, err
		}
		return obj{"revoked": true}, s.RevokeToken(r.Context(), in.Token)
	})
	op("POST /_control/faults", func(r *http.Request) (any, error) {
		var in struct {
			Fault
			Endpoint   string  `json:"endpoint"`
			RetryAfter float64 `json:"retry_after"`
			Delay      float64 `json:"delay"`
		}
		if err := body(r, &in); err != nil {
			return nil, err
		}
		in.Fault.RetryAfter = time.Duration(in.RetryAfter * float64(time.Second))
		in.Fault.Delay = time.Duration(in.Delay * float64(time.Second))
		return obj{"queued": in.Endpoint, "count": in.Count}, s.InjectFault(in.Endpoint, in.Fault)
	})
	op("DELETE /_control/faults", func(*http.Request) (any, error) { s.ClearFaults(); return obj{"cleared": true}, nil })
	op("POST /_control/signing-key/rotate", func(r *http.Request) (any, error) {
		kid, err := s.RotateSigningKey(r.Context())
		return obj{"kid": kid}, err
	})
	op("POST /_control/clock/advance", func(r *http.Request) (any, error) {
		var in struct{ Seconds float64 }
		if err := body(r, &in); err != nil {
			return nil, err
		}
		now, err := s.AdvanceClock(time.Duration(in.Seconds * float64(time.Second)))
		return obj{"now": now.Unix()}, err
	})
	op("PUT /_control/templates/{id}", func(r *http.Request) (any, error) {
		var md map[string]any
		if err := body(r, &md); err != nil {
			return nil, err
		}
		return obj{"template": r.PathValue("id")}, s.SetTemplateMetadata(r.PathValue("id"), md)
	})
	mux.HandleFunc("GET /_control/export", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := s.Export(r.Context(), w); err != nil {
			s.log.Error("control export failed", "error", err.Error())
		}
	})
	op("POST /_control/reset", func(r *http.Request) (any, error) { return obj{"reset": true}, s.Reset(r.Context()) })
	op("/_control/", func(r *http.Request) (any, error) {
		return nil, errorf(http.StatusNotFound, "invalid_request", "no control operation %s %s: see the README, Control API", r.Method, requestPath(r))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.controlAccess(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// controlAccess admits loopback callers with the control token.
func (s *Server) controlAccess(r *http.Request) error {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return errorf(http.StatusForbidden, "access_denied", "the control API answers loopback callers only")
	}
	tok, e := bearer(r)
	if e != nil {
		return e
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.ControlToken)) != 1 {
		return invalidToken("wrong control token: use the one printed in the ready line")
	}
	return nil
}
