package flows

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// fixedNow is the clock the flows use in tests, so that Token.Expiry is known.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return fixedNow }

// startServer runs the real testserver over httptest with DefaultConfig changed by mutate,
// and returns its effective config (with generated secrets).
func startServer(t testing.TB, mutate func(*testserver.Config)) (string, testserver.Config) {
	t.Helper()
	ts := servertest.Start(t, mutate)
	return ts.Issuer(), ts.Config
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
