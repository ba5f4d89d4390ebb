package flows

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
)

// fixedNow is the clock the flows use in tests, so that Token.Expiry is known.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return fixedNow }

// startServer runs the real testserver over httptest with DefaultConfig changed by mutate,
// and returns its effective config (with generated secrets).
func startServer(t testing.TB, mutate func(*testserver.Config)) (string, testserver.Config) {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := testserver.New(cfg)
	if err != nil {
		hs.Close()
		t.Fatalf("testserver.New: %v", err)
	}
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return cfg.Issuer, srv.Config()
}

// counter is an http.RoundTripper that counts requests per path on the way to the real
// transport; it observes, it does not answer.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// startServerB is startServer for benchmarks, with the default configuration.
func startServerB(b *testing.B) (string, testserver.Config) { return startServer(b, nil) }
