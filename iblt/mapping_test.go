package iblt

import (
	"math/rand/v2"
	"testing"
)

// gapRef is the gap from index i for the uniform draw v in (0, 1], from
// the definition of the mapping rather than its closed form: index j is
// taken with probability 2/(j+2), so none of the x indexes after i is
// taken with probability A/((i+x+1)(i+x+2)), A = (i+1)(i+2), and the
// inverse transform takes the smallest x >= 1 with that probability below
// v. It searches x by bisection on that monotone condition.
func gapRef(i uint64, v float64) uint64 {
	fi := float64(i)
	a := (fi + 1) * (fi + 2)
	below := func(x uint64) bool { // P(no index in the next x) < v
		fx := float64(x)
		return a < v*(fi+fx+1)*(fi+fx+2)
	}
	lo, hi := uint64(0), uint64(1)
	for !below(hi) {
		lo, hi = hi, 2*hi
	}
	for lo+1 < hi { // below(hi), and lo = 0 or !below(lo)
		mid := lo + (hi-lo)/2
		if below(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// TestNextIndex_Definition: the rateless mapping's next index, computed in
// closed form, is the one its definition gives (gapRef), for random
// draws at small and large indexes and for the extreme draws: r = 0 is
// v = 2^-53, the smallest draw (v is never 0, which would send the key
// past every index), and r = 2^64-1 is v = 1, a gap of 1. Indexes are
// capped at maxIndex.
func TestNextIndex_Definition(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	check := func(i, r uint64) {
		t.Helper()
		v := float64(r>>11+1) / (1 << 53) // the draw, uniform in (0, 1]
		if got, want := nextIndex(i, r), min(i+gapRef(i, v), maxIndex); got != want {
			t.Errorf("nextIndex(%d, %#x) = %d, want %d (v = %v)", i, r, got, want, v)
		}
	}
	for _, i := range []uint64{0, 1, 2, 5, 100, 12345, 1 << 30} {
		check(i, 0)
		check(i, ^uint64(0))
		for range 20000 {
			check(i, rng.Uint64())
		}
	}
	for range 20000 {
		check(rng.Uint64N(1<<20), rng.Uint64())
	}
}
