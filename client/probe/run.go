package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
)

// DefaultMaxRequests is the request budget of a probe when Options.MaxRequests is 0. A full
// run against dcrctl serve sends about 35.
const DefaultMaxRequests = 80

// cleanupTimeout bounds the deletes of the clients the probe made, which run even after
// ctx has ended so that nothing is left behind.
const cleanupTimeout = 15 * time.Second

// NamePrefix starts the client_name of every client the probe registers.
const NamePrefix = "dcrctl-probe-"

// TokenSource returns an access token for a registration request, from the server that md
// describes (its issuer and endpoints as the probe found them). "" means none can be had.
type TokenSource func(ctx context.Context, md *client.ServerMetadata) (string, error)

// Options configures Run.
type Options struct {
	// URL is what to probe: an issuer, or a protected resource (RFC 9728). "" probes the
	// bare registration endpoint of Endpoints.Registration.
	URL string
	// Endpoints replace or complete what discovery says (client.Client.Resolve).
	Endpoints client.Endpoints
	// InitialToken gets an initial access token with the scope dcr (RFC 7591 §3); it is
	// called for each registration that needs one, and may return the same token each time.
	// nil: only open registration can be probed.
	InitialToken TokenSource
	// TokenWithoutDCR gets an access token of the same server that lacks the dcr scope, to
	// see how registration refuses it (401 or 403). nil: that check is skipped.
	TokenWithoutDCR TokenSource
	// NoRegister sends only reads (GET, and an OPTIONS preflight): nothing is registered.
	NoRegister bool
	// MaxRequests bounds the requests sent; 0 means DefaultMaxRequests. The deletes of the
	// clients the probe made are allowed past it.
	MaxRequests int
	// HTTPClient sends the requests; nil means client.NewHTTPClient's. Its Transport is
	// wrapped; its redirect policy is package client's.
	HTTPClient *http.Client
	// UserAgent is sent with every request; "" means package client's default.
	UserAgent string
	// Rand makes client names, state and PKCE values; nil means crypto/rand.
	Rand io.Reader
}

// prober is one run.
type prober struct {
	opts   Options
	c      *client.Client
	hc     *http.Client // package client's redirect policy
	nr     *http.Client // no redirects (authorization requests)
	g      *guard
	rep    *Report
	md     *client.ServerMetadata
	advice []string

	tracked []*tracked
	r1, r2  *tracked // the confidential client (management) and the public one (authorize)
}

// tracked is a client the probe registered.
type tracked struct {
	reg     *client.Registration
	name    string
	sent    client.Metadata
	raw     map[string]any // the registration response's members
	status  int            // the registration response's status
	deleted bool
}

// Run probes the server and returns its report. It fails only when nothing could be
// probed at all: bad options (no report), or no request got an answer (the report, and an
// error wrapping the first network error); everything the server does, down to refusing
// every request, is in the report. It registers only clients named NamePrefix+random, deletes every one of
// them before returning (Report.Undeleted lists those it could not), never sends a token or
// secret to another origin than the registration endpoint's, never logs a user in, and sends
// at most Options.MaxRequests requests before ctx ends.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.URL == "" && opts.Endpoints.Registration == "" {
		return nil, errors.New("probe: give a URL (an issuer or a protected resource) or a registration endpoint")
	}
	if u, err := url.Parse(opts.URL); opts.URL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		return nil, fmt.Errorf("probe: %q is not an absolute http(s) URL", opts.URL)
	}
	if !opts.Endpoints.IsZero() {
		// With no issuer, Resolve only checks the URLs: nothing is sent.
		if _, err := (&client.Client{}).Resolve(ctx, "", opts.Endpoints); err != nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
	}
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = DefaultMaxRequests
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	target := opts.URL
	if target == "" {
		target = opts.Endpoints.Registration
	}
	p := &prober{opts: opts, g: &guard{max: opts.MaxRequests}, rep: newReport(target)}
	p.hc, p.nr = httpClients(opts.HTTPClient, p.g)
	p.c = &client.Client{HTTPClient: p.hc, UserAgent: opts.UserAgent}
	p.run(ctx)
	p.cleanup(ctx)
	if err := p.g.silence(); err != nil && ctx.Err() == nil {
		return p.rep, fmt.Errorf("probe: %s answered no request: %w", client.RedactURL(mustParse(target)), err)
	}
	return p.rep, nil
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return &url.URL{}
	}
	return u
}

func (p *prober) run(ctx context.Context) {
	if !p.target(ctx) || p.stopped(ctx) {
		return
	}
	p.cors(ctx)
	if p.opts.NoRegister {
		p.skip("--no-register: the probe registers nothing", registrationChecks...)
		return
	}
	if !p.registration(ctx) || p.stopped(ctx) {
		return
	}
	p.authorize(ctx)
	if !p.stopped(ctx) && p.r1 != nil {
		p.manage(ctx)
	}
}

// stopped reports whether the budget or the time is spent: what is left is skipped then.
func (p *prober) stopped(ctx context.Context) bool { return ctx.Err() != nil || p.g.spent() }

// halted reports whether err is the probe's own limit, not the server's doing.
func halted(err error) bool {
	return errors.Is(err, ErrBudget) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// cleanup deletes what is left, then fills in the report's undecided checks, summary and
// advice.
func (p *prober) cleanup(ctx context.Context) {
	dctx, cancel := context.WithTimeout(context.WithValue(context.WithoutCancel(ctx), cleanupKey, true), cleanupTimeout)
	defer cancel()
	for _, t := range p.tracked {
		p.rep.Registered = append(p.rep.Registered, t.reg.ClientID)
		if t.deleted {
			continue
		}
		reason := ""
		switch {
		case t.reg.RegistrationAccessToken == "" || t.reg.RegistrationClientURI == "":
			reason = "the server offers no RFC 7592 delete for it"
		case origin(t.reg.RegistrationClientURI) != origin(p.rep.RegistrationEndpoint):
			reason = "its registration_client_uri is on another origin, where the probe sends no token"
		default:
			if err := p.c.Delete(dctx, t.reg); err != nil {
				reason = "delete failed: " + client.RedactError(err)
			}
		}
		if reason != "" {
			p.rep.Undeleted = append(p.rep.Undeleted, Undeleted{ClientID: t.reg.ClientID, Name: t.name, Reason: reason})
		}
	}
	p.finish(ctx)
}

// finish decides every check still undecided, counts, and writes the advice.
func (p *prober) finish(ctx context.Context) {
	why := "not reached"
	switch {
	case ctx.Err() != nil:
		why = timeUp
	case p.g.spent():
		why = fmt.Sprintf("%s (%d requests)", budgetSpent, p.g.max)
	}
	s := &p.rep.Summary
	for i := range p.rep.Checks {
		c := &p.rep.Checks[i]
		if c.Result == "" {
			c.Result, c.Skipped = Skipped, why
		}
		switch c.Result {
		case Yes:
			s.Yes++
		case No:
			s.No++
		case Violation:
			s.Violation++
		default:
			s.Skipped++
		}
	}
	p.rep.Requests = p.g.sent()
	for _, a := range append(advise(p.rep), p.advice...) {
		if !slices.Contains(p.rep.Advice, a) {
			p.rep.Advice = append(p.rep.Advice, a)
		}
	}
	if len(p.rep.Undeleted) > 0 {
		p.rep.Advice = append(p.rep.Advice, fmt.Sprintf("the probe could not delete %d client(s) named %s…: delete them on the server (see undeleted)", len(p.rep.Undeleted), NamePrefix))
	}
}

// set decides a check, unless it was decided already (the first answer wins).
func (p *prober) set(id string, r Result, value, detail string) {
	c := p.rep.check(id)
	if c.Result != "" {
		return
	}
	c.Result, c.Value, c.Detail = r, value, oneLine(detail)
}

func (p *prober) yes(id, value, detail string) { p.set(id, Yes, value, detail) }
func (p *prober) no(id, value, detail string)  { p.set(id, No, value, detail) }

// violation decides a check as a violation of the RFC section rfc.
func (p *prober) violation(id, rfc, value, detail string) {
	c := p.rep.check(id)
	if c.Result != "" {
		return
	}
	c.Result, c.RFC, c.Value, c.Detail = Violation, rfc, value, oneLine(detail)
}

// skip decides the checks ids as skipped for reason (those not yet decided).
func (p *prober) skip(reason string, ids ...string) {
	for _, id := range ids {
		c := p.rep.check(id)
		if c.Result == "" {
			c.Result, c.Skipped = Skipped, oneLine(reason)
		}
	}
}

// oneLine keeps a detail on one line and bounded.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "…"
	}
	return s
}

// random returns n random bytes in hex.
func (p *prober) random(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.opts.Rand, b); err != nil {
		panic("probe: the random source failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Why checks are skipped when the probe's limits end it.
const (
	timeUp      = "the time limit ran out first"
	budgetSpent = "the request budget was spent first"
)

// failure describes a failed request for a detail line: the protocol error, or the cause.
func failure(err error) string {
	switch {
	case errors.Is(err, ErrBudget):
		return budgetSpent
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return timeUp
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		s := fmt.Sprintf("%d", ce.StatusCode)
		if ce.Code != "" {
			s += " " + ce.Code
		}
		if ce.Description != "" {
			s += fmt.Sprintf(" (%q)", ce.Description)
		}
		return s
	}
	return client.RedactError(err)
}

// listOrNone joins names, or says "none".
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
