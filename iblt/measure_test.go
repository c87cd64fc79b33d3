package iblt

import (
	"runtime"
	"testing"
)

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

// TestSearchCells_Cap: when no table lists the entries, the search asks
// about no table above measureCap(d), tries one near it, and answers 0.
// k = 1 needs about d² cells, so before the cap the search doubled its
// tables up to MaxCells (10 GB of cells at 13-byte keys) for arguments as
// plain as k = 1, d = 100,000.
func TestSearchCells_Cap(t *testing.T) {
	for _, c := range []struct{ k, d int }{{1, 5000}, {1, 100000}, {2, 100}, {3, 10}, {4, 1 << 22}, {3, MaxCells / 4}} {
		limit := measureCap(c.d)
		largest := 0
		got := searchCells(c.k, c.d, func(cells int) bool {
			if cells > limit || cells%c.k != 0 {
				t.Fatalf("k=%d d=%d: asked about %d cells, want a multiple of k up to the cap, %d", c.k, c.d, cells, limit)
			}
			largest = max(largest, cells)
			return false
		})
		if got != 0 {
			t.Errorf("k=%d d=%d: no table lists, yet the search answered %d cells", c.k, c.d, got)
		}
		if want := min(max(128*int64(c.d), 1<<20), MaxCells); int64(limit) != want {
			t.Errorf("d=%d: the cap is %d cells, want %d: 128 per entry, at least 2^20 and at most MaxCells", c.d, limit, want)
		}
		if (Params{Cells: limit / c.k * c.k, Hashes: c.k, KeyLen: 13}).Validate() != nil {
			continue // too large for an int here (32-bit): the search stops below it
		}
		if step := max(c.d/200, 1); largest < limit-step-c.k {
			t.Errorf("k=%d d=%d: the largest table tried has %d cells, want the cap's %d (to within a step of %d)", c.k, c.d, largest, limit, step)
		}
	}
}

// TestSearchCells_Smallest: where tables of at least need cells list (need
// at least d: no table of fewer cells than entries lists them all), the
// search answers the smallest table on its grid of that size, and 0 where
// need is past the cap.
func TestSearchCells_Smallest(t *testing.T) {
	for _, c := range []struct{ k, d, need int }{
		{3, 10000, 12345}, {3, 10000, 10000}, {4, 1000, 1400}, {2, 1000, 70000}, {1, 10, 4478}, {1, 100, 600000}, {1, 100, 1<<20 + 1}, {3, 1000, 128001},
	} {
		got := searchCells(c.k, c.d, func(cells int) bool { return cells >= c.need })
		limit := measureCap(c.d)
		if c.need > limit/c.k*c.k {
			if got != 0 {
				t.Errorf("k=%d d=%d need %d: answered %d cells, past the cap of %d", c.k, c.d, c.need, got, limit)
			}
			continue
		}
		step := max(c.d/200, 1)
		if got < c.need || got%c.k != 0 || got >= c.need+step+c.k {
			t.Errorf("k=%d d=%d need %d: answered %d cells, want the next multiple of k on a grid of %d", c.k, c.d, c.need, got, step)
		}
	}
}

// TestMeasureThreshold_OneHash: one hash answers at small d and 0, after
// building tables of at most the cap, at large d (see TestSearchCells_Cap).
func TestMeasureThreshold_OneHash(t *testing.T) {
	if got := MeasureThreshold(1, 10, 50, 0.9, 3); got < 10 {
		t.Errorf("MeasureThreshold(1, 10, ...) = %v cells per entry, want at least 10 (about d/(2 ln(1/rate)) = 47)", got)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := MeasureThreshold(1, 5000, 1, 0.99, 3)
	runtime.ReadMemStats(&after)
	if got != 0 {
		t.Errorf("MeasureThreshold(1, 5000, ...) = %v, want 0: it takes about 10^9 cells", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("MeasureThreshold(1, 5000, ...) allocated %d MiB, want at most 256", alloc>>20)
	}
}

// TestMeasureThreshold_TinyRate: a positive rate asks at least one
// listing. A rate*trials below 1e-6 used to ask none, and the search
// answered the smallest table on its grid (1.002 cells per entry for
// d = 1,000, where no table lists), and one within 1e-6 above a whole
// number was rounded down to it (0.5000001 of 2 trials asked one).
func TestMeasureThreshold_TinyRate(t *testing.T) {
	for _, c := range []struct {
		rate   float64
		trials int
		want   int
	}{{1e-7, 1, 1}, {1e-300, 100, 1}, {0.5000001, 2, 2}, {0.5, 2, 1}, {0.07, 100, 7}, {0.99, 200, 198}, {1, 200, 200}, {0.995, 200, 199}} {
		if got := listingsNeeded(c.rate, c.trials); got != c.want {
			t.Errorf("rate %v of %d trials: %d listings needed, want %d", c.rate, c.trials, got, c.want)
		}
	}
	if got, half := MeasureThreshold(3, 1000, 1, 1e-7, 1), MeasureThreshold(3, 1000, 1, 1, 1); got != half || got < Threshold(3) {
		t.Errorf("k=3 d=1000, one trial: rate 1e-7 gives %v cells per entry, rate 1 %v: want the same, at least c_3 = %.3f", got, half, Threshold(3))
	}
}
