package maglev_test

import (
	"math"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestPermutation_Documented: a backend's offset and skip are the
// documented functions of its name, seed and M (offset = Mix(h, 0) mod M,
// skip = Mix(h, 1) mod (M-1) + 1, h the seeded xxHash64 of the name), and
// New's table is Pseudocode 1 over them. Every node, and every version of
// the package, must build the same table from the same backends: the
// other tests compare the filling with a reference given the same
// offsets and skips, so a change of the formula alone would pass them.
func TestPermutation_Documented(t *testing.T) {
	for _, c := range []struct {
		m    uint32
		seed uint64
		n    int
	}{{2, 0, 1}, {3, 1, 2}, {13, 7, 5}, {251, 3, 20}, {65537, 1, 40}} {
		ns := names(c.n)
		offsets, skips, weights := make([]uint32, c.n), make([]uint32, c.n), make([]uint32, c.n)
		slices.Sort(ns) // the table's order
		for i, name := range ns {
			h := flow.Hash64([]byte(name), c.seed)
			offsets[i] = uint32(flow.Mix(h, 0) % uint64(c.m))
			skips[i] = uint32(flow.Mix(h, 1)%uint64(c.m-1)) + 1
			weights[i] = 1 + uint32(i%3)
			if o, s := maglev.Permutation(name, c.seed, c.m); o != offsets[i] || s != skips[i] {
				t.Fatalf("M=%d seed %d %q: (offset, skip) = (%d, %d), documented (%d, %d)", c.m, c.seed, name, o, s, offsets[i], skips[i])
			}
		}
		bs := make([]maglev.Backend, c.n)
		for i, name := range ns {
			bs[i] = maglev.Backend{Name: name, Weight: weights[i]}
		}
		tb := maglev.MustNew(maglev.Params{Size: c.m, Seed: c.seed}, bs)
		if want := referencePopulate(c.m, offsets, skips, weights); !slices.Equal(tb.AppendEntries(nil), want) {
			t.Fatalf("M=%d seed %d: New's table is not Pseudocode 1 over the documented permutations", c.m, c.seed)
		}
	}
}

// TestMoved_ExactBoundaries checks Moved to the last hash against a sweep
// built from flow.Reduce alone: the boundaries of each table's entries are
// found by binary search on Reduce (the lookup Pick and the kernel do), and
// each piece between two boundaries is compared by Pick. Tables of small
// prime sizes put a boundary between most pairs of hashes that a wrong
// rounding (floor instead of ceiling) would move by one.
func TestMoved_ExactBoundaries(t *testing.T) {
	const space = uint64(1) << 32
	// first returns the smallest top-32-bit value x with Reduce(x<<32, m) >= j.
	first := func(j, m uint32) uint64 {
		lo, hi := uint64(0), space // Reduce(lo-1) < j <= Reduce(hi), hi = space standing for none
		for lo < hi {
			mid := (lo + hi) / 2
			if flow.Reduce(mid<<32, m) >= j {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	reference := func(a, b *maglev.Table) float64 {
		cuts := []uint64{0, space}
		for _, tb := range []*maglev.Table{a, b} {
			for j := 1; j < tb.Size(); j++ {
				cuts = append(cuts, first(uint32(j), uint32(tb.Size())))
			}
		}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		var moved uint64
		for k := 0; k+1 < len(cuts); k++ {
			h := cuts[k] << 32
			i, okA := a.Pick(h)
			j, okB := b.Pick(h)
			if okA != okB || (okA && a.Backend(i).Name != b.Backend(j).Name) {
				moved += cuts[k+1] - cuts[k]
			}
		}
		return float64(moved) / float64(space)
	}
	mk := func(m uint32, ns ...string) *maglev.Table {
		return maglev.MustNew(maglev.Params{Size: m, Seed: 5}, maglev.Backends(ns...))
	}
	for _, c := range []struct{ a, b *maglev.Table }{
		{mk(2, "a", "b"), mk(3, "a", "b")},
		{mk(7, "a", "b", "c"), mk(11, "a", "b", "c")},
		{mk(13, "a", "b", "c"), mk(13, "a", "b", "d")},
		{mk(5, "a", "b"), mk(251, "b", "c", "a")},
	} {
		want := reference(c.a, c.b)
		if got := maglev.Moved(c.a, c.b); got != want || math.IsNaN(got) {
			t.Errorf("Moved(size %d, size %d) = %.12f (%v hashes), want %.12f (%v)", c.a.Size(), c.b.Size(),
				got, got*float64(space), want, want*float64(space))
		}
	}
}

// TestTally_IndexesFromN: a backend index of n or more is not counted
// (Tally's doc), so Tally over fewer backends than the picker has counts
// only the first n and does not index past its result.
func TestTally_IndexesFromN(t *testing.T) {
	tb := maglev.MustNew(maglev.Params{Size: 13}, maglev.Backends("a", "b", "c"))
	hs := hashes(1000, 3)
	all := maglev.Tally(tb, 3, hs)
	for n := 0; n <= 3; n++ {
		var got []float64
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Tally(table of 3, %d, hashes) panicked: %v", n, r)
				}
			}()
			got = maglev.Tally(tb, n, hs)
		}()
		if !slices.Equal(got, all[:n]) {
			t.Errorf("Tally(table of 3, %d, hashes) = %v, want %v", n, got, all[:n])
		}
	}
}

// TestBounded_ReleaseIdle: Release of a backend that carries no flow does
// nothing (its load stays 0, the others' bound is unchanged), and epsilon
// 16, the top of the accepted range, is accepted.
func TestBounded_ReleaseIdle(t *testing.T) {
	r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 4}, maglev.Backends("a", "b"))
	b, err := maglev.NewBounded(r, 16)
	if err != nil {
		t.Fatalf("epsilon 16: %v", err)
	}
	i, _ := b.Assign(12345)
	idle := 1 - i
	b.Release(idle)
	if got := b.Loads(nil); got[idle] != 0 || got[i] != 1 {
		t.Fatalf("after Release of the idle backend: loads %v, want %d at %d and 0 at %d", got, 1, i, idle)
	}
	// The total is still one flow: releasing the busy backend empties it,
	// and a further Release of it changes nothing.
	b.Release(i)
	b.Release(i)
	if got := b.Loads(nil); got[0] != 0 || got[1] != 0 {
		t.Fatalf("after releasing every flow: loads %v, want none", got)
	}
}

// TestMaxMean_NoLoad: no load, or loads that are all zero, give 0 as
// documented, not the NaN of 0/0; one load is perfect balance.
func TestMaxMean_NoLoad(t *testing.T) {
	for _, c := range []struct {
		loads []float64
		want  float64
	}{{nil, 0}, {[]float64{0, 0, 0}, 0}, {[]float64{5}, 1}, {[]float64{1, 3}, 1.5}} {
		if got := maglev.MaxMean(c.loads); got != c.want {
			t.Errorf("MaxMean(%v) = %v, want %v", c.loads, got, c.want)
		}
	}
}
