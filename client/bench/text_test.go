package bench

import (
	"strings"
	"testing"
	"time"
)

// TestWriteText compares the whole table of a hand-made report: summary, rows with their
// histograms, the legend, errors by status and code, and a cleanup with failures.
func TestWriteText(t *testing.T) {
	r := &Report{Issuer: "http://127.0.0.1:8414", Steps: []Step{StepToken, StepRegister}, Mode: "open", Concurrency: 64, Rate: 100,
		Started: time.Unix(0, 0), ElapsedSec: 2, StoppedBy: StopInstalls,
		Installs: Installs{Started: 10, Completed: 8, Failed: 2, PerSecond: 4}, Requests: 20, Errors: 2, RequestsPerSecond: 10,
		Results: []StepResult{
			{Step: StepToken, Requests: 10, PerSecond: 5, Latency: Latency{P50: 1.5, P90: 2.25, P99: 12.5, Max: 1500},
				Histogram: []HistogramBin{{1, 1}, {2, 8}, {4, 0}, {8, 1}}},
			{Step: StepRegister, Requests: 10, Errors: 2, PerSecond: 5, Latency: Latency{P50: 0.25, P90: 0.5, P99: 150, Max: 150},
				ErrorsByStatus: map[string]int64{"429": 1, "503": 1}, ErrorsByCode: map[string]int64{"temporarily_unavailable": 1},
				FirstError: "bench: register: the server answered 429 Too Many Requests",
				Histogram:  []HistogramBin{{1, 4}, {2, 4}, {4, 2}, {8, 0}}},
		},
		Cleanup: Cleanup{Registered: 8, Deleted: 7, Failed: []FailedClient{{ClientID: "c1", Error: "timeout"}}, Unconfirmed: 1},
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `http://127.0.0.1:8414: 10 installations started, 8 completed, 2 failed, 0 incomplete in 2.00s: 4.0 installations/s (open loop, 100 installations/s, at most 64 in flight)
20 requests, 2 errors, 10.0 requests/s; stopped by installs

      STEP  REQUESTS  ERRORS  REQ/S     P50     P90     P99    MAX   HISTOGRAM
     token        10       0    5.0  1.50ms  2.25ms  12.5ms  1.50s      |:@ :|
  register        10       2    5.0   250µs   500µs   150ms  150ms      |@@+ |

HISTOGRAM: one column per quarter doubling (×1.19) of latency, from ≤1.00ms (left) to ≤8.00ms (right); " .:-=+*#%@" from none to the step's most.

register errors: by status 429 ×1, 503 ×1; by code temporarily_unavailable ×1
  first: bench: register: the server answered 429 Too Many Requests

cleanup: 8 clients registered, 0 deleted by the delete step, 7 deleted afterwards
could not delete 1 clients:
  c1: timeout
1 registrations got no answer: the server may hold clients this run does not know of
`
	if got := b.String(); got != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", got, want)
	}
}
