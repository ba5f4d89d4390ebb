package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxTraceBody is how much of a redacted body the trace shows.
const maxTraceBody = 4 << 10

// TraceTransport is an http.RoundTripper that writes a redacted trace of every exchange to
// Out: method, URL, status, timing, headers, and JSON or form bodies, with every secret that
// [IsSecretMember], [RedactHeader] and [RedactURL] know of replaced by [Redacted]. Other
// bodies are only measured. Install it with [HTTPOptions.WrapTransport], so that the
// redirect policy and the timeouts stay those of [NewHTTPClient]:
//
//	hc := client.NewHTTPClient(client.HTTPOptions{WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
//		return &client.TraceTransport{Base: rt, Out: os.Stderr}
//	}})
type TraceTransport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Out receives the trace, one whole exchange per write.
	Out io.Writer

	mu sync.Mutex // serialises writes to Out
}

// RoundTrip sends req through Base and traces it.
func (t *TraceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, RedactURL(req.URL))
	writeHeaders(&b, "> ", req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(req.Body, MaxResponseSize+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		clone := req.Clone(req.Context())
		clone.Body = io.NopCloser(bytes.NewReader(body))
		clone.ContentLength = int64(len(body))
		req = clone
		writeBody(&b, "> ", req.Header.Get("Content-Type"), body)
	}
	start := time.Now()
	resp, err := base.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(&b, "< error after %s: %s\n", elapsed, RedactError(err))
		t.write(b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "< %s (%s)\n", resp.Status, elapsed)
	writeHeaders(&b, "< ", resp.Header)
	if resp.Body != nil && req.Method != http.MethodHead {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		if rerr == nil {
			writeBody(&b, "< ", resp.Header.Get("Content-Type"), body)
		}
	}
	t.write(b.String())
	return resp, nil
}

func (t *TraceTransport) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.Out, s)
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	for _, k := range slices.Sorted(mapKeys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, RedactHeader(k, v))
		}
	}
}

// writeBody writes a redacted JSON or form body; other bodies are only measured.
func writeBody(b *strings.Builder, prefix, contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var shown string
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var c bytes.Buffer
		if err := json.Compact(&c, body); err != nil {
			fmt.Fprintf(b, "%s(%d bytes of malformed JSON, not shown)\n", prefix, len(body))
			return
		}
		shown = string(RedactJSON(c.Bytes()))
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			fmt.Fprintf(b, "%s(%d bytes of malformed form data, not shown)\n", prefix, len(body))
			return
		}
		RedactValues(q)
		shown = encodeKeepingRedacted(q)
	default:
		mt = strings.TrimSpace(mt)
		if mt == "" {
			mt = "no declared type"
		}
		fmt.Fprintf(b, "%s(%d bytes of %s, not shown)\n", prefix, len(body), mt)
		return
	}
	if len(shown) > maxTraceBody {
		shown = shown[:maxTraceBody] + fmt.Sprintf("… (%d more bytes)", len(shown)-maxTraceBody)
	}
	fmt.Fprintf(b, "%s%s\n", prefix, shown)
}
