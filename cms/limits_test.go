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
