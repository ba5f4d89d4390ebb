package bench

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power of two is split into 2^subBits
// linear buckets, so a recorded value is known to within 1/32 (about 3 %).
const (
	subBits  = 5
	subCount = 1 << subBits
)

// Histogram counts durations in log-linear buckets (the layout of an HDR histogram with two
// significant binary digits more than a power-of-two histogram): exact below 32 ns, then 32
// buckets per doubling. It keeps the exact count, sum, minimum and maximum. The zero value is
// empty and ready; it is not safe for concurrent use.
type Histogram struct {
	counts []uint64 // grown to the highest bucket used
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	e := uint(i/subCount - 1)
	m := uint64(i%subCount + subCount)
	return m << e, (m+1)<<e - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := bucketOf(uint64(d))
	if i >= len(h.counts) {
		grown := make([]uint64, i+1, max(i+1, 2*len(h.counts)))
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Min and Max are the smallest and largest recorded values (0 when empty).
func (h *Histogram) Min() time.Duration { return h.min }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average of the recorded values (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the value below or at which a fraction q (0 < q ≤ 1) of the recorded
// values lie: the upper end of the bucket holding the value of rank ⌈q·n⌉, clamped to the
// exact minimum and maximum. It is 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return min(max(time.Duration(hi), h.min), h.max)
		}
	}
	return h.max
}

// Bin is one bin of a coarse view of a histogram: Count values above the previous bin's
// UpTo and at most UpTo.
type Bin struct {
	UpTo  time.Duration
	Count uint64
}

// binsPerDoubling is the resolution of the coarse view: a quarter of a doubling each.
const binsPerDoubling = 4

// binOf returns the coarse bin of bucket i: 4·k + q for a value in [2^(k-1), 2^k), q the
// quarter of that range it lies in (values below 32 ns: the last quarter).
func binOf(i int) int {
	lo, _ := bucketBounds(i)
	k := bits.Len64(lo)
	q := binsPerDoubling - 1
	if i >= subCount {
		q = (i % subCount) / (subCount / binsPerDoubling)
	}
	return k*binsPerDoubling + q
}

// binUpTo returns the largest value of coarse bin b.
func binUpTo(b int) time.Duration {
	k, q := b/binsPerDoubling, b%binsPerDoubling
	if k <= subBits {
		return time.Duration(uint64(1)<<k - 1)
	}
	base := uint64(1) << (k - 1)
	return time.Duration(base + uint64(q+1)*(base/binsPerDoubling) - 1)
}

// Bins returns the histogram in coarse bins, each a quarter of a doubling of latency (bin
// 4·k+3 ends at 2^k ns − 1, so 1 ms ≈ bin 80), from bin lo to bin hi inclusive.
func (h *Histogram) Bins(lo, hi int) []Bin {
	out := make([]Bin, 0, max(hi-lo+1, 0))
	for b := lo; b <= hi; b++ {
		out = append(out, Bin{UpTo: binUpTo(b)})
	}
	for i, c := range h.counts {
		if b := binOf(i); c > 0 && b >= lo && b <= hi {
			out[b-lo].Count += c
		}
	}
	return out
}

// span returns the first and last coarse bin (see Bins) that hold values; ok is false when
// the histogram is empty.
func (h *Histogram) span() (lo, hi int, ok bool) {
	if h.n == 0 {
		return 0, 0, false
	}
	return binOf(bucketOf(uint64(h.min))), binOf(bucketOf(uint64(h.max))), true
}
