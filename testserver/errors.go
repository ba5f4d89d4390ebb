package testserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Error is a protocol error: an HTTP status and an OAuth error code (RFC 6749 §5.2,
// RFC 7591 §3.2.2, RFC 6750 §3.1, RFC 8628 §3.5) with a description that names the cause and
// the fix. Handlers return it; writeError turns it into a response.
type Error struct {
	Status      int
	Code        string // "" for a 401 without credentials (RFC 6750 §3.1: no error code)
	Description string
	// Challenge is the WWW-Authenticate scheme for a 401: "Bearer" or "Basic".
	Challenge string
	// ChallengeParams are more auth-params of the challenge, e.g. resource_metadata="…"
	// (RFC 9728 §5.1).
	ChallengeParams string
}

// Error describes the protocol error for logs and wrapping; it carries no secrets.
func (e *Error) Error() string {
	return fmt.Sprintf("testserver: %d %s: %s", e.Status, e.Code, e.Description)
}

// Is matches another *Error with the same Code, so errors.Is(err, &Error{Code: "invalid_grant"}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, code, format, args...)
}

// writeError is the one place protocol errors are written. Anything that is not an *Error is
// an internal failure: it is logged and answered with a generic server_error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	pe := s.protocolError(r, err)
	h := w.Header()
	if pe.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
	}
	if pe.Challenge != "" {
		// RFC 6750 §3: a 401 MUST include WWW-Authenticate; without credentials, no error code.
		c := pe.Challenge + ` realm="` + quoteParam(s.issuer) + `"`
		if pe.ChallengeParams != "" {
			c += ", " + pe.ChallengeParams
		}
		if pe.Code != "" {
			c += `, error="` + pe.Code + `", error_description="` + quoteParam(pe.Description) + `"`
		}
		h.Set("WWW-Authenticate", c)
	}
	body := map[string]string{"error_description": pe.Description}
	if pe.Code != "" {
		body["error"] = pe.Code
	}
	writeJSON(w, pe.Status, body)
}

// retryAfter is the Retry-After (seconds) of a 503 for a storage fault.
const retryAfter = "5"

// protocolError is err as the protocol error to answer with. A storage fault
// (errUnavailable: disk full, database read-only or missing) is 503 temporarily_unavailable;
// anything else that is not an *Error is an internal failure, logged and answered with a
// generic server_error.
func (s *Server) protocolError(r *http.Request, err error) *Error {
	var pe *Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, errUnavailable):
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "storage unavailable", slog.String("path", requestPath(r)), slog.String("error", err.Error()))
		// RFC 6749 §4.1.2.1 names temporarily_unavailable; RFC 9110 §15.6.4: 503 with
		// Retry-After for a condition that passes.
		return &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the server cannot write to its database right now (disk full, read-only or missing); reads still work: retry after " + retryAfter + " seconds"}
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("path", requestPath(r)), slog.String("error", err.Error()))
	return &Error{Status: http.StatusInternalServerError, Code: "server_error",
		Description: "the server failed to process the request; the server log has the details"}
}

// quoteParam makes s safe inside a quoted auth-param (RFC 7235 quoted-string, and RFC 6750
// restricts error_description to %x20-21 / %x23-5B / %x5D-7E).
func quoteParam(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteRune(c)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// writeJSON writes v with the no-cache headers every response here carries (RFC 6749 §5.1,
// RFC 7591 §3.2.1: Cache-Control: no-store, Pragma: no-cache).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"response encoding failed"}`)
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON is writeJSON for an already encoded body.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// encodeObject encodes a JSON object with sorted keys from values that are already valid,
// compact JSON (cheaper than json.Marshal, which re-validates every value).
func encodeObject(fields map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(fields))
	n := 2
	for k, v := range fields {
		keys = append(keys, k)
		n += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	b := make([]byte, 0, n+8)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = append(b, fields[k]...)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>Authorization error</h1>
<p>The authorization request cannot be completed, and the application's redirect URI cannot be
trusted, so the error is shown here (RFC 6749 §4.1.2.1).</p>
<p><strong>{{.Code}}</strong>: {{.Description}}</p></body></html>
`))

// writeErrorPage shows a protocol error to the person in the browser.
func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	pe := s.protocolError(r, err)
	if n := errorNote(r); n != nil {
		n.err = pe // for the debugger's exchange log
	}
	h := w.Header()
	if pe.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(pe.Status)
	errorPage.Execute(w, pe)
}
