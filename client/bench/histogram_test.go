package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBucketsAreContiguous checks that every value falls in a bucket whose bounds hold it and
// that consecutive buckets neither overlap nor leave gaps.
func TestBucketsAreContiguous(t *testing.T) {
	var prevHi uint64
	for i := range 40 * subCount {
		lo, hi := bucketBounds(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d = [%d, %d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its start", i, lo, hi, subCount)
		}
		prevHi = hi
	}
	if got := bucketOf(1<<63 - 1); got != (64-subBits)*subCount-1 {
		t.Errorf("bucketOf(max int64) = %d", got)
	}
}

// TestQuantilesMatchSortedValues compares the histogram's quantiles with the exact ones of
// the same values: they may be above by at most one bucket's width (1/32), never below.
func TestQuantilesMatchSortedValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var vals []time.Duration
	for range 20000 {
		// log-uniform from 10 µs to 10 s, as latencies are
		d := time.Duration(10e3 * math.Pow(1e6, r.Float64()))
		vals = append(vals, d)
		h.Record(d)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
		exact := vals[int(q*float64(len(vals))+0.999999)-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount {
			t.Errorf("Quantile(%g) = %v, exact %v: want within +1/%d", q, got, exact, subCount)
		}
	}
	if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] || h.Count() != uint64(len(vals)) {
		t.Errorf("min, max, count = %v %v %d; want %v %v %d", h.Min(), h.Max(), h.Count(), vals[0], vals[len(vals)-1], len(vals))
	}
}

// TestMergeEqualsRecordingAll: merging two histograms gives the one recording everything.
func TestMergeEqualsRecordingAll(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	if !slices.Equal(m.counts, all.counts) || m.n != all.n || m.sum != all.sum || m.min != all.min || m.max != all.max {
		t.Errorf("merged %+v\nwant   %+v", m, all)
	}
}

// TestBins: coarse bins count every value once, in the quarter of its power of two.
func TestBins(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{0, 1, 1000, 1023, 1024, 1279, 1280, 2047, 2048, time.Millisecond} {
		h.Record(d)
	}
	lo, hi, ok := h.span()
	if !ok || lo != 3 || hi != 4*20+3 {
		t.Fatalf("span = %d, %d, %v; want 3, 83, true", lo, hi, ok)
	}
	got := h.Bins(4*10+3, 4*11+4)
	want := []Bin{{UpTo: 1023, Count: 2}, {UpTo: 1279, Count: 2}, {UpTo: 1535, Count: 1}, {UpTo: 1791, Count: 0}, {UpTo: 2047, Count: 1},
		{UpTo: 2559, Count: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("Bins = %v; want %v", got, want)
	}
	var n uint64
	for _, b := range h.Bins(lo, hi) {
		n += b.Count
	}
	if n != h.Count() {
		t.Errorf("the bins hold %d of %d values", n, h.Count())
	}
	if q := (&Histogram{}).Quantile(0.5); q != 0 {
		t.Errorf("empty Quantile = %v", q)
	}
}
