package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// redacted replaces every secret in the --verbose trace.
const redacted = "[REDACTED]"

// maxTraceBody is how much of a redacted body the trace shows.
const maxTraceBody = 4 << 10

// sensitiveNames are JSON members, form fields and query parameters whose values are secrets:
// credentials, tokens, authorization and device codes, passwords, PKCE verifiers, private JWK
// members.
var sensitiveNames = map[string]bool{
	"client_secret": true, "registration_access_token": true, "initial_access_token": true,
	"access_token": true, "refresh_token": true, "id_token": true, "token": true,
	"subject_token": true, "actor_token": true, "assertion": true, "client_assertion": true,
	"code": true, "device_code": true, "user_code": true, "code_verifier": true,
	"password": true, "csrf_token": true,
	// private members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1)
	"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "k": true,
}

// sensitiveHeaders are headers whose whole value is a secret.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Dpop": true,
}

// traceTransport is an http.RoundTripper that writes a redacted trace of every exchange to
// Out: method, URL, status, timing, headers and JSON or form bodies, with every secret —
// Authorization, cookies, client secrets, tokens, codes, passwords — replaced by [REDACTED].
type traceTransport struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	Out  io.Writer

	mu sync.Mutex // serialises writes to Out
}

// RoundTrip sends req through Base and traces it.
func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, redactURL(req.URL))
	writeHeaders(&b, "> ", req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20+1))
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
		fmt.Fprintf(&b, "< error after %s: %v\n", elapsed, redactError(err))
		t.write(b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "< %s (%s)\n", resp.Status, elapsed)
	writeHeaders(&b, "< ", resp.Header)
	if resp.Body != nil && req.Method != http.MethodHead {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
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

func (t *traceTransport) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.Out, s)
}

// redactError keeps a transport error's text; url.Error carries the URL, whose query may hold a
// code, so it is redacted too.
func redactError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return fmt.Sprintf("%s %s: %v", ue.Op, redactURL(u), ue.Err)
		}
	}
	return err.Error()
}

// redactURL returns u with sensitive query parameters and any user info replaced.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED") // brackets would be escaped
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = redacted
		} else {
			redactValues(q)
			c.RawQuery = encodeQueryKeepingRedacted(q)
		}
	}
	c.Fragment = ""
	return c.String()
}

func encodeQueryKeepingRedacted(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), url.QueryEscape(redacted), redacted)
}

func redactValues(q url.Values) {
	for k, vs := range q {
		if sensitiveNames[strings.ToLower(k)] {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			switch {
			case sensitiveHeaders[http.CanonicalHeaderKey(k)]:
				if scheme, _, ok := strings.Cut(v, " "); ok && (k == "Authorization" || k == "Proxy-Authorization") {
					v = scheme + " " + redacted
				} else {
					v = redacted
				}
			case k == "Location" || k == "Content-Location":
				if u, err := url.Parse(v); err == nil {
					v = redactURL(u)
				} else {
					v = redacted
				}
			case k == "Www-Authenticate":
				// Challenges carry no secrets (RFC 6750 §3): realm, error, scope.
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
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
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			fmt.Fprintf(b, "%s(%d bytes of malformed JSON, not shown)\n", prefix, len(body))
			return
		}
		out, err := json.Marshal(redactJSON(v))
		if err != nil {
			return
		}
		shown = string(out)
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			fmt.Fprintf(b, "%s(%d bytes of malformed form data, not shown)\n", prefix, len(body))
			return
		}
		redactValues(q)
		shown = encodeQueryKeepingRedacted(q)
	default:
		fmt.Fprintf(b, "%s(%d bytes of %s, not shown)\n", prefix, len(body), orNone(mt))
		return
	}
	if len(shown) > maxTraceBody {
		shown = shown[:maxTraceBody] + fmt.Sprintf("… (%d more bytes)", len(shown)-maxTraceBody)
	}
	fmt.Fprintf(b, "%s%s\n", prefix, shown)
}

// redactJSON replaces the values of sensitive members at any depth.
func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if sensitiveNames[strings.ToLower(k)] {
				x[k] = redacted
			} else {
				x[k] = redactJSON(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i])
		}
	}
	return v
}
