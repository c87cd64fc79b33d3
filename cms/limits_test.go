package cms

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// TestParams_CountersHuge: Counters and SizeBytes are w*d and 4*w*d
// exactly when those fit in an int, and math.MaxInt otherwise; they never
// wrap. Before, they multiplied in an int: on a 64-bit platform
// 2^32-1 by 2^32-1 gave -8,589,934,591 counters and 2^31 by 2^31 a
// SizeBytes of 0; on a 32-bit one 2^16 by 2^16 gave 0 counters, and a
// Width of 2^31 or more was negative before the product. Only valid
// dimensions (at most MaxCounters) make sketches, but the methods are
// called on any Params, sizing intentions included.
func TestParams_CountersHuge(t *testing.T) {
	for _, p := range []Params{
		{Width: MaxCounters, Depth: 1},
		{Width: MaxCounters / MaxDepth, Depth: MaxDepth},
		{Width: 1 << 16, Depth: 1 << 16},
		{Width: 1 << 29, Depth: 4},
		{Width: 1 << 30, Depth: 2},
		{Width: math.MaxInt32, Depth: 1},
		{Width: math.MaxInt32 + 1, Depth: 1},
		{Width: math.MaxInt32 + 1, Depth: MaxDepth},
		{Width: 1 << 31, Depth: 1 << 31},
		{Width: math.MaxUint32, Depth: math.MaxUint32},
		{Width: math.MaxUint32, Depth: 0},
	} {
		n := uint64(p.Width) * uint64(p.Depth)
		wantN, wantB := math.MaxInt, math.MaxInt
		if n <= math.MaxInt {
			wantN = int(n)
		}
		if n <= math.MaxInt/4 {
			wantB = int(4 * n)
		}
		if got := p.Counters(); got != wantN {
			t.Errorf("%dx%d: Counters %d, want %d", p.Width, p.Depth, got, wantN)
		}
		if got := p.SizeBytes(); got != wantB {
			t.Errorf("%dx%d: SizeBytes %d, want %d", p.Width, p.Depth, got, wantB)
		}
	}
}

// TestFromCounters_WrongLengthAllocatesNothing: FromCounters refuses
// counters of the wrong length before it allocates the sketch. It used
// to allocate first, so a short slice given with the largest valid
// dimensions cost 1 GiB (a fatal out-of-memory on a 32-bit platform)
// before the error.
func TestFromCounters_WrongLengthAllocatesNothing(t *testing.T) {
	p := Params{Width: MaxCounters, Depth: 1}
	counters := make([]uint32, 3)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := FromCounters(p, counters, 0)
	runtime.ReadMemStats(&after)
	if want := "3 counters for width 268435456 and depth 1, want 268435456"; !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("FromCounters with 3 counters: %v, want ErrCorrupt saying %q", err, want)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("FromCounters of a wrong length allocated %d bytes before refusing it", n)
	}
}

// TestSketch_MergeTotalSaturates: Merge adds the totals saturating at
// 2^64-1, as Add does. A wrapped total would leave counters above N,
// breaking the invariant Add's unchecked path relies on: the merged
// sketch would not decode, and its next Add would wrap a saturated
// counter to a count below the true one. No test covered it: a Merge
// that wrapped the total passed them all.
func TestSketch_MergeTotalSaturates(t *testing.T) {
	p := Params{Width: 1, Depth: 2, Seed: 8}
	key := []byte("whale")
	for _, total := range []uint64{1 << 63, math.MaxUint64 - 1, math.MaxUint64} {
		s := MustNew(p)
		s.Add(key, math.MaxUint32)
		a, err := FromCounters(p, s.Counters(), total) // stands in for a sketch of total packets
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Merge(a.Clone()); err != nil {
			t.Fatal(err)
		}
		if a.Total() != math.MaxUint64 {
			t.Errorf("merging two sketches of %d: Total %d, want it saturated at %d", total, a.Total(), uint64(math.MaxUint64))
		}
		if err := decodes(a); err != nil {
			t.Errorf("merging two sketches of %d: the result does not decode: %v", total, err)
		}
		a.Add(key, 1)
		if got := a.Estimate(key); got != math.MaxUint32 {
			t.Errorf("merging two sketches of %d, then one Add: estimate %d, want it saturated at %d", total, got, uint32(math.MaxUint32))
		}
	}
}
