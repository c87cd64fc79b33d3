package cms

import (
	"math"
	"strings"
	"testing"
)

// ParamsFor(p.Epsilon(), p.Delta()) gives p's dimensions back: e/(e/w) is
// w + 1 ulp for some w (39, 43, 78, ...), which a plain ceiling turned
// into w + 1.
func TestParamsFor_RoundTrip(t *testing.T) {
	for w := uint32(3); w <= 200_000; w++ { // w < 3: epsilon = e/w is not below 1
		for _, d := range []uint32{1, 3, 32} {
			p := Params{Width: w, Depth: d}
			if q := ParamsFor(p.Epsilon(), p.Delta()); q.Width != w || q.Depth != d {
				t.Fatalf("ParamsFor(e/%d, e^-%d) = width %d, depth %d", w, d, q.Width, q.Depth)
			}
		}
	}
}

// ParamsFor's snapping absorbs the rounding of e/epsilon only: an
// epsilon whose e/epsilon lies a genuine fraction above a whole width W
// gets width W+1, so that the sketch's Epsilon is at most epsilon, as
// ParamsFor promises. Snapping by a relative 1e-12 gave width W for
// e/epsilon = 1e8 + 1e-6 (and 1e6 + 1e-6, 1.2e7 + 1e-5), a sketch whose
// predicted error exceeded the epsilon asked for.
func TestParamsFor_KeepsGenuineFraction(t *testing.T) {
	for _, w := range []float64{1e6, 1e7, 12345678, 1e8, 2e8} {
		for _, frac := range []float64{1e-6, 1e-5, 5e-5, 0.5} {
			eps := math.E / (w + frac)
			p := ParamsFor(eps, 0.5)
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			if p.Width != uint32(w)+1 || p.Epsilon() > eps {
				t.Errorf("ParamsFor(e/(%.0f+%g), 0.5): width %d, Epsilon %v; want width %d, Epsilon at most %v", w, frac, p.Width, p.Epsilon(), uint32(w)+1, eps)
			}
		}
	}
}

// A flow holding exactly phi*N packets is a heavy hitter at phi, though
// phi*N in floating point lies an ulp above the integer (0.07*100 is
// 7.000000000000001).
func TestFraction_ExactShare(t *testing.T) {
	d, err := NewFractionDetector(Params{Width: 4096, Depth: 4}, 0.07)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTopK(Params{Width: 4096, Depth: 4}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint32(93) {
		k := testKey(1000 + i)
		d.Add(k.Bytes(), 1)
		tk.Add(k, 1)
	}
	heavy := testKey(1)
	crossed := false
	for range 7 {
		_, c := d.Add(heavy.Bytes(), 1)
		crossed = crossed || c
	}
	tk.Add(heavy, 7)
	if got := d.Threshold(); got != 7 {
		t.Errorf("N = %d, phi = 0.07: threshold %d, want 7", d.Sketch().Total(), got)
	}
	if !crossed {
		t.Error("a flow with 7 of 100 packets never crossed phi = 0.07")
	}
	found := false
	for _, e := range tk.HeavyHitters(0.07) {
		found = found || e.Key == heavy
	}
	if !found {
		t.Errorf("a flow with 7 of %d packets is not a heavy hitter at phi = 0.07", tk.Sketch().Total())
	}
	// Snapping is to exact integers only: 7.5 stays 7.5 (threshold 8).
	if got := fraction(0.075, 100); got != 7.5 {
		t.Errorf("7.5 = %v", got)
	}
}

// A fractional phi*N rounds up: with N = 75 and phi = 0.1 the share is
// 7.5 packets, so the threshold is 8. A flow with 8 packets reaches it and
// one with 7 (below 7.5) does not, though a floor would flag both.
func TestFractionDetector_FractionalShare(t *testing.T) {
	d, err := NewFractionDetector(Params{Width: 4096, Depth: 4, Seed: 5}, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint32(60) {
		k := testKey(1000 + i)
		d.Add(k.Bytes(), 1) // 60 flows of one packet
	}
	hk, lk := testKey(1), testKey(2)
	heavy, light := hk.Bytes(), lk.Bytes()
	// N = 68 after this Add: threshold ceil(6.8) = 7, and 8 reaches it.
	if est, crossed := d.Add(heavy, 8); est != 8 || !crossed {
		t.Errorf("a flow with 8 of 68 packets at phi = 0.1: estimate %d, crossed %v; want 8, true", est, crossed)
	}
	// N = 75 after this Add: threshold ceil(7.5) = 8, and 7 does not reach it.
	if est, crossed := d.Add(light, 7); est != 7 || crossed {
		t.Errorf("a flow with 7 of 75 packets at phi = 0.1: estimate %d, crossed %v; want 7, false", est, crossed)
	}
	if n := d.Sketch().Total(); n != 75 {
		t.Fatalf("N = %d, want 75", n)
	}
	if got := d.Threshold(); got != 8 {
		t.Errorf("N = 75, phi = 0.1: threshold %d, want ceil(7.5) = 8", got)
	}
	if est := d.Sketch().Estimate(heavy); est < d.Threshold() {
		t.Errorf("a flow with 8 of 75 packets (estimate %d) is below the threshold %d of phi = 0.1", est, d.Threshold())
	}
	if est := d.Sketch().Estimate(light); est >= d.Threshold() {
		t.Errorf("a flow with 7 of 75 packets (estimate %d) reaches the threshold %d of phi = 0.1 (7.5 packets)", est, d.Threshold())
	}
	// Filter agrees: the flow at 8 is dropped (and not counted), the flow
	// at 7 is forwarded.
	if drop, _ := d.Filter(heavy); !drop {
		t.Error("Filter forwarded a packet of the flow with 8 of 75 packets at phi = 0.1")
	}
	if drop, _ := d.Filter(light); drop {
		t.Error("Filter dropped a packet of the flow with 7 of 75 packets at phi = 0.1")
	}
}

// An epsilon so small that e/epsilon overflows to +Inf (any epsilon below
// about 1.5e-308, subnormals included) is in (0, 1), so ParamsFor must
// report it as needing too many counters. Before, the snapping
// Inf - 1e-12*Inf made w NaN, which every comparison let through: ParamsFor
// returned width uint32(NaN) (0 on amd64) and depth 1 with no error, and
// New then blamed a width of 0 that the caller never asked for.
func TestParamsFor_HugeWidth(t *testing.T) {
	for _, eps := range []float64{math.SmallestNonzeroFloat64, 1e-310, 1e-308, 1e-300} {
		p := ParamsFor(eps, 0.5)
		if p.Width != 0 || p.Depth != 0 {
			t.Errorf("ParamsFor(%v, 0.5) = width %d, depth %d; want no dimensions", eps, p.Width, p.Depth)
		}
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), "more than the 268435456 accepted") {
			t.Errorf("ParamsFor(%v, 0.5): error %v, want too many counters", eps, err)
		} else if len(err.Error()) > 200 {
			t.Errorf("ParamsFor(%v, 0.5): an error of %d characters: %v", eps, len(err.Error()), err)
		}
	}
}

// Snapping phi*N to an integer absorbs floating-point error only, which
// is a few ulps: it must not round a genuine fraction away once phi*N is
// large. With phi = 0.25 and N = 4e9+1, phi*N is 1e9+0.25 (exact in
// floating point), so the threshold is ceil(1e9+0.25) = 1e9+1 and a flow
// of 1e9 packets is no heavy hitter. A relative tolerance of 1e-9 (one
// packet at phi*N = 1e9) snapped 1e9+0.25 down to 1e9.
func TestFraction_LargeNKeepsFraction(t *testing.T) {
	const n = 4_000_000_001
	if got := fraction(0.25, n); got != 1e9+0.25 {
		t.Errorf("fraction(0.25, %d) = %.2f, want 1000000000.25", uint64(n), got)
	}
	p := Params{Width: 4096, Depth: 4, Seed: 3}
	d, err := NewFractionDetector(p, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewTopK(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	hk, ok := testKey(1), testKey(2)
	d.Add(ok.Bytes(), 3e9+1)
	tk.Add(ok, 3e9+1)
	est, crossed := d.Add(hk.Bytes(), 1e9)
	tk.Add(hk, 1e9)
	if d.Sketch().Total() != n || est != 1e9 {
		t.Fatalf("N = %d, estimate %d: collisions spoil the test", d.Sketch().Total(), est)
	}
	if got := d.Threshold(); got != 1e9+1 {
		t.Errorf("phi = 0.25, N = %d: threshold %d, want ceil(1e9+0.25) = 1000000001", uint64(n), got)
	}
	if crossed {
		t.Error("a flow of 1e9 packets crossed phi = 0.25 of N = 4e9+1 (1e9+0.25 packets)")
	}
	if drop, _ := d.Filter(hk.Bytes()); drop {
		t.Error("Filter dropped a packet of a flow below phi*N")
	}
	for _, e := range tk.HeavyHitters(0.25) {
		if e.Key == hk {
			t.Errorf("HeavyHitters(0.25) holds a flow of %d packets, below phi*N = 1e9+0.25", e.Count)
		}
	}
}
