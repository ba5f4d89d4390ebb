package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dcrctl/dcrctl/client/probe"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// requestLog collects the server's one log line per request (method, path, status).
type requestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *requestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

type logged struct {
	Method, Path string
	Status       int
}

func (l *requestLog) requests(t *testing.T) []logged {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logged
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var r struct {
			Msg    string `json:"msg"`
			Method string `json:"method"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Msg == "request" {
			out = append(out, logged{r.Method, r.Path, r.Status})
		}
	}
	return out
}

func startLogged(t *testing.T, mutate func(*testserver.Config)) (*servertest.Server, *requestLog) {
	log := &requestLog{}
	srv := servertest.Start(t, func(c *testserver.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(log, nil))
		if mutate != nil {
			mutate(c)
		}
	})
	return srv, log
}

// stateHas reports whether the server's exported state mentions s (a client's name).
func stateHas(t *testing.T, srv *servertest.Server, s string) bool {
	var b bytes.Buffer
	if err := srv.Server.Export(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(b.String(), s)
}

// TestProbeSendsOnlyWhatItMay: a full probe sends its writes only to the registration and
// client configuration endpoints, never submits a login, and leaves no client behind; with
// NoRegister it sends only GETs and OPTIONS and registers nothing.
func TestProbeSendsOnlyWhatItMay(t *testing.T) {
	srv, log := startLogged(t, nil)
	rep := probeServer(t, srv)
	for _, r := range log.requests(t) {
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodOptions:
		case r.Method == http.MethodPost && r.Path == "/token":
			// the test's own token source (the bootstrap client's client credentials)
		case strings.HasPrefix(r.Path, "/register"):
		default:
			t.Errorf("the probe sent %s %s", r.Method, r.Path)
		}
	}
	if len(rep.Registered) != 2 || len(rep.Undeleted) != 0 || stateHas(t, srv, probe.NamePrefix) {
		t.Errorf("registered %v, undeleted %v: a dcrctl-probe client is left on the server", rep.Registered, rep.Undeleted)
	}

	srv, log = startLogged(t, nil)
	rep, err := probe.Run(context.Background(), probe.Options{URL: srv.HTTP.URL, NoRegister: true,
		InitialToken: tokenSource(srv, []string{"dcr"})})
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, r := range log.requests(t) {
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	slices.Sort(methods)
	if !slices.Equal(methods, []string{"GET", "OPTIONS"}) || len(rep.Registered) != 0 {
		t.Errorf("--no-register sent %v and registered %v; want only GET and OPTIONS, nothing registered", methods, rep.Registered)
	}
	if c, _ := rep.Check("registration_mode"); c.Result != probe.Skipped || !strings.Contains(c.Skipped, "--no-register") {
		t.Errorf("registration_mode = %+v, want skipped for --no-register", c)
	}
}

// TestProbeSendsNoSecretToAnotherOrigin: a server whose registration_client_uri is on
// another origin (here: its issuer, behind a proxy, while the registration endpoint is
// reached directly) gets no registration access token there; the probe says so and lists
// the clients it therefore could not delete.
func TestProbeSendsNoSecretToAnotherOrigin(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	proxy := httptest.NewUnstartedServer(nil)
	srv := servertest.Start(t, func(c *testserver.Config) { c.Issuer = "http://" + proxy.Listener.Addr().String() })
	target, _ := url.Parse(srv.HTTP.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The token endpoint is the test's own token source, not the probe.
		if (r.Header.Get("Authorization") != "" || r.Method != http.MethodGet) && r.URL.Path != "/token" {
			mu.Lock()
			leaked = append(leaked, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	})
	proxy.Start()
	t.Cleanup(proxy.Close)

	rep, err := probe.Run(context.Background(), probe.Options{URL: proxy.URL, Endpoints: endpointsAt(srv.HTTP.URL + "/register"),
		InitialToken: tokenSource(srv, []string{"dcr"}), TokenWithoutDCR: tokenSource(srv, []string{})})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("requests with a credential or a body reached the other origin: %v", leaked)
	}
	c, _ := rep.Check("rfc7592")
	if c.Result != probe.Skipped || !strings.Contains(c.Skipped, "another origin") {
		t.Errorf("rfc7592 = %+v, want skipped naming the other origin", c)
	}
	if len(rep.Registered) != 2 || len(rep.Undeleted) != 2 || !strings.Contains(rep.Undeleted[0].Reason, "another origin") {
		t.Errorf("registered %v, undeleted %+v; want both listed as not deleted, for the other origin", rep.Registered, rep.Undeleted)
	}
}

// countingTransport counts requests and calls at(n) before the n-th.
type countingTransport struct {
	mu   sync.Mutex
	n    int
	at   func(n int)
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	c.at(n)
	return c.base.RoundTrip(r)
}

// TestProbeIsBounded: the request budget and the context end the probe early, and the
// clients it made are deleted all the same.
func TestProbeIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int
		cancel int // cancel the context before this request; 0 = never
		why    string
	}{
		{"budget", 10, 0, "the request budget was spent first"},
		{"context", 0, 14, "the time limit ran out first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := servertest.Start(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ct := &countingTransport{base: http.DefaultTransport, at: func(n int) {
				if n == tc.cancel {
					cancel()
				}
			}}
			rep, err := probe.Run(ctx, probe.Options{URL: srv.HTTP.URL, MaxRequests: tc.budget, HTTPClient: &http.Client{Transport: ct},
				InitialToken: tokenSource(srv, []string{"dcr"}), TokenWithoutDCR: tokenSource(srv, []string{})})
			if err != nil {
				t.Fatal(err)
			}
			skipped := 0
			for _, c := range rep.Checks {
				if strings.Contains(c.Skipped, tc.why) {
					skipped++
				}
			}
			if skipped == 0 || rep.Summary.Skipped != skipped+1 /* protected_resource */ || len(rep.Registered) == 0 || len(rep.Undeleted) != 0 || stateHas(t, srv, probe.NamePrefix) {
				t.Errorf("%d checks skipped with %q; registered %v, undeleted %v; want some skipped, every client deleted",
					skipped, tc.why, rep.Registered, rep.Undeleted)
			}
			if tc.budget > 0 && rep.Requests > tc.budget+len(rep.Registered) {
				t.Errorf("%d requests, want at most %d plus a delete per client", rep.Requests, tc.budget)
			}
		})
	}
}

// TestProbeWithoutAnswersOrToken: a server that answers nothing makes Run fail (with the
// network error); a protected server probed without an initial token is still reported as
// protected, and what needs a client says it needs the token.
func TestProbeWithoutAnswersOrToken(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	dead := hs.URL
	hs.Close()
	rep, err := probe.Run(context.Background(), probe.Options{URL: dead})
	if rep == nil || err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Run against a closed port: report %v, error %v; want a report and an error wrapping ECONNREFUSED", rep != nil, err)
	}

	srv := servertest.Start(t, nil)
	rep, err = probe.Run(context.Background(), probe.Options{URL: srv.HTTP.URL})
	if err != nil {
		t.Fatal(err)
	}
	mode, _ := rep.Check("registration_mode")
	shape, _ := rep.Check("response_shape")
	if mode.Result != probe.Yes || mode.Value != "protected" || shape.Result != probe.Skipped ||
		shape.Skipped != "registration needs an initial access token: none was given" || len(rep.Registered) != 0 {
		t.Errorf("registration_mode %+v, response_shape %+v, registered %v", mode, shape, rep.Registered)
	}
}
