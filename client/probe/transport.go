package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/dcrctl/dcrctl/client"
)

// ErrBudget is wrapped by the error of a request refused because the probe has sent
// Options.MaxRequests requests already.
var ErrBudget = errors.New("the probe's request budget is spent")

// errOtherOrigin is returned for a request that would carry a credential to an origin other
// than the registration endpoint's.
var errOtherOrigin = errors.New("not sent: the request would carry a token or a secret to another origin than the registration endpoint's")

// guard is the probe's RoundTripper, around the Transport of client.NewHTTPClient's client
// (or the caller's). It
//   - counts requests and refuses those past the budget (the clean-up deletes excepted, so
//     that every client the probe made can still be deleted);
//   - refuses a request carrying an Authorization header or a body (a token, a client
//     secret) to any origin but the registration endpoint's;
//   - records the status, headers and body of a response for a caller that asked for it
//     with capture.
type guard struct {
	base http.RoundTripper

	mu       sync.Mutex
	n, max   int
	answered int    // responses received
	first    error  // the first transport error, when nothing answered
	origin   string // scheme://host of the registration endpoint; "" until it is known
}

// silence returns the first transport error when no request got an answer at all.
func (g *guard) silence() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered > 0 {
		return nil
	}
	return g.first
}

func (g *guard) setOrigin(u string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.origin = origin(u)
}

func (g *guard) sent() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

func (g *guard) spent() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n >= g.max
}

// origin is scheme://host of a URL, lower case; "" for an unparsable one.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

type ctxKey int

const (
	captureKey ctxKey = iota
	cleanupKey
)

// exchange is what the guard recorded of a response.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// capture returns a context whose requests' responses are recorded in the returned exchange
// (the last one, when redirects were followed).
func capture(ctx context.Context) (context.Context, *exchange) {
	x := &exchange{}
	return context.WithValue(ctx, captureKey, x), x
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	carries := req.Header.Get("Authorization") != "" || (req.Body != nil && req.Body != http.NoBody)
	cleanup := req.Context().Value(cleanupKey) != nil
	g.mu.Lock()
	switch {
	case carries && (g.origin == "" || origin(req.URL.String()) != g.origin):
		g.mu.Unlock()
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, client.RedactURL(req.URL), errOtherOrigin)
	case g.n >= g.max && !cleanup:
		g.mu.Unlock()
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s: %w (%d requests)", req.Method, client.RedactURL(req.URL), ErrBudget, g.max)
	}
	g.n++
	g.mu.Unlock()
	resp, err := g.base.RoundTrip(req)
	g.mu.Lock()
	if err == nil {
		g.answered++
	} else if g.first == nil {
		g.first = err
	}
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if x, ok := req.Context().Value(captureKey).(*exchange); ok {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, client.MaxResponseSize+1))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		*x = exchange{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
	}
	return resp, nil
}

// httpClients returns the probe's two HTTP clients around one guard: the first with the
// redirect policy of package client (client.CheckRedirect), the second following no
// redirect at all, for authorization requests, whose redirect is the answer to read.
func httpClients(base *http.Client, g *guard) (*http.Client, *http.Client) {
	var hc *http.Client
	if base == nil {
		hc = client.NewHTTPClient(client.HTTPOptions{WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			g.base = rt
			return g
		}})
	} else {
		c := *client.WithRedirectPolicy(base)
		g.base = c.Transport
		if g.base == nil {
			g.base = http.DefaultTransport
		}
		c.Transport = g
		hc = &c
	}
	nr := *hc
	nr.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	nr.Jar = nil // no cookies: nothing of a login session is kept or sent
	return hc, &nr
}
