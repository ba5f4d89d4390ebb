package cimd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"time"
)

// FetchTimeout bounds a fetch whose context and client have no shorter limit.
const FetchTimeout = 5 * time.Second

// Result is a fetched and checked document.
type Result struct {
	// Document is nil when nothing usable came back (a URL, status or body problem).
	Document *Document
	Problems Problems
	// StatusCode and Header are the response's (for caching, RFC 9111); 0 and nil when the
	// URL was refused before any request.
	StatusCode int
	Header     http.Header
}

// Fetch GETs the document at clientID with hc (nil: a client with FetchTimeout) and checks
// it. It does not follow redirects (§5: "The authorization server MUST NOT automatically
// follow HTTP redirects"), treats any status but 200 as a problem (§5: "MUST treat all other
// HTTP status codes as an error response") and reads at most MaxSize bytes (§8.7). A URL
// that breaks §3 is not fetched. The error is for no response at all (DNS, connection, TLS,
// timeout); what came back and is wrong is in Result.Problems.
func Fetch(ctx context.Context, hc *http.Client, clientID string) (*Result, error) {
	if ps := CheckURL(clientID, ""); ps.Err() != nil {
		return &Result{Problems: ps}, nil
	}
	c := http.Client{Timeout: FetchTimeout}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	var remote net.Addr // the address the response came from
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { remote = i.Conn.RemoteAddr() }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, fmt.Errorf("cimd: fetch %s: %w", clientID, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cimd: fetch %s: %w", clientID, err)
	}
	defer resp.Body.Close()
	res := &Result{StatusCode: resp.StatusCode, Header: resp.Header}
	defer func() { res.Problems = append(addressWarning(remote), res.Problems...) }()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Problems = Problems{problem("", "§5", "the server answered %s, redirecting to %q: redirects are not followed; serve the document at the client_id URL itself", resp.Status, resp.Header.Get("Location"))}
	case resp.StatusCode != http.StatusOK:
		res.Problems = Problems{problem("", "§5", "the server answered %s, not 200 OK", resp.Status)}
	default:
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
		if err != nil {
			return nil, fmt.Errorf("cimd: fetch %s: read the body: %w", clientID, err)
		}
		res.Document, res.Problems = Check(body, Source{URL: clientID, ContentType: resp.Header.Get("Content-Type"), Fetched: true})
	}
	return res, nil
}

// addressWarning warns when the document came from a special-use address (§8.6), which
// authorization servers refuse to fetch from (or allow only in tests on one machine).
func addressWarning(remote net.Addr) Problems {
	ap, err := netip.ParseAddrPort(fmt.Sprint(remote))
	if remote == nil || err != nil || !SpecialUse(ap.Addr()) {
		return nil
	}
	return Problems{warning("", "§8.6", "the document came from %s, a special-use address (private, loopback, link-local, …): authorization servers refuse to fetch from it, except test servers on the same machine", ap.Addr().Unmap())}
}

// Supported reports whether authorization server metadata (its members, as raw JSON)
// advertises client_id_metadata_document_supported: true (§6).
func Supported(members map[string]json.RawMessage) bool {
	var b bool
	return json.Unmarshal(members["client_id_metadata_document_supported"], &b) == nil && b
}
