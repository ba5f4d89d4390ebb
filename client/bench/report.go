package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Report is the result of a run. Its JSON form is what `dcrctl bench -o json` prints;
// durations are in milliseconds, rates per second.
type Report struct {
	Issuer      string    `json:"issuer"`
	Steps       []Step    `json:"steps"`
	Mode        string    `json:"mode"` // "closed" (Concurrency) or "open" (Rate)
	Concurrency int       `json:"concurrency"`
	Rate        float64   `json:"rate,omitempty"`
	Started     time.Time `json:"started"`
	ElapsedSec  float64   `json:"elapsed_seconds"`
	// StoppedBy is the first bound reached: installs, duration, max_requests, interrupted
	// or error (then Error says why).
	StoppedBy         string       `json:"stopped_by"`
	Error             string       `json:"error,omitempty"`
	Installs          Installs     `json:"installs"`
	Requests          int64        `json:"requests"`
	Errors            int64        `json:"errors"`
	RequestsPerSecond float64      `json:"requests_per_second"`
	Results           []StepResult `json:"step_results"`
	Cleanup           Cleanup      `json:"cleanup"`
}

// Installs counts installations.
type Installs struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"` // every step succeeded
	Failed    int64 `json:"failed"`    // a step failed; the rest were not played
	// Incomplete installations were stopped by a bound between two steps.
	Incomplete int64   `json:"incomplete"`
	PerSecond  float64 `json:"per_second"` // completed installations per second
}

// StepResult is one step's measurements.
type StepResult struct {
	Step      Step    `json:"step"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"per_second"` // requests per second over the whole run
	// Latency of the answered requests (errors included), in milliseconds.
	Latency Latency `json:"latency_ms"`
	// ErrorsByStatus counts failed requests by HTTP status ("429"), or "no_response"
	// (timeout, connection failure, cancelled); ErrorsByCode by OAuth error code.
	ErrorsByStatus map[string]int64 `json:"errors_by_status,omitempty"`
	ErrorsByCode   map[string]int64 `json:"errors_by_code,omitempty"`
	FirstError     string           `json:"first_error,omitempty"`
	// Histogram has four bins per doubling of latency (each ends about 19 % above the
	// previous), from the run's fastest to its slowest answer over all steps (the same bins
	// for every step).
	Histogram []HistogramBin `json:"histogram"`
}

// Latency summarises a step's latency in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// HistogramBin counts the requests with latency above the previous bin's bound and at most
// UpToMS milliseconds.
type HistogramBin struct {
	UpToMS float64 `json:"up_to_ms"`
	Count  uint64  `json:"count"`
}

// Cleanup says what became of the registered clients.
type Cleanup struct {
	Registered int64 `json:"registered"`
	// DeletedByStep were deleted by the delete step, Deleted afterwards by the cleanup.
	DeletedByStep int64 `json:"deleted_by_step"`
	Deleted       int64 `json:"deleted"`
	// Kept lists the client ids left on purpose (Config.Keep).
	Kept []string `json:"kept,omitempty"`
	// Failed lists the clients that could not be deleted, and why.
	Failed []FailedClient `json:"failed,omitempty"`
	// Unconfirmed counts registrations cancelled or timed out without an answer: the server
	// may have created a client the run cannot know about.
	Unconfirmed int64 `json:"unconfirmed"`
}

// FailedClient is a registered client the cleanup could not delete.
type FailedClient struct {
	ClientID string `json:"client_id"`
	Error    string `json:"error"`
}

// Progress is a snapshot during the run.
type Progress struct {
	Elapsed           time.Duration
	Requests, Errors  int64
	Completed         int64 // installations
	RequestsPerSecond float64
	P99               time.Duration // over every step so far
}

// String is a one-line progress display.
func (p Progress) String() string {
	return fmt.Sprintf("%6.1fs  %d requests (%.0f/s)  %d errors  %d installations  p99 %s",
		p.Elapsed.Seconds(), p.Requests, p.RequestsPerSecond, p.Errors, p.Completed, fmtDur(p.P99))
}

// merged returns the statistics of every shard, per step, and the installation counts.
func (e *engine) merged() (map[Step]*stepStats, Installs) {
	all := map[Step]*stepStats{}
	for _, st := range e.cfg.Steps {
		all[st] = &stepStats{}
	}
	var in Installs
	for _, s := range e.shards {
		s.mu.Lock()
		for st, v := range s.steps {
			all[st].merge(v)
		}
		in.Completed += s.completed
		in.Failed += s.failed
		s.mu.Unlock()
	}
	in.Started = e.started.Load()
	in.Incomplete = in.Started - in.Completed - in.Failed
	return all, in
}

// progressLoop calls Config.Progress every interval until the returned func is called.
func (e *engine) progressLoop() (stop func()) {
	if e.cfg.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(e.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				e.cfg.Progress(e.progress())
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

func (e *engine) progress() Progress {
	steps, in := e.merged()
	var all stepStats
	for _, s := range steps {
		all.merge(s)
	}
	el := time.Since(e.start)
	return Progress{Elapsed: el, Requests: all.requests, Errors: all.errors, Completed: in.Completed,
		RequestsPerSecond: float64(all.requests) / el.Seconds(), P99: all.hist.Quantile(0.99)}
}

// report assembles the Report.
func (e *engine) report(elapsed time.Duration, cl Cleanup) *Report {
	steps, in := e.merged()
	sec := elapsed.Seconds()
	in.PerSecond = float64(in.Completed) / sec
	r := &Report{Issuer: e.cfg.Issuer, Steps: e.cfg.Steps, Mode: "closed", Concurrency: e.cfg.Concurrency,
		Started: e.start.UTC(), ElapsedSec: sec, StoppedBy: e.stoppedBy, Installs: in, Cleanup: cl}
	if e.cfg.Rate > 0 {
		r.Mode, r.Rate = "open", e.cfg.Rate
	}
	if e.fatal != nil {
		r.Error = e.fatal.Error()
	}
	lo, hi, seen := 1<<30, 0, false
	for _, s := range steps {
		if l, h, ok := s.hist.span(); ok {
			lo, hi, seen = min(lo, l), max(hi, h), true
		}
	}
	for _, st := range e.cfg.Steps {
		s := steps[st]
		h := &s.hist
		res := StepResult{Step: st, Requests: s.requests, Errors: s.errors, PerSecond: float64(s.requests) / sec,
			Latency: Latency{Min: ms(h.Min()), Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)),
				P99: ms(h.Quantile(0.99)), Max: ms(h.Max())},
			ErrorsByStatus: s.byStatus, ErrorsByCode: s.byCode, FirstError: s.firstError, Histogram: []HistogramBin{}}
		if seen {
			for _, b := range h.Bins(lo, hi) {
				res.Histogram = append(res.Histogram, HistogramBin{UpToMS: ms(b.UpTo), Count: b.Count})
			}
		}
		r.Requests += s.requests
		r.Errors += s.errors
		r.Results = append(r.Results, res)
	}
	r.RequestsPerSecond = float64(r.Requests) / sec
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cleanup deletes (RFC 7592 §2.3) every registered client the delete step did not, unless
// Config.Keep. It runs even after the run's context was cancelled, bounded by cleanupTimeout.
func (e *engine) cleanup(ctx context.Context) Cleanup {
	var cl Cleanup
	cl.Unconfirmed = e.unconfirmed.Load()
	var left []*created
	for _, s := range e.shards {
		for _, c := range s.created {
			cl.Registered++
			if c.deleted {
				cl.DeletedByStep++
			} else {
				left = append(left, c)
			}
		}
	}
	if e.cfg.Keep {
		for _, c := range left {
			cl.Kept = append(cl.Kept, c.reg.ClientID)
		}
		return cl
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan *created)
	for range min(e.cfg.Concurrency, len(left)) {
		w := e.newWorker(nil)
		wg.Go(func() {
			defer w.hc.CloseIdleConnections()
			for c := range jobs {
				err := w.sdk.Delete(ctx, c.reg)
				mu.Lock()
				if err != nil {
					cl.Failed = append(cl.Failed, FailedClient{ClientID: c.reg.ClientID, Error: err.Error()})
				} else {
					cl.Deleted++
				}
				mu.Unlock()
			}
		})
	}
	for _, c := range left {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	return cl
}
