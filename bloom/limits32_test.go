package bloom

import (
	"math"
	"testing"
)

// TestSetBits_Over2to31: a Filter may have up to MaxBits bits, and
// SetBits, FillRatio, EstimatedCount and FalsePositiveRate count them. On
// a 32-bit platform (GOARCH=386) the count was kept in an int, which
// wrapped past 2^31 - 1 bits set: a full filter of 2^31 + 64 bits had
// SetBits 2^64 - 2^31 + 64, FillRatio about 8.6e9 and a predicted rate
// far above 1. It allocates 256 MiB, so -short skips it.
func TestSetBits_Over2to31(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 256 MiB")
	}
	const m = 1<<31 + 64
	f := MustNew(Params{Bits: m, Hashes: 2})
	w := f.Words()
	for i := range w {
		w[i] = ^uint64(0)
	}
	if got := f.SetBits(); got != m {
		t.Errorf("SetBits() = %d, want %d", got, uint64(m))
	}
	if got := f.FillRatio(); got != 1 {
		t.Errorf("FillRatio() = %v, want 1", got)
	}
	if got := f.FalsePositiveRate(); got != 1 {
		t.Errorf("FalsePositiveRate() = %v, want 1", got)
	}
	if got := f.EstimatedCount(); !math.IsInf(got, 1) {
		t.Errorf("EstimatedCount() = %v, want +Inf", got)
	}
	w[0] = 0 // 2^31 bits set: one past what an int32 holds
	if got := f.SetBits(); got != m-64 {
		t.Errorf("SetBits() = %d, want %d", got, uint64(m-64))
	}
	if got, want := f.EstimatedCount(), -float64(m)/2*math.Log1p(-float64(m-64)/m); got != want {
		t.Errorf("EstimatedCount() = %v, want %v", got, want)
	}
}
