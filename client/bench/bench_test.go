package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/bench"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
)

// target is the real testserver under httptest, with its SQLite file, so that tests can list
// the clients it holds.
type target struct {
	issuer string
	srv    *testserver.Server
	db     string
	secret string // the bootstrap client's
}

// start runs the server; mut changes DefaultConfig, wrap (if not nil) goes in front of it.
func start(t *testing.T, mut func(*testserver.Config), wrap func(http.Handler) http.Handler) *target {
	t.Helper()
	var h http.Handler
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	tg := &target{issuer: "http://" + hs.Listener.Addr().String(), db: filepath.Join(t.TempDir(), "serve.db")}
	cfg := testserver.DefaultConfig()
	cfg.Issuer = tg.issuer
	cfg.DBPath = tg.db
	if mut != nil {
		mut(&cfg)
	}
	srv, err := testserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tg.srv, tg.secret = srv, srv.Config().Clients[0].ClientSecret
	h = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return tg
}

// clients lists the registered clients in the server's store (static clients are not there).
func (tg *target) clients(t *testing.T) []string {
	t.Helper()
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: tg.db}).String()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id FROM clients ORDER BY id")
	if err != nil {
		t.Fatalf("listing the server's clients: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// confidential is client metadata the login step can use: a secret and the client
// credentials grant.
var confidential = client.Metadata{ClientName: "bench app", GrantTypes: []string{"client_credentials"},
	TokenEndpointAuthMethod: "client_secret_basic", Scope: "profile"}

func (tg *target) config(steps ...bench.Step) bench.Config {
	return bench.Config{Issuer: tg.issuer, Steps: steps, ClientID: testserver.DefaultBootstrapClient, ClientSecret: tg.secret,
		Metadata: confidential, Concurrency: 3, Timeout: 10 * time.Second}
}

// outcome is the part of a report a test can predict exactly.
type outcome struct {
	StoppedBy string
	Installs  [4]int64 // started, completed, failed, incomplete
	Steps     map[bench.Step][2]int64
	Errors    map[bench.Step][2]map[string]int64 // by status, by code
	Cleanup   [4]int64                           // registered, deleted by step, deleted, kept
	Failed    int
}

func summarise(r *bench.Report) outcome {
	o := outcome{StoppedBy: r.StoppedBy, Steps: map[bench.Step][2]int64{},
		Installs: [4]int64{r.Installs.Started, r.Installs.Completed, r.Installs.Failed, r.Installs.Incomplete},
		Cleanup:  [4]int64{r.Cleanup.Registered, r.Cleanup.DeletedByStep, r.Cleanup.Deleted, int64(len(r.Cleanup.Kept))},
		Failed:   len(r.Cleanup.Failed)}
	for _, s := range r.Results {
		o.Steps[s.Step] = [2]int64{s.Requests, s.Errors}
		if s.Errors > 0 {
			if o.Errors == nil {
				o.Errors = map[bench.Step][2]map[string]int64{}
			}
			o.Errors[s.Step] = [2]map[string]int64{s.ErrorsByStatus, s.ErrorsByCode}
		}
	}
	return o
}

func steps(n int64, names ...bench.Step) map[bench.Step][2]int64 {
	m := map[bench.Step][2]int64{}
	for _, s := range names {
		m[s] = [2]int64{n, 0}
	}
	return m
}

func check(t *testing.T, r *bench.Report, want outcome) {
	t.Helper()
	if got := summarise(r); !reflect.DeepEqual(got, want) {
		t.Errorf("report:\n got %+v\nwant %+v", got, want)
	}
	for _, s := range r.Results {
		l := s.Latency
		var n uint64
		for _, b := range s.Histogram {
			n += b.Count
		}
		if s.Requests > 0 && (!(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || n != uint64(s.Requests)) {
			t.Errorf("%s: latency %+v, histogram holds %d of %d requests: want 0 < min ≤ p50 ≤ p90 ≤ p99 ≤ max and every request binned", s.Step, l, n, s.Requests)
		}
	}
}

// TestStepMixes runs each step mix briefly and asserts every request count exactly, and that
// the server holds no client afterwards (or exactly the kept ones).
func TestStepMixes(t *testing.T) {
	const n = 12
	all := bench.AllSteps
	reusable := func(c *testserver.Config) { c.InitialTokenUses = testserver.Reusable }
	cases := []struct {
		name  string
		mut   func(*testserver.Config)
		steps []bench.Step
		edit  func(*bench.Config, *target)
		want  outcome
	}{
		{"full sequence", nil, all, nil, outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, all...),
			Cleanup: [4]int64{n, n, 0, 0}}},
		{"token and register, cleanup deletes", nil, []bench.Step{"token", "register"}, nil,
			outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, "token", "register"), Cleanup: [4]int64{n, 0, n, 0}}},
		{"token only", nil, []bench.Step{"token"}, nil,
			outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, "token")}},
		{"reusable token file: register, read", reusable, []bench.Step{"register", "read"}, func(c *bench.Config, tg *target) {
			c.ClientID, c.ClientSecret = "", ""
			c.InitialToken = initialToken(t, tg)
		}, outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, "register", "read"), Cleanup: [4]int64{n, 0, n, 0}}},
		{"template instances, kept", nil, []bench.Step{"token", "register", "read"}, func(c *bench.Config, _ *target) {
			c.Template, c.Keep = testserver.DefaultTemplate, true
		}, outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, "token", "register", "read"), Cleanup: [4]int64{n, 0, 0, n}}},
		{"max requests, one worker", nil, all, func(c *bench.Config, _ *target) { c.Concurrency, c.Installs, c.MaxRequests = 1, 0, 7 },
			outcome{StoppedBy: "max_requests", Installs: [4]int64{2, 1, 0, 1},
				Steps:   map[bench.Step][2]int64{"token": {2, 0}, "register": {2, 0}, "login": {1, 0}, "read": {1, 0}, "delete": {1, 0}},
				Cleanup: [4]int64{2, 1, 1, 0}}},
		{"open loop", nil, all, func(c *bench.Config, _ *target) { c.Rate = 400 },
			outcome{StoppedBy: "installs", Installs: [4]int64{n, n, 0, 0}, Steps: steps(n, all...), Cleanup: [4]int64{n, n, 0, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := start(t, c.mut, nil)
			cfg := tg.config(c.steps...)
			cfg.Installs = n
			if c.edit != nil {
				c.edit(&cfg, tg)
			}
			t0 := time.Now()
			r, err := bench.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			check(t, r, c.want)
			if left := tg.clients(t); !slices.Equal(left, slices.Sorted(slices.Values(r.Cleanup.Kept))) {
				t.Errorf("the server holds clients %v; want %v (the kept ones)", left, r.Cleanup.Kept)
			}
			// Installation n-1 is due (n-1)/rate after the start.
			if cfg.Rate > 0 && time.Since(t0) < time.Duration(float64(n-1)/cfg.Rate*float64(time.Second)) {
				t.Errorf("open loop at %g/s ran %d installations in %v: faster than the rate", cfg.Rate, n, time.Since(t0))
			}
		})
	}
}

func initialToken(t testing.TB, tg *target) string {
	tok, err := flows.ClientCredentials{Issuer: tg.issuer, ClientID: testserver.DefaultBootstrapClient, ClientSecret: tg.secret}.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// failFirst answers the first n429 registration requests 429 with Retry-After and the next
// n503 with 503 temporarily_unavailable; everything else goes to the server.
func failFirst(n429, n503 int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		var seen atomic.Int64
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/register" {
				switch k := seen.Add(1); {
				case k <= n429:
					w.Header().Set("Retry-After", "1")
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return
				case k <= n429+n503:
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusServiceUnavailable)
					fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"try later"}`)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestErrorAccounting counts failures by status and OAuth code, with a failing handler in
// front of the registration endpoint, and with a wrong bootstrap secret.
func TestErrorAccounting(t *testing.T) {
	t.Run("429 and 503 on register", func(t *testing.T) {
		tg := start(t, nil, failFirst(3, 2))
		cfg := tg.config("token", "register", "delete")
		cfg.Installs = 10
		r, err := bench.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, outcome{StoppedBy: "installs", Installs: [4]int64{10, 5, 5, 0},
			Steps:   map[bench.Step][2]int64{"token": {10, 0}, "register": {10, 5}, "delete": {5, 0}},
			Errors:  map[bench.Step][2]map[string]int64{"register": {{"429": 3, "503": 2}, {"temporarily_unavailable": 2}}},
			Cleanup: [4]int64{5, 5, 0, 0}})
		if left := tg.clients(t); len(left) != 0 {
			t.Errorf("the server holds %v", left)
		}
	})
	t.Run("wrong bootstrap secret", func(t *testing.T) {
		tg := start(t, nil, nil)
		cfg := tg.config("token", "register")
		cfg.ClientSecret, cfg.Installs = "not-the-secret-7f3a", 4
		r, err := bench.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, outcome{StoppedBy: "installs", Installs: [4]int64{4, 0, 4, 0},
			Steps:  map[bench.Step][2]int64{"token": {4, 4}, "register": {0, 0}},
			Errors: map[bench.Step][2]map[string]int64{"token": {{"401": 4}, {"invalid_client": 4}}}})
		if s := r.Results[0].FirstError; s == "" || strings.Contains(s, cfg.ClientSecret) {
			t.Errorf("first error %q: want a message without the secret", s)
		}
	})
}

// TestInterruptGivesPartialReportAndCleansUp cancels a long run from its progress callback:
// the report is partial, every client registered so far is deleted.
func TestInterruptGivesPartialReportAndCleansUp(t *testing.T) {
	tg := start(t, nil, nil)
	cfg := tg.config("token", "register", "read")
	cfg.Installs = 1_000_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var seen []bench.Progress
	cfg.ProgressInterval = 20 * time.Millisecond
	cfg.Progress = func(p bench.Progress) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, p)
		if p.Requests >= 30 {
			cancel()
		}
	}
	r, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if r.StoppedBy != "interrupted" || r.Requests < 30 || r.Installs.Started >= int64(cfg.Installs) || len(seen) == 0 {
		t.Errorf("stopped by %s after %d requests, %d installations, %d progress calls; want interrupted after ≥ 30, well before %d",
			r.StoppedBy, r.Requests, r.Installs.Started, len(seen), cfg.Installs)
	}
	if r.Cleanup.Deleted != r.Cleanup.Registered || len(r.Cleanup.Failed) != 0 || r.Cleanup.Registered == 0 {
		t.Errorf("cleanup %+v: want every registered client deleted", r.Cleanup)
	}
	if left := tg.clients(t); len(left) != 0 {
		t.Errorf("the server holds %v after the cleanup", left)
	}
}

// TestDurationBound stops a run by its duration.
func TestDurationBound(t *testing.T) {
	tg := start(t, nil, nil)
	cfg := tg.config("token")
	cfg.Duration = 300 * time.Millisecond
	t0 := time.Now()
	r, err := bench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); r.StoppedBy != "duration" || el < cfg.Duration || el > cfg.Duration+5*time.Second || r.Errors != 0 {
		t.Errorf("stopped by %s after %v with %d errors; want duration after about %v, no errors", r.StoppedBy, el, r.Errors, cfg.Duration)
	}
}

// TestPublicClientStopsLogin: the login step needs a secret; a public template instance
// stops the run with an error that says so, and the client is still deleted.
func TestPublicClientStopsLogin(t *testing.T) {
	tg := start(t, nil, nil)
	cfg := tg.config("token", "register", "login")
	cfg.Template, cfg.Installs = testserver.DefaultTemplate, 5
	r, err := bench.Run(context.Background(), cfg)
	if err == nil || r == nil || r.StoppedBy != "error" || r.Error != err.Error() {
		t.Fatalf("Run = %v, %v; want a report stopped by the error", r, err)
	}
	if r.Cleanup.Deleted != r.Cleanup.Registered || r.Results[2].Requests != 0 {
		t.Errorf("cleanup %+v, login requests %d: want all deleted and no login sent", r.Cleanup, r.Results[2].Requests)
	}
	if left := tg.clients(t); len(left) != 0 {
		t.Errorf("the server holds %v", left)
	}
}

// TestConfigErrors: configurations that cannot be played are refused before any request.
func TestConfigErrors(t *testing.T) {
	base := bench.Config{Issuer: "http://127.0.0.1:1", Steps: bench.AllSteps, ClientID: "b", ClientSecret: "s", Installs: 1}
	for _, c := range []struct {
		name string
		edit func(*bench.Config)
	}{
		{"no bound", func(c *bench.Config) { c.Installs = 0 }},
		{"token step without a client", func(c *bench.Config) { c.ClientSecret = "" }},
		{"token step and a token", func(c *bench.Config) { c.InitialToken = "t" }},
		{"read without register", func(c *bench.Config) { c.Steps = []bench.Step{"token", "read"} }},
		{"no steps", func(c *bench.Config) { c.Steps = nil }},
		{"no issuer", func(c *bench.Config) { c.Issuer = "" }},
	} {
		cfg := base
		c.edit(&cfg)
		if r, err := bench.Run(context.Background(), cfg); err == nil || r != nil {
			t.Errorf("%s: Run = %v, %v; want an error and no report", c.name, r, err)
		}
	}
	if _, err := bench.ParseSteps("token,fly"); err == nil {
		t.Error("ParseSteps accepted an unknown step")
	}
	if got, err := bench.ParseSteps("delete, token,register"); err != nil || !slices.Equal(got, []bench.Step{"token", "register", "delete"}) {
		t.Errorf("ParseSteps = %v, %v; want them in sequence order", got, err)
	}
}

// TestOpenLoopCountsQueueing: in open loop, latency counts from when an installation was due,
// so one stall shows in every request queued behind it (no coordinated omission). The first
// registration stalls 300 ms; at 50/s with one worker, installations 1..9 were due 20..180 ms
// after the start and could only be sent after 300 ms, so every latency is at least 120 ms.
// Closed loop, the same stall leaves the other requests fast.
func TestOpenLoopCountsQueueing(t *testing.T) {
	stallFirst := func(next http.Handler) http.Handler {
		var seen atomic.Int64
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/register" && seen.Add(1) == 1 {
				time.Sleep(300 * time.Millisecond)
			}
			next.ServeHTTP(w, r)
		})
	}
	open := func(c *testserver.Config) { c.Registration = testserver.ModeOpen }
	for _, c := range []struct {
		rate     float64
		min, p50 time.Duration // lower bounds
		p50Below time.Duration // upper bound of p50 (0: none)
	}{
		{rate: 50, min: 120 * time.Millisecond, p50: 200 * time.Millisecond},
		{rate: 0, p50Below: 100 * time.Millisecond},
	} {
		tg := start(t, open, stallFirst)
		cfg := tg.config("register")
		cfg.ClientID, cfg.ClientSecret, cfg.Concurrency, cfg.Installs, cfg.Rate = "", "", 1, 10, c.rate
		r, err := bench.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		l := r.Results[0].Latency
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		if r.Results[0].Requests != 10 || r.Errors != 0 || l.Max < 300 || l.Min < ms(c.min) || l.P50 < ms(c.p50) || (c.p50Below > 0 && l.P50 >= ms(c.p50Below)) {
			t.Errorf("rate %g: %d requests, %d errors, latency %+v ms; want 10, 0, max ≥ 300, min ≥ %v, p50 ≥ %v (and < %v if set)",
				c.rate, r.Results[0].Requests, r.Errors, l, c.min, c.p50, c.p50Below)
		}
	}
}
