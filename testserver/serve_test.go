package testserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveOn runs New(cfg) with Serve on a loopback listener until the test ends.
func serveOn(t *testing.T, mut func(*Config)) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Issuer = "http://" + ln.Addr().String()
	if mut != nil {
		mut(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		srv.Close()
	})
	return srv, ln.Addr().String()
}

// idleConn opens a keep-alive connection, makes one request on it and leaves it idle.
func idleConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /jwks HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return c
}

// TestServeMaxConnsEvictsIdle: with every slot held by an idle keep-alive connection, a new
// client is served at once (an idle connection is closed for it), not after the idle timeout.
func TestServeMaxConnsEvictsIdle(t *testing.T) {
	_, addr := serveOn(t, func(c *Config) { c.MaxConns = 3 })
	for range 3 {
		idleConn(t, addr)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	for i := range 5 {
		res, err := hc.Get("http://" + addr + "/jwks")
		if err != nil {
			t.Fatalf("request %d with every slot idle: %v", i, err)
		}
		res.Body.Close()
	}
	if d := time.Since(start); d > serveIdleTimeout/2 {
		t.Errorf("5 requests took %v with the slots held by idle connections; want well under the idle timeout %v", d, serveIdleTimeout)
	}
}

// TestServeMaxConnsCaps: busy connections (a request in flight) are never closed for new
// ones; past the cap, a client waits in the backlog until one frees a slot.
// TestServeMaxConnsEvictsSilent: connections that never send a request lose their slot to a
// newcomer after a second.
func TestServeMaxConnsEvictsSilent(t *testing.T) {
	_, addr := serveOn(t, func(c *Config) { c.MaxConns = 2 })
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	res, err := hc.Get("http://" + addr + "/jwks")
	if err != nil {
		t.Fatalf("with both slots held by silent connections: %v", err)
	}
	res.Body.Close()
	if d := time.Since(start); d > 3*slowClient {
		t.Errorf("served after %v; want about %v (silent connections are closed after it)", d, slowClient)
	}
}

func TestServeMaxConnsCaps(t *testing.T) {
	_, addr := serveOn(t, func(c *Config) { c.MaxConns = 2 })
	var busy []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /token HTTP/1.1\r\nHost: %s\r\nContent-Length: 10\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n", addr) // body not yet sent
		busy = append(busy, c)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept both
	hc := &http.Client{Timeout: 300 * time.Millisecond}
	_, err := hc.Get("http://" + addr + "/jwks")
	blocked := err != nil && strings.Contains(err.Error(), "Timeout")
	busy[0].Close() // frees a slot
	hc.Timeout = 2 * time.Second
	res, err := hc.Get("http://" + addr + "/jwks")
	if err == nil {
		res.Body.Close()
	}
	if got := [2]bool{blocked, err == nil}; got != [2]bool{true, true} {
		t.Errorf("[third client waited at the cap, served after a slot freed] = %v (%v)", got, err)
	}
}

// TestConnLimiterCloseWakesAccept: an Accept waiting for a slot returns when the listener is
// closed (else Serve would hang on shutdown at the cap).
func TestConnLimiterCloseWakesAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := newConnLimiter(ln, 1)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held, err := lim.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	c2, err := net.Dial("tcp", ln.Addr().String()) // waits for the slot held above
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	done := make(chan error, 1)
	go func() { _, err := lim.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	lim.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept = %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still waiting 2s after Close")
	}
}
