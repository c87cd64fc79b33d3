package cms

import (
	"math"
	"testing"
)

// TestAddEstimate_Saturates: TopK.Add and Detector.Add, which count
// through the path that also returns the estimate, saturate counters at
// 2^32-1 as Sketch.Add does: past 2^32 the estimate is clamped at
// 2^32-1, never wrapped to a small count. A key added 2^32-2 times and
// then 3 more has a true count above 2^32-1, so its estimate must be
// exactly 2^32-1 (the estimate is never below the true count, clamped).
func TestAddEstimate_Saturates(t *testing.T) {
	for _, cons := range []bool{false, true} {
		p := Params{Width: 4, Depth: 3, Seed: 21, Conservative: cons}
		tk, err := NewTopK(p, 2)
		if err != nil {
			t.Fatal(err)
		}
		key := testKey(7)
		tk.Add(key, math.MaxUint32-1)
		if got := tk.Add(key, 3); got != math.MaxUint32 {
			t.Errorf("conservative=%v: TopK.Add past 2^32-1 returned %d, want %d", cons, got, uint32(math.MaxUint32))
		}
		if got := tk.Sketch().Estimate(key.Bytes()); got != math.MaxUint32 {
			t.Errorf("conservative=%v: TopK's sketch estimate %d, want %d", cons, got, uint32(math.MaxUint32))
		}
		if top := tk.Top(); len(top) != 1 || top[0].Count != math.MaxUint32 {
			t.Errorf("conservative=%v: Top %v, want the key at %d", cons, top, uint32(math.MaxUint32))
		}

		d, err := NewDetector(p, math.MaxUint32)
		if err != nil {
			t.Fatal(err)
		}
		b := key.Bytes()
		d.Add(b, math.MaxUint32-1)
		est, crossed := d.Add(b, 3)
		if est != math.MaxUint32 || !crossed {
			t.Errorf("conservative=%v: Detector.Add past 2^32-1 = (%d, %v), want (%d, true)", cons, est, crossed, uint32(math.MaxUint32))
		}
	}
}

// TestConcurrent_CounterSaturates: a Concurrent sketch's counters stop
// at 2^32-1, as a Sketch's do: a key counted 2^32-2 and then 3 more
// times is estimated at 2^32-1, not at the wrapped 0 or 1, and the
// snapshot agrees with a Sketch fed the same Adds.
func TestConcurrent_CounterSaturates(t *testing.T) {
	p := Params{Width: 2, Depth: 3, Seed: 9}
	c, err := NewConcurrent(p)
	if err != nil {
		t.Fatal(err)
	}
	s := MustNew(p)
	key := []byte("whale")
	for _, n := range []uint32{math.MaxUint32 - 1, 3, 1} {
		c.Add(key, n)
		s.Add(key, n)
	}
	if got := c.Estimate(key); got != math.MaxUint32 {
		t.Errorf("estimate %d after passing 2^32-1, want %d", got, uint32(math.MaxUint32))
	}
	if !equalCounters(c.Snapshot().Counters(), s.Counters()) {
		t.Errorf("snapshot counters %v, a Sketch holds %v", c.Snapshot().Counters(), s.Counters())
	}
}

// TestConcurrent_AddZero: adding 0 occurrences counts nothing: N stays
// what it was, below the guard where one atomic add does the work and
// above it where a compare-and-swap does, as it stays in a Sketch.
func TestConcurrent_AddZero(t *testing.T) {
	for _, total := range []uint64{0, 5, totalGuard - 1, totalGuard, math.MaxUint64 - 1} {
		c, err := NewConcurrent(Params{Width: 8, Depth: 2, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		c.total.Store(total)
		c.Add([]byte("mouse"), 0)
		if got := c.Total(); got != total {
			t.Errorf("N %d, after adding 0: %d", total, got)
		}
		if got := c.Estimate([]byte("mouse")); got != 0 {
			t.Errorf("N %d: adding 0 gave the key an estimate of %d", total, got)
		}
	}
}
