package testserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dcrctl/dcrctl/client/cimd"
)

// Cache lifetimes of a fetched document (draft §5.2: the server "SHOULD respect HTTP cache
// headers [RFC9111] ... but MAY define its own upper and/or lower bounds").
const (
	cimdDefaultTTL   = 5 * time.Minute // a response that says nothing
	cimdMaxTTL       = 24 * time.Hour  // the longest any response is kept
	cimdDefaultCache = 1000            // documents kept at most
)

// cimdFetcher fetches Client ID Metadata Documents for the server, and only them: https only
// (the URL rules of package cimd), no proxy, no redirects, at most cimd.MaxSize bytes, within
// the timeout, and never from a special-use address — checked on the address actually
// dialled, after DNS resolution, so that a name resolving to 10.0.0.1 is refused as the
// literal is. Valid documents are cached within their HTTP freshness lifetime.
type cimdFetcher struct {
	hc    *http.Client
	now   func() time.Time
	limit int

	mu       sync.Mutex
	cache    map[string]*cimdEntry
	inflight map[string]*cimdCall // one fetch per URL at a time; the others wait for it
}

// cimdCall is a fetch under way; done is closed when doc and err are set.
type cimdCall struct {
	done    chan struct{}
	entry   *cimdEntry
	err     error
	waiters int // requests sharing it besides the first (tests)
}

// cimdEntry is a checked document, with the client the server made of it (built once).
type cimdEntry struct {
	doc     *cimd.Document
	expires time.Time
	client  atomic.Pointer[client]
}

func newCIMDFetcher(c CIMD, now func() time.Time) *cimdFetcher {
	timeout := cimd.FetchTimeout
	if c.Timeout > 0 && c.Timeout < timeout {
		timeout = c.Timeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: addressControl(c.AllowLoopback)}
	t := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address check
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	limit := c.CacheSize
	if limit <= 0 {
		limit = cimdDefaultCache
	}
	return &cimdFetcher{hc: &http.Client{Transport: t, Timeout: timeout}, now: now, limit: limit,
		cache: map[string]*cimdEntry{}, inflight: map[string]*cimdCall{}}
}

// close drops idle connections to document servers.
func (f *cimdFetcher) close() { f.hc.CloseIdleConnections() }

// document returns the checked document at id: cached while fresh, else fetched — once for
// all the requests that want it at the same time. Every failure is an *Error invalid_client
// naming the cause.
func (f *cimdFetcher) document(ctx context.Context, id string) (*cimdEntry, error) {
	if e := f.cached(id); e != nil {
		return e, nil
	}
	f.mu.Lock()
	if c, ok := f.inflight[id]; ok {
		c.waiters++
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.entry, c.err
		case <-ctx.Done():
			return nil, cimdInvalid(id, "could not be fetched: %s", fetchReason(ctx.Err(), f.hc.Timeout))
		}
	}
	c := &cimdCall{done: make(chan struct{})}
	f.inflight[id] = c
	f.mu.Unlock()
	// The fetch is the server's, not this request's: a client that goes away does not fail
	// the others waiting for it (the fetch has its own time limit).
	c.entry, c.err = f.fetch(context.WithoutCancel(ctx), id)
	f.mu.Lock()
	delete(f.inflight, id)
	f.mu.Unlock()
	close(c.done)
	return c.entry, c.err
}

func (f *cimdFetcher) fetch(ctx context.Context, id string) (*cimdEntry, error) {
	res, err := cimd.Fetch(ctx, f.hc, id)
	if err != nil {
		return nil, cimdInvalid(id, "could not be fetched: %s", fetchReason(err, f.hc.Timeout))
	}
	if errs := res.Problems.Errors(); len(errs) > 0 {
		// §5.2: "MUST NOT cache error responses ... MUST NOT cache documents which are invalid".
		return nil, cimdInvalid(id, "is not valid: %s; check it with dcrctl cimd check %s", errs[0], id)
	}
	e := &cimdEntry{doc: res.Document, expires: f.now().Add(cacheLifetime(res.Header, f.now()))}
	f.store(id, e)
	return e, nil
}

// addressError is a dial refused before connecting: the address is special-use.
type addressError struct{ addr netip.Addr }

func (e *addressError) Error() string {
	return fmt.Sprintf("%s is a special-use address (RFC 6890)", e.addr)
}

// fetchReason says why no response came, without more detail than the user needs.
func fetchReason(err error, timeout time.Duration) string {
	var ae *addressError
	var ne net.Error
	var dns *net.DNSError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &ae):
		return fmt.Sprintf("its host is at %s, a private, loopback, link-local or other special-use address, which this server never fetches from (draft §8.6)", ae.addr)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no complete answer within %s", timeout)
	case errors.As(err, &dns):
		return "its host name does not resolve"
	case errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn):
		return "its TLS certificate is not trusted by this server"
	}
	return "the connection failed"
}

// addressControl is the dialer's Control: it runs for every address tried, after DNS
// resolution and before the connection is made, and refuses special-use addresses (§8.6:
// "MUST NOT fetch a Client ID Metadata Document URL ... that resolve[s] to special-use IP
// addresses as defined in [RFC6890]"), loopback too unless allowLoopback.
func addressControl(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("dial %s: not an IP address", address)
		}
		ip = ip.Unmap().WithZone("")
		if allowLoopback && ip.IsLoopback() {
			return nil
		}
		if cimd.SpecialUse(ip) {
			return &addressError{ip}
		}
		return nil
	}
}

func (f *cimdFetcher) cached(id string) *cimdEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[id]
	if !ok || !f.now().Before(e.expires) {
		delete(f.cache, id)
		return nil
	}
	return e
}

// store keeps e until it expires (one already expired is not kept). The cache is bounded: at
// the limit, expired entries go first, then the one that expires soonest.
func (f *cimdFetcher) store(id string, e *cimdEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if !now.Before(e.expires) {
		return
	}
	if _, ok := f.cache[id]; !ok && len(f.cache) >= f.limit {
		soonest := ""
		for k, e := range f.cache {
			if !now.Before(e.expires) {
				delete(f.cache, k)
			} else if soonest == "" || e.expires.Before(f.cache[soonest].expires) {
				soonest = k
			}
		}
		if len(f.cache) >= f.limit {
			delete(f.cache, soonest)
		}
	}
	f.cache[id] = e
}

// cacheLifetime is the response's freshness lifetime (RFC 9111 §4.2.1) minus its Age
// (§4.2.3), within [0, cimdMaxTTL]: no-store and no-cache mean 0 (no-cache would need a
// revalidation on every use, which is a fetch); max-age wins over Expires; a response with
// neither gets cimdDefaultTTL. An invalid max-age or Expires means stale (0).
func cacheLifetime(h http.Header, now time.Time) time.Duration {
	ttl, explicit := time.Duration(0), false
	for _, d := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
		switch name {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || n < 0 {
				return 0
			}
			ttl, explicit = time.Duration(min(n, int64(cimdMaxTTL/time.Second)))*time.Second, true
		}
	}
	if !explicit && h.Get("Expires") != "" {
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		ttl, explicit = exp.Sub(date), true
	}
	if !explicit {
		ttl = cimdDefaultTTL
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
		ttl -= time.Duration(min(age, int64(cimdMaxTTL/time.Second))) * time.Second
	}
	return min(max(ttl, 0), cimdMaxTTL)
}
