package cmd

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
)

// probeRegistration sends a POST without credentials and without a JSON body: RFC 7591 §3.1
// requires "a content type of application/json", so no server creates a client from it. The
// status says whether the endpoint wants a token.
func probeRegistration(ctx context.Context, g *GlobalOptions, endpoint string) (mode, seen string) {
	hc := g.httpClient()
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && !loopbackHost(u.Hostname())) {
		return "unknown", "not probed: the endpoint is not an https or loopback URL"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(""))
	if err != nil {
		return "unknown", err.Error()
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return "unknown", "probe failed: " + client.RedactError(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	seen = resp.Status
	if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
		scheme, _, _ := strings.Cut(ch, " ")
		seen += ", WWW-Authenticate " + scheme
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "protected", seen
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnsupportedMediaType:
		return "open", seen
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return "disabled", seen
	}
	return "unknown", seen
}
