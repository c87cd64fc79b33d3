package iblt

import "testing"

// TestMeasureThreshold_RateRoundsUp: "at least rate of trials" lists is a
// whole number of listings, ceil(rate*trials): with 2 trials any rate
// above 1/2 asks both to list, as rate 1 does, so the answers agree, and a
// rate of 1/2 or below asks one, which can need no more cells.
func TestMeasureThreshold_RateRoundsUp(t *testing.T) {
	for _, c := range []struct{ k, d int }{{3, 40}, {4, 40}, {3, 100}} {
		all := MeasureThreshold(c.k, c.d, 2, 1, 5)
		for _, rate := range []float64{0.51, 0.6, 0.99} {
			if got := MeasureThreshold(c.k, c.d, 2, rate, 5); got != all {
				t.Errorf("k=%d d=%d: rate %v over 2 trials gives %v cells per entry, rate 1 gives %v", c.k, c.d, rate, got, all)
			}
		}
		if half := MeasureThreshold(c.k, c.d, 2, 0.5, 5); half > all {
			t.Errorf("k=%d d=%d: rate 1/2 needs %v cells per entry, more than the %v of rate 1", c.k, c.d, half, all)
		}
	}
}
