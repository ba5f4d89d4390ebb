package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// steps records what a command is waiting for — the HTTP request in flight, a person's login
// or approval — so that Ctrl-C or --timeout can say which step it stopped, and what that
// means (for register: whether anything was registered). A nil *steps records nothing.
type steps struct {
	mu      sync.Mutex
	waits   []string        // what the command waits for now, innermost last
	sent    map[string]bool // "METHOD URL" of every request started
	stopped string          // the innermost step that ended with its context done
	outcome string          // what the interruption leaves behind, set by the command
}

// wait records that the command now waits for what (inside what it waited for already);
// done ends it, remembering it when ctx ended it.
func (s *steps) wait(ctx context.Context, what string) (done func()) {
	if s == nil {
		return func() {}
	}
	s.mu.Lock()
	s.waits = append(s.waits, what)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if i := slices.Index(s.waits, what); i >= 0 {
			s.waits = slices.Delete(s.waits, i, i+1)
		}
		if ctx.Err() != nil && s.stopped == "" {
			s.stopped = what
		}
	}
}

// setOutcome says what an interruption from now on leaves behind.
func (s *steps) setOutcome(o string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.outcome = o
	s.mu.Unlock()
}

// started reports whether a request method url was started.
func (s *steps) started(method, url string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[method+" "+url]
}

// transport wraps rt so that every request is a step.
func (s *steps) transport(rt http.RoundTripper) http.RoundTripper {
	if s == nil {
		return rt
	}
	return stepTransport{s: s, base: rt}
}

type stepTransport struct {
	s    *steps
	base http.RoundTripper
}

func (t stepTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil // never a secret in the message
	key := r.Method + " " + u.String()
	t.s.mu.Lock()
	if t.s.sent == nil {
		t.s.sent = map[string]bool{}
	}
	t.s.sent[key] = true
	t.s.mu.Unlock()
	defer t.s.wait(r.Context(), "the answer to "+key)()
	return t.base.RoundTrip(r)
}

// interrupted explains an error caused by Ctrl-C or --timeout: which step it stopped, and
// what that leaves behind. Other errors are returned as they are.
func (g *GlobalOptions) interrupted(err error) error {
	var what string
	switch {
	case errors.Is(err, context.Canceled):
		what = "interrupted"
	case errors.Is(err, context.DeadlineExceeded) && g.Timeout > 0:
		what = fmt.Sprintf("--timeout %s ran out", g.Timeout)
	default:
		return err
	}
	s := g.steps
	if s == nil {
		return &adviceError{err: err, advice: what}
	}
	s.mu.Lock()
	current := s.stopped
	if n := len(s.waits); current == "" && n > 0 {
		current = s.waits[n-1]
	}
	outcome := s.outcome
	s.mu.Unlock()
	if current != "" {
		what += " while waiting for " + current
	}
	if outcome != "" {
		what += "; " + outcome
	}
	return &adviceError{err: err, advice: what}
}
