package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// This file is the one home of the HTTP policy shared by this package and package flows:
// the default client's timeouts and the redirect rule.

// MaxRedirects is how many redirects [CheckRedirect] follows for one request.
const MaxRedirects = 5

// HTTPOptions configures [NewHTTPClient].
type HTTPOptions struct {
	// InsecureAllowHTTP lets redirects go to plain http:// URLs on hosts other than
	// loopback; see [Client.InsecureAllowHTTP] for the risk.
	InsecureAllowHTTP bool
	// WrapTransport, when set, wraps the default Transport, for example in a
	// [TraceTransport]. Only the Transport is replaced: timeouts and the redirect policy stay.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// RootCAs, when set, replaces the system's certificate pool for TLS verification (build
	// it from x509.SystemCertPool to add to the system roots). Verification stays on.
	RootCAs *x509.CertPool
}

var defaultTransport = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
})

// NewHTTPClient returns the HTTP client that dcrctl's packages use when given none: 30 s per
// request, 10 s to connect and for the TLS handshake, and the redirect policy of
// [CheckRedirect]. Each call returns a new *http.Client sharing one connection pool.
func NewHTTPClient(o HTTPOptions) *http.Client {
	var rt http.RoundTripper = defaultTransport()
	if o.RootCAs != nil {
		t := defaultTransport().Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		rt = t
	}
	if o.WrapTransport != nil {
		rt = o.WrapTransport(rt)
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       30 * time.Second,
		CheckRedirect: CheckRedirect(o.InsecureAllowHTTP),
	}
}

// CheckRedirect returns the redirect policy, for http.Client.CheckRedirect:
//
//   - only a GET or HEAD is redirected (discovery, JWKS). A redirected POST, PUT or DELETE —
//     a token request with a client_secret_post body, a registration, an RFC 7592 update —
//     is not followed: a 307 or 308 would re-send its body and credentials to the new place,
//     and a 301, 302 or 303 would silently turn it into a GET. The caller gets the error.
//   - at most [MaxRedirects] redirects;
//   - never from https to plain http, and plain http only to loopback hosts unless
//     insecureAllowHTTP (RFC 8252 §8.3);
//   - only to absolute http(s) URLs.
func CheckRedirect(insecureAllowHTTP bool) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if first.Method != http.MethodGet && first.Method != http.MethodHead {
			return fmt.Errorf("the server redirected a %s to %s: not followed, as that would send the request's body and credentials to another place; use the URL the server redirects to, if it is trustworthy", first.Method, RedactURL(req.URL))
		}
		if len(via) >= MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refusing a redirect from https to %s", RedactURL(req.URL))
		}
		return checkURL(req.URL, insecureAllowHTTP)
	}
}

// withRedirectPolicy returns hc, or a copy of it with the redirect policy when hc has none.
func withRedirectPolicy(hc *http.Client, insecureAllowHTTP bool) *http.Client {
	if hc.CheckRedirect != nil {
		return hc
	}
	c := *hc
	c.CheckRedirect = CheckRedirect(insecureAllowHTTP)
	return &c
}

// WithRedirectPolicy returns hc when it has a CheckRedirect of its own, a copy of it with
// [CheckRedirect]'s policy (no plain http except to loopback) when it has none, and
// [NewHTTPClient]'s client when hc is nil. Package flows uses it for every request.
func WithRedirectPolicy(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient(HTTPOptions{})
	}
	return withRedirectPolicy(hc, false)
}
