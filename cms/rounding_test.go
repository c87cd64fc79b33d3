package cms

import "testing"

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
