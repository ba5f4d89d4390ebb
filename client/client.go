package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
)

// MaxResponseSize is the largest response body the client reads: 1 MiB. A larger body is an
// error, never silently truncated.
const MaxResponseSize = 1 << 20

// Client talks to an authorization server's discovery, registration (RFC 7591) and
// management (RFC 7592) endpoints. Its zero value is ready to use; it holds no state between
// calls and is safe for concurrent use as long as its fields are not changed.
type Client struct {
	// HTTPClient sends the requests. nil means [NewHTTPClient]'s client: timeouts (30 s per
	// request, 10 s to connect and for the TLS handshake) and the redirect policy of
	// [CheckRedirect]. A client whose CheckRedirect is nil gets that policy too (on a copy);
	// to trace or instrument requests, wrap only the Transport ([HTTPOptions.WrapTransport]).
	HTTPClient *http.Client

	// UserAgent is sent in every request. "" means "dcrctl/<version>", the version of this
	// module as recorded in the binary's build information.
	UserAgent string

	// InsecureAllowHTTP allows plain http:// URLs to hosts other than loopback. Anyone on
	// the network path can then read and change the tokens and secrets that travel over
	// them: use it only on a network you control. Loopback hosts (127.0.0.0/8, [::1],
	// localhost) are always allowed over http, as RFC 8252 §8.3 considers them safe.
	InsecureAllowHTTP bool
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return withRedirectPolicy(c.HTTPClient, c.InsecureAllowHTTP)
	}
	return NewHTTPClient(HTTPOptions{InsecureAllowHTTP: c.InsecureAllowHTTP})
}

var moduleVersion = sync.OnceValue(func() string {
	const mod = "github.com/dcrctl/dcrctl"
	v := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == mod {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == mod {
				v = d.Version
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	return v
})

func (c *Client) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return "dcrctl/" + moduleVersion()
}

// IsLoopback reports whether host (a URL's host name, without port) names the local machine:
// localhost, a *.localhost name, or a loopback address (127.0.0.0/8, ::1). Plain http to such
// hosts is allowed (RFC 8252 §8.3), and callers may treat them as the user's own machine.
func IsLoopback(host string) bool { return isLoopback(host) }

// isLoopback reports whether host (without port) names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkURL enforces https (or http on loopback, or InsecureAllowHTTP).
func (c *Client) checkURL(u *url.URL) error { return checkURL(u, c.InsecureAllowHTTP) }

// checkURL enforces https, or http on loopback or when allowHTTP.
func checkURL(u *url.URL, allowHTTP bool) error {
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && u.Host != "":
		if allowHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("refusing plain http to %s: tokens and secrets would travel unencrypted; use https (http is allowed only for loopback hosts, or with InsecureAllowHTTP)", u.Host)
	default:
		return fmt.Errorf("URL %q is not an absolute https URL", RedactURL(u))
	}
}

// parseURL parses and checks an endpoint URL; what names the URL in messages.
func (c *Client) parseURL(what, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("no %s given", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := c.checkURL(u); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// response is a fully read HTTP response.
type response struct {
	status      int
	contentType string // media type only, lower case; "" when absent or unparsable
	header      http.Header
	body        []byte
}

// do sends a request and reads its whole response through the size limit. token, when not
// empty, is sent as an RFC 6750 §2.1 Bearer token.
func (c *Client) do(ctx context.Context, method string, u *url.URL, token string, body []byte) (*response, error) {
	return c.doIfMatch(ctx, method, u, token, body, "")
}

// doIfMatch is do with an If-Match header (RFC 9110 §13.1.1) when ifMatch is not "".
func (c *Client) doIfMatch(ctx context.Context, method string, u *url.URL, token string, body []byte, ifMatch string) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response from %s: %w", RedactURL(u), err)
	}
	if len(data) > MaxResponseSize {
		return nil, fmt.Errorf("the response from %s is larger than 1 MiB: refusing to read it", RedactURL(u))
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: data}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		r.contentType = strings.ToLower(mt)
	}
	return r, nil
}

// isJSON reports whether the response declares a JSON body.
func (r *response) isJSON() bool {
	return r.contentType == "application/json" || (strings.HasPrefix(r.contentType, "application/") && strings.HasSuffix(r.contentType, "+json"))
}

// checkJSON returns an error unless the response declares a JSON body.
func (r *response) checkJSON() error {
	if r.isJSON() {
		return nil
	}
	ct := r.header.Get("Content-Type")
	if ct == "" {
		ct = "none"
	}
	return fmt.Errorf("the server answered %d with Content-Type %s, want application/json", r.status, ct)
}
