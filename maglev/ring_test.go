package maglev_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// refRingPick is the obvious ring lookup: a linear scan for the smallest
// point >= h (ties to the lowest owner index), else the smallest point.
type refPoint struct {
	h uint64
	o int
}

func refRing(r *maglev.Ring, pts []refPoint, h uint64) int {
	best, first := -1, 0
	for i, p := range pts {
		if p.h < pts[first].h || (p.h == pts[first].h && p.o < pts[first].o) {
			first = i
		}
		if p.h >= h && (best < 0 || p.h < pts[best].h || (p.h == pts[best].h && p.o < pts[best].o)) {
			best = i
		}
	}
	if best < 0 {
		best = first
	}
	return pts[best].o
}

func TestRing_MatchesReference(t *testing.T) {
	bs := maglev.Backends(names(13)...)
	bs[2].Weight = 3
	bs[4].Weight = 0
	r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 20, Seed: 11}, bs)
	// Recompute the points independently.
	sorted := slices.Clone(bs)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var pts []refPoint
	for i, b := range sorted {
		for k := 0; k < int(b.Weight)*20; k++ {
			buf := append([]byte(b.Name), byte(k), byte(k>>8), byte(k>>16), byte(k>>24))
			pts = append(pts, refPoint{hashBytes(buf, 11), i})
		}
	}
	if r.Points() != len(pts) {
		t.Fatalf("ring has %d points, want %d", r.Points(), len(pts))
	}
	probe := hashes(5000, 4)
	for _, p := range pts[:50] { // exact hits and neighbours
		probe = append(probe, p.h, p.h-1, p.h+1)
	}
	probe = append(probe, 0, math.MaxUint64)
	for _, h := range probe {
		got, ok := r.Pick(h)
		if want := refRing(r, pts, h); !ok || got != want {
			t.Fatalf("Pick(%#x) = %d, want %d", h, got, want)
		}
	}
}

func TestRing_Disruption(t *testing.T) {
	// Removing a backend moves exactly the flows it owned.
	all := maglev.Backends(names(101)...)
	a := maglev.MustNewRing(maglev.RingParams{Seed: 2}, all)
	b, err := a.Update(all[:100])
	if err != nil {
		t.Fatal(err)
	}
	hs := hashes(100000, 5)
	own := maglev.Tally(a, a.Len(), hs)
	gone := all[100].Name
	ownFrac := 0.0
	for i := 0; i < a.Len(); i++ {
		if a.Backend(i).Name == gone {
			ownFrac = own[i] / float64(len(hs))
		}
	}
	if moved := maglev.MovedFlows(a, b, hs); math.Abs(moved-ownFrac) > 1e-12 {
		t.Fatalf("moved %.5f of flows, the removed backend owned %.5f: a ring must move exactly those", moved, ownFrac)
	}
}

func TestRing_Balance(t *testing.T) {
	// With v virtual nodes the max/mean load of N backends is about
	// 1 + sqrt(2 ln N / v) for large v (each share is a sum of v
	// exponential arcs); at N = 100, v = 160 that is 1.34. Bound 1.5.
	r := maglev.MustNewRing(maglev.RingParams{Seed: 1}, maglev.Backends(names(100)...))
	loads := maglev.Tally(r, r.Len(), hashes(400000, 6))
	if mm := maglev.MaxMean(loads); mm > 1.5 || mm < 1.01 {
		t.Fatalf("max/mean %.3f, want in [1.01, 1.5]", mm)
	}
}

func TestBounded(t *testing.T) {
	r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 10, Seed: 1}, maglev.Backends(names(50)...))
	for _, eps := range []float64{0.05, 0.25, 1} {
		b, err := maglev.NewBounded(r, eps)
		if err != nil {
			t.Fatal(err)
		}
		hs := hashes(20000, 8)
		for k, h := range hs {
			i, ok := b.Assign(h)
			if !ok {
				t.Fatal("Assign failed")
			}
			// Theorem: no backend ever exceeds ceil((1+eps) * m / n).
			limit := math.Ceil((1 + eps) * float64(k+1) / 50)
			if float64(b.Load(i)) > limit {
				t.Fatalf("eps=%v after %d flows backend %d carries %d > %v", eps, k+1, i, b.Load(i), limit)
			}
		}
		loads := b.Loads(nil)
		fl := make([]float64, len(loads))
		for i, l := range loads {
			fl[i] = float64(l)
		}
		if mm := maglev.MaxMean(fl); mm > 1+eps+50.0/20000 {
			t.Fatalf("eps=%v: max/mean %.3f", eps, mm)
		}
		// Releasing everything returns to zero.
		for i, l := range loads {
			for ; l > 0; l-- {
				b.Release(i)
			}
		}
		if sum := sumU(b.Loads(nil)); sum != 0 {
			t.Fatalf("loads after release %d", sum)
		}
	}
	if _, err := maglev.NewBounded(r, 0); err == nil || !strings.Contains(err.Error(), "epsilon must be in (0, 16], got 0") {
		t.Fatalf("eps 0: %v", err)
	}
	if _, err := maglev.NewBounded(r, math.NaN()); err == nil {
		t.Fatal("eps NaN accepted")
	}
}

func sumU(s []uint64) (n uint64) {
	for _, x := range s {
		n += x
	}
	return n
}

func TestRing_Errors(t *testing.T) {
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: -1}, maglev.Backends("a")); err == nil || !strings.Contains(err.Error(), "virtual nodes must be in [1, 16777216], or 0 for the default 160, got -1") {
		t.Fatalf("vnodes -1: %v", err)
	}
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: 1 << 20}, []maglev.Backend{{Name: "a", Weight: 100}}); err == nil || !strings.Contains(err.Error(), "points") {
		t.Fatalf("too many points: %v", err)
	}
	// Weights times virtual nodes summing to 2^64, which a wrapping total
	// would take for 0 points (and then try to place 2^56 per backend).
	var huge []maglev.Backend
	for i := range 256 {
		huge = append(huge, maglev.Backend{Name: fmt.Sprintf("b%03d", i), Weight: math.MaxUint32})
	}
	huge = append(huge, maglev.Backend{Name: "last", Weight: 256})
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: maglev.MaxRingPoints}, huge); err == nil || !strings.Contains(err.Error(), "points") {
		t.Fatalf("2^64 points: %v", err)
	}
	var zero maglev.Ring
	if i, ok := zero.Pick(1); ok || i != -1 {
		t.Fatal("zero ring picked")
	}
	empty := maglev.MustNewRing(maglev.RingParams{}, []maglev.Backend{{Name: "a"}})
	if _, ok := empty.Pick(1); ok {
		t.Fatal("all-drained ring picked")
	}
	b, _ := maglev.NewBounded(empty, 0.5)
	if _, ok := b.Assign(1); ok {
		t.Fatal("bounded on empty ring assigned")
	}
}

// TestBounded_Zero: the zero Bounded, and one over a nil Ring, behave as
// a Bounded over the empty ring: Assign reports false, Load is 0 and
// Loads appends nothing. Load of an index out of range is 0, as Release
// of one does nothing. They used to dereference the nil ring or index
// past the loads.
func TestBounded_Zero(t *testing.T) {
	fromNil, err := maglev.NewBounded(nil, 0.5)
	if err != nil {
		t.Fatalf("NewBounded(nil): %v", err)
	}
	for name, b := range map[string]*maglev.Bounded{"zero": new(maglev.Bounded), "nil ring": fromNil} {
		if i, ok := b.Assign(1); ok || i != -1 {
			t.Errorf("%s Bounded: Assign = %d, %v; want -1, false", name, i, ok)
		}
		b.Release(0)
		if l := b.Load(0); l != 0 {
			t.Errorf("%s Bounded: Load(0) = %d, want 0", name, l)
		}
		if l := b.Loads(nil); len(l) != 0 {
			t.Errorf("%s Bounded: Loads = %v, want none", name, l)
		}
	}
	r := maglev.MustNewRing(maglev.RingParams{}, maglev.Backends("a", "b"))
	b, _ := maglev.NewBounded(r, 0.5)
	i, _ := b.Assign(1)
	for _, j := range []int{-1, 2, 1 << 20} {
		if l := b.Load(j); l != 0 {
			t.Errorf("Load(%d) of a 2-backend Bounded = %d, want 0", j, l)
		}
	}
	if b.Load(i) != 1 {
		t.Errorf("Load(%d) = %d after one Assign, want 1", i, b.Load(i))
	}
}

func TestRing_Allocs(t *testing.T) {
	r := maglev.MustNewRing(maglev.RingParams{}, maglev.Backends(names(100)...))
	b, _ := maglev.NewBounded(r, 0.25)
	hs := hashes(64, 3)
	if a := testing.AllocsPerRun(100, func() {
		for _, h := range hs {
			r.Pick(h)
			i, _ := b.Assign(h)
			b.Release(i)
		}
	}); a != 0 {
		t.Fatalf("ring lookups allocate %v times per run", a)
	}
}

// TestRing_IndexHardCases aims the lookup index at what random points
// rarely produce: points that differ only in the low bits the index keeps
// aside (with owners in the opposite order), duplicate points, long runs
// in one bucket, points next to 0 and 2^64-1, compared with a binary
// search over the full points.
func TestRing_IndexHardCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 34))
	for trial := 0; trial < 40; trial++ {
		type pt struct {
			h uint64
			o uint32
		}
		var pts []pt
		nb := 1 + rng.IntN(50)
		for len(pts) < 1+rng.IntN(3000) {
			base := rng.Uint64()
			switch rng.IntN(4) {
			case 0:
				base = math.MaxUint64 - rng.Uint64N(1<<24)
			case 1:
				base = rng.Uint64N(1 << 24)
			}
			for k := rng.IntN(12); k >= 0; k-- {
				var h uint64
				switch rng.IntN(3) {
				case 0:
					h = base ^ rng.Uint64N(1<<23) // same top 41 bits
				case 1:
					h = base // duplicate
				default:
					h = base + rng.Uint64N(1<<30) // same bucket, likely
				}
				pts = append(pts, pt{h, uint32(rng.IntN(nb))})
			}
		}
		slices.SortFunc(pts, func(a, b pt) int {
			return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.o, b.o))
		})
		hs, os := make([]uint64, len(pts)), make([]uint32, len(pts))
		for j, p := range pts {
			hs[j], os[j] = p.h, p.o
		}
		r := maglev.RingFromPoints(maglev.Backends(names(nb)...), hs, os)
		probe := hashes(2000, uint64(trial))
		for _, h := range hs {
			probe = append(probe, h, h-1, h+1, h^1<<22, h&^(1<<23-1), h|(1<<23-1))
		}
		probe = append(probe, 0, math.MaxUint64)
		for _, h := range probe {
			j := sort.Search(len(hs), func(j int) bool { return hs[j] >= h })
			if j == len(hs) {
				j = 0
			}
			if got, ok := r.Pick(h); !ok || got != int(os[j]) {
				t.Fatalf("trial %d (%d points): Pick(%#x) = %d, want %d (point %#x)", trial, len(hs), h, got, os[j], hs[j])
			}
		}
	}
}

// Backends returns the ring's backends sorted by name, as a copy: a caller
// that changes it changes nothing in the ring.
func TestRing_Backends(t *testing.T) {
	in := []maglev.Backend{{Name: "c", Weight: 3}, {Name: "a", Weight: 1}, {Name: "b", Weight: 2}}
	r, err := maglev.NewRing(maglev.RingParams{}, in)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Backends()
	want := []maglev.Backend{{Name: "a", Weight: 1}, {Name: "b", Weight: 2}, {Name: "c", Weight: 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("Backends() = %v, want %v", got, want)
	}
	got[0] = maglev.Backend{Name: "z", Weight: 9}
	if again := r.Backends(); !slices.Equal(again, want) || r.Index("a") != 0 || r.Index("z") != -1 {
		t.Fatalf("a change to the returned slice reached the ring: Backends() = %v", again)
	}
}
