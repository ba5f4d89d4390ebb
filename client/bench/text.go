package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// shades draw a histogram bin, from empty to the step's fullest bin.
const shades = " .:-=+*#%@"

// WriteText writes the report as a table for a terminal: a summary line, one row per step
// with its latency histogram drawn in ASCII, the errors, and the cleanup.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d installations started, %d completed, %d failed, %d incomplete in %s: %.1f installations/s (%s)\n",
		r.Issuer, r.Installs.Started, r.Installs.Completed, r.Installs.Failed, r.Installs.Incomplete,
		fmtDur(time.Duration(r.ElapsedSec*float64(time.Second))), r.Installs.PerSecond, r.modeText())
	fmt.Fprintf(&b, "%d requests, %d errors, %.1f requests/s; stopped by %s\n\n", r.Requests, r.Errors, r.RequestsPerSecond, r.StoppedBy)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STEP\tREQUESTS\tERRORS\tREQ/S\tP50\tP90\tP99\tMAX\t HISTOGRAM\t")
	for _, s := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t |%s|\t\n", s.Step, s.Requests, s.Errors, s.PerSecond,
			fmtMS(s.Latency.P50), fmtMS(s.Latency.P90), fmtMS(s.Latency.P99), fmtMS(s.Latency.Max), spark(s.Histogram))
	}
	tw.Flush()
	if len(r.Results) > 0 && len(r.Results[0].Histogram) > 0 {
		bins := r.Results[0].Histogram
		fmt.Fprintf(&b, "\nHISTOGRAM: one column per quarter doubling (×1.19) of latency, from ≤%s (left) to ≤%s (right); %q from none to the step's most.\n",
			fmtMS(bins[0].UpToMS), fmtMS(bins[len(bins)-1].UpToMS), shades)
	}
	r.writeErrors(&b)
	r.writeCleanup(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) modeText() string {
	if r.Mode == "open" {
		return fmt.Sprintf("open loop, %g installations/s, at most %d in flight", r.Rate, r.Concurrency)
	}
	return fmt.Sprintf("closed loop, %d workers", r.Concurrency)
}

func (r *Report) writeErrors(b *strings.Builder) {
	if r.Error != "" {
		fmt.Fprintf(b, "\nstopped: %s\n", r.Error)
	}
	for _, s := range r.Results {
		if s.Errors == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s errors: by status %s", s.Step, counts(s.ErrorsByStatus))
		if len(s.ErrorsByCode) > 0 {
			fmt.Fprintf(b, "; by code %s", counts(s.ErrorsByCode))
		}
		fmt.Fprintf(b, "\n  first: %s\n", s.FirstError)
	}
}

func (r *Report) writeCleanup(b *strings.Builder) {
	c := r.Cleanup
	fmt.Fprintf(b, "\ncleanup: %d clients registered, %d deleted by the delete step, %d deleted afterwards", c.Registered, c.DeletedByStep, c.Deleted)
	if len(c.Kept) > 0 {
		fmt.Fprintf(b, ", %d kept", len(c.Kept))
	}
	b.WriteString("\n")
	if len(c.Failed) > 0 {
		fmt.Fprintf(b, "could not delete %d clients:\n", len(c.Failed))
		for _, f := range c.Failed {
			fmt.Fprintf(b, "  %s: %s\n", f.ClientID, f.Error)
		}
	}
	if c.Unconfirmed > 0 {
		fmt.Fprintf(b, "%d registrations got no answer: the server may hold clients this run does not know of\n", c.Unconfirmed)
	}
}

// counts renders a count map as "429 ×3, 503 ×2", most frequent first.
func counts(m map[string]int64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return int(m[b] - m[a]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// spark draws bins as one character each, scaled to the fullest bin.
func spark(bins []HistogramBin) string {
	var top uint64
	for _, b := range bins {
		top = max(top, b.Count)
	}
	out := make([]byte, len(bins))
	for i, b := range bins {
		k := 0
		if b.Count > 0 {
			k = 1 + int(uint64(len(shades)-2)*b.Count/top)
		}
		out[i] = shades[k]
	}
	return string(out)
}

func fmtMS(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }

// fmtDur shows a duration with three significant digits: 812µs, 4.21ms, 1.05s.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

// sig3 formats v ≥ 1 with three significant digits, never in exponent form.
func sig3(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
