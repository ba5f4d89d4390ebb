package bench

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
)

// noResponse is the status key of a request that got no HTTP answer.
const noResponse = "no_response"

// stepStats accumulates one step's outcomes.
type stepStats struct {
	requests, errors int64
	hist             Histogram
	byStatus         map[string]int64
	byCode           map[string]int64
	firstError       string
}

func (s *stepStats) merge(o *stepStats) {
	s.requests += o.requests
	s.errors += o.errors
	s.hist.Merge(&o.hist)
	for k, v := range o.byStatus {
		s.byStatus = inc(s.byStatus, k, v)
	}
	for k, v := range o.byCode {
		s.byCode = inc(s.byCode, k, v)
	}
	if s.firstError == "" {
		s.firstError = o.firstError
	}
}

func inc(m map[string]int64, k string, v int64) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[k] += v
	return m
}

// shard is one worker's statistics, locked only against the progress reader.
type shard struct {
	mu        sync.Mutex
	steps     map[Step]*stepStats
	completed int64 // installations whose every step succeeded
	failed    int64 // installations stopped by an error
	created   []*created
}

// created is a client the run registered.
type created struct {
	reg     *client.Registration
	deleted bool
}

func newShard(steps []Step) *shard {
	s := &shard{steps: map[Step]*stepStats{}}
	for _, st := range steps {
		s.steps[st] = &stepStats{}
	}
	return s
}

// record adds one request's outcome: its latency when the server answered, and its error.
func (s *shard) record(step Step, lat time.Duration, err error) {
	status, code := classify(err)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.steps[step]
	st.requests++
	if status != noResponse {
		st.hist.Record(lat)
	}
	if err == nil {
		return
	}
	st.errors++
	st.byStatus = inc(st.byStatus, status, 1)
	if code != "" {
		st.byCode = inc(st.byCode, code, 1)
	}
	if st.firstError == "" {
		st.firstError = err.Error()
	}
}

// classify returns the HTTP status of a failed request ("" for success, noResponse when
// there was no answer) and its OAuth error code ("" when none).
func classify(err error) (status, code string) {
	if err == nil {
		return "", ""
	}
	var we *wireError
	if errors.As(err, &we) {
		return strconv.Itoa(we.status), we.code
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return strconv.Itoa(ce.StatusCode), ce.Code
	}
	var fe *flows.Error
	if errors.As(err, &fe) && fe.StatusCode != 0 {
		return strconv.Itoa(fe.StatusCode), fe.Code
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return noResponse, "canceled"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return noResponse, "timeout"
	}
	return noResponse, ""
}

// unanswered reports whether the request got no answer (cancelled or timed out in flight),
// so that the server may have acted on it unseen.
func unanswered(err error) bool {
	status, _ := classify(err)
	return status == noResponse
}
