package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dcrctl/dcrctl/client"
)

// grace is how long requests in flight may finish after the run's context is cancelled.
const grace = 2 * time.Second

// cleanupTimeout bounds the deletion of the registered clients after the run.
const cleanupTimeout = 2 * time.Minute

// Stop reasons, as in Report.StoppedBy.
const (
	StopInstalls    = "installs"
	StopDuration    = "duration"
	StopMaxRequests = "max_requests"
	StopInterrupted = "interrupted"
	StopError       = "error"
)

// errPublicClient stops a run whose login step meets a client without a secret.
var errPublicClient = errors.New("bench: the registered client has no client_secret, so the login step (a client credentials token as the new client) cannot run: register a confidential client that may use the client_credentials grant, or leave out the login step")

// engine is one run.
type engine struct {
	cfg   Config
	meta  *client.ServerMetadata
	body  []byte // the registration request
	start time.Time

	next        atomic.Int64 // index of the next installation
	sent        atomic.Int64 // requests allowed so far (for MaxRequests)
	started     atomic.Int64
	unconfirmed atomic.Int64 // registrations without an answer: the server may hold them

	mu        sync.Mutex
	stoppedBy string
	fatal     error
	halt      chan struct{} // closed: send no more requests
	haltOnce  sync.Once

	shards []*shard
}

// worker is one connection and the SDK values that use it.
type worker struct {
	hc    *http.Client
	sdk   *client.Client // discovery and cleanup
	shard *shard
}

func (e *engine) newWorker(s *shard) *worker {
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       e.cfg.TLSConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: e.cfg.Timeout,
		MaxConnsPerHost:       1,
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       90 * time.Second,
	}
	hc := &http.Client{
		Transport: t,
		Timeout:   e.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("the server redirected an API request: check the issuer URL")
		},
	}
	sdk := &client.Client{HTTPClient: hc, UserAgent: e.cfg.UserAgent, InsecureAllowHTTP: e.cfg.InsecureAllowHTTP}
	return &worker{hc: hc, sdk: sdk, shard: s}
}

// reason records why the run stops (the first reason wins).
func (e *engine) reason(r string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stoppedBy == "" {
		e.stoppedBy = r
	}
	if err != nil && e.fatal == nil {
		e.fatal = err
	}
}

// stop records the reason and lets no further request start.
func (e *engine) stop(r string, err error) {
	e.reason(r, err)
	e.haltOnce.Do(func() { close(e.halt) })
}

func (e *engine) halted() bool {
	select {
	case <-e.halt:
		return true
	default:
		return false
	}
}

// mayRequest reserves one request, or reports that the run has stopped.
func (e *engine) mayRequest() bool {
	if e.halted() {
		return false
	}
	if e.cfg.MaxRequests > 0 && e.sent.Add(1) > e.cfg.MaxRequests {
		e.stop(StopMaxRequests, nil)
		return false
	}
	return true
}

// Run plays the installations, cleans up, and returns the report. The report is returned
// even with an error: a run stopped by an error still has measurements, and the cleanup ran.
// Only an invalid Config or a failed discovery return a nil report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &engine{cfg: cfg, halt: make(chan struct{})}
	meta, err := e.newWorker(nil).sdk.Discover(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if cfg.has(StepRegister) && meta.RegistrationEndpoint == "" {
		return nil, fmt.Errorf("bench: %s advertises no registration_endpoint: dynamic registration is disabled there", cfg.Issuer)
	}
	if (cfg.has(StepToken) || cfg.has(StepLogin)) && meta.TokenEndpoint == "" {
		return nil, fmt.Errorf("bench: %s advertises no token_endpoint", cfg.Issuer)
	}
	for _, ep := range []struct{ name, url string }{{"registration_endpoint", meta.RegistrationEndpoint}, {"token_endpoint", meta.TokenEndpoint}} {
		if ep.url != "" {
			if err := cfg.checkURL(ep.name, ep.url); err != nil {
				return nil, err
			}
		}
	}
	md := cfg.Metadata
	if cfg.Template != "" {
		md = client.Metadata{SoftwareID: cfg.Template}
	}
	if e.body, err = md.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("bench: encoding the client metadata: %w", err)
	}
	e.meta = meta
	elapsed := e.play(ctx)
	return e.report(elapsed, e.cleanup(ctx)), e.fatal
}

// play runs the workers until a bound stops them and returns the time it took.
func (e *engine) play(ctx context.Context) time.Duration {
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReq()
	done := make(chan struct{})
	go func() { // Ctrl-C: stop starting requests; those in flight get a grace period.
		select {
		case <-ctx.Done():
			e.stop(StopInterrupted, nil)
			select {
			case <-time.After(grace):
				cancelReq()
			case <-done:
			}
		case <-done:
		}
	}()
	e.start = time.Now()
	if e.cfg.Duration > 0 {
		t := time.AfterFunc(e.cfg.Duration, func() { e.stop(StopDuration, nil) })
		defer t.Stop()
	}
	var wg sync.WaitGroup
	for range e.cfg.Concurrency {
		s := newShard(e.cfg.Steps)
		e.shards = append(e.shards, s)
		w := e.newWorker(s)
		wg.Go(func() { e.work(reqCtx, w) })
	}
	stopProgress := e.progressLoop()
	wg.Wait()
	elapsed := time.Since(e.start)
	close(done)
	stopProgress()
	return elapsed
}

// work runs installations until the run stops or every installation has been started.
func (e *engine) work(ctx context.Context, w *worker) {
	defer w.hc.CloseIdleConnections()
	for !e.halted() {
		i := e.next.Add(1) - 1
		if e.cfg.Installs > 0 && i >= int64(e.cfg.Installs) {
			e.reason(StopInstalls, nil)
			return
		}
		due := time.Now()
		if e.cfg.Rate > 0 {
			due = e.start.Add(time.Duration(float64(i) / e.cfg.Rate * float64(time.Second)))
			if !e.waitUntil(due) {
				return
			}
		}
		e.started.Add(1)
		e.install(ctx, w, due)
	}
}

// waitUntil sleeps until t; false when the run stopped meanwhile.
func (e *engine) waitUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !e.halted()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return !e.halted()
	case <-e.halt:
		return false
	}
}

// installation is what one installation holds between its steps.
type installation struct {
	token string
	c     *created
}

// install plays the steps of one installation; the first step's latency counts from due.
func (e *engine) install(ctx context.Context, w *worker, due time.Time) {
	in := installation{token: e.cfg.InitialToken}
	for k, step := range e.cfg.Steps {
		if step == StepLogin && in.c.reg.ClientSecret == "" {
			e.stop(StopError, errPublicClient)
			return
		}
		if !e.mayRequest() {
			return
		}
		t0 := time.Now()
		if k == 0 && e.cfg.Rate > 0 {
			t0 = due
		}
		err := e.do(ctx, w, step, &in)
		w.shard.record(step, time.Since(t0), err)
		if err != nil {
			w.shard.mu.Lock()
			w.shard.failed++
			w.shard.mu.Unlock()
			return
		}
	}
	w.shard.mu.Lock()
	w.shard.completed++
	w.shard.mu.Unlock()
}

// do sends one step's request.
func (e *engine) do(ctx context.Context, w *worker, step Step, in *installation) error {
	switch step {
	case StepToken:
		a, err := e.token(ctx, w, e.cfg.ClientID, e.cfg.ClientSecret, e.cfg.AuthMethod, e.cfg.Scopes, "token")
		if err == nil {
			in.token = a.AccessToken
		}
		return err
	case StepRegister:
		return e.register(ctx, w, in)
	case StepLogin:
		r := in.c.reg
		_, err := e.token(ctx, w, r.ClientID, r.ClientSecret, r.TokenEndpointAuthMethod, nil, "login")
		return err
	case StepRead:
		a, err := e.manage(ctx, w, http.MethodGet, in.c.reg, http.StatusOK, "read")
		if err != nil {
			return err
		}
		reg := *in.c.reg // RFC 7592 §2.1: keep what the server rotated, for the next step
		if a.ClientSecret != "" {
			reg.ClientSecret = a.ClientSecret
		}
		if a.RegistrationAccessToken != "" {
			reg.RegistrationAccessToken = a.RegistrationAccessToken
		}
		in.c.reg = &reg
		return nil
	default: // StepDelete
		_, err := e.manage(ctx, w, http.MethodDelete, in.c.reg, http.StatusNoContent, "delete")
		if err == nil {
			in.c.deleted = true
		}
		return err
	}
}

func (e *engine) token(ctx context.Context, w *worker, id, secret, method string, scopes []string, op string) (*answer, error) {
	req, err := tokenRequest(e.meta.TokenEndpoint, id, secret, method, scopes)
	if err != nil {
		return nil, err
	}
	e.userAgent(req)
	a, err := send(ctx, w.hc, op, req, http.StatusOK)
	if err == nil && a.AccessToken == "" {
		return nil, fmt.Errorf("bench: %s: the token response has no access_token (RFC 6749 §5.1)", op)
	}
	return a, err
}

// register sends the registration and keeps what the server created, for the next steps
// and the cleanup.
func (e *engine) register(ctx context.Context, w *worker, in *installation) error {
	req, err := bearerRequest(http.MethodPost, e.meta.RegistrationEndpoint, in.token, e.body)
	if err != nil {
		return err
	}
	e.userAgent(req)
	a, err := send(ctx, w.hc, "register", req, http.StatusCreated)
	if err != nil {
		if unanswered(err) {
			e.unconfirmed.Add(1)
		}
		return err
	}
	if a.ClientID == "" {
		return errors.New("bench: register: the answer has no client_id (RFC 7591 §3.2.1)")
	}
	in.c = &created{reg: &client.Registration{ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		RegistrationAccessToken: a.RegistrationAccessToken, RegistrationClientURI: a.RegistrationClientURI,
		Metadata: client.Metadata{TokenEndpointAuthMethod: a.TokenEndpointAuthMethod}}}
	w.shard.mu.Lock()
	w.shard.created = append(w.shard.created, in.c)
	w.shard.mu.Unlock()
	if a.RegistrationAccessToken == "" || a.RegistrationClientURI == "" {
		return errors.New("bench: register: the answer lacks registration_access_token or registration_client_uri (RFC 7592 §3): the client cannot be read or deleted")
	}
	return e.cfg.checkURL("registration_client_uri", a.RegistrationClientURI)
}

// manage sends an RFC 7592 request with the registration access token.
func (e *engine) manage(ctx context.Context, w *worker, method string, reg *client.Registration, want int, op string) (*answer, error) {
	req, err := bearerRequest(method, reg.RegistrationClientURI, reg.RegistrationAccessToken, nil)
	if err != nil {
		return nil, err
	}
	e.userAgent(req)
	return send(ctx, w.hc, op, req, want)
}

func (e *engine) userAgent(req *http.Request) {
	if e.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", e.cfg.UserAgent)
	}
}
