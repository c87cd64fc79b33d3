package bloom

import (
	"math"
	"testing"
)

// TestBlocked_EstimatedCountPerBlock: the estimate of a Blocked filter is
// the sum over its blocks of -(512/k) ln(1 - x/512), x the bits set in
// the block: 0 for an empty filter, and for blocks of 4 and 8 bits set
// (the others empty) the sum of those two terms.
func TestBlocked_EstimatedCountPerBlock(t *testing.T) {
	b := MustNewBlocked(Params{Bits: 4 * BlockBits, Hashes: 4})
	if e := b.EstimatedCount(); e != 0 {
		t.Errorf("empty: EstimatedCount = %v, want 0", e)
	}
	w := b.Words()
	w[0] = 0xf            // block 0: 4 bits
	w[2*8+3] = 0xff << 40 // block 2: 8 bits
	want := -128*math.Log(1-4.0/512) - 128*math.Log(1-8.0/512)
	if e := b.EstimatedCount(); math.Abs(e-want) > 1e-12*want {
		t.Errorf("EstimatedCount = %v, want %v", e, want)
	}
}

// TestCounting_FilterEveryCounter: bit j of CountingFilter.Filter is set
// exactly where counter j is non-zero, for every j up to the last, m-1.
func TestCounting_FilterEveryCounter(t *testing.T) {
	for _, width := range []int{4, 8, 16} {
		c := MustNewCounting(Params{Bits: 67, Hashes: 3, Seed: 9}, width)
		for _, k := range randomKeys(20, 11) {
			c.Add(k)
		}
		for _, k := range randomKeys(500, 12) {
			if c.Counter(66) != 0 {
				break
			}
			c.Add(k)
		}
		if c.Counter(66) == 0 || c.Counter(0) == 0 {
			t.Fatalf("width %d: the keys left the first or last counter at zero", width)
		}
		f := c.Filter()
		for j := uint32(0); j < 67; j++ {
			if got, want := f.Words()[j/64]>>(j%64)&1 == 1, c.Counter(j) != 0; got != want {
				t.Errorf("width %d: bit %d is %v, counter %d", width, j, got, c.Counter(j))
			}
		}
	}
}

// TestAddAtomic_SameBitsAsAdd: AddAtomic sets exactly the bits Add sets,
// for every k (a blocked filter takes a new mix every seven bits), so a
// filter built by concurrent writers is the one a single writer builds.
func TestAddAtomic_SameBitsAsAdd(t *testing.T) {
	keys := randomKeys(100, 21)
	for k := 1; k <= MaxHashes; k++ {
		p := Params{Bits: 8 * BlockBits, Hashes: k, Seed: uint64(k)}
		f, fa := MustNew(p), MustNew(p)
		b, ba := MustNewBlocked(p), MustNewBlocked(p)
		for _, key := range keys {
			f.Add(key)
			fa.AddAtomic(key)
			b.Add(key)
			ba.AddAtomic(key)
		}
		if !fa.Equal(f) {
			t.Errorf("k = %d: Filter.AddAtomic set other bits than Add", k)
		}
		if !ba.Equal(b) {
			t.Errorf("k = %d: Blocked.AddAtomic set other bits than Add", k)
		}
	}
}
