package iblt

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// decodeRate inserts d random 13-byte keys into a table of the given cells
// and hashes, lists it, and returns the fraction of trials that list
// everything. Every trial has its own keys and seed.
func decodeRate(k, d, cells, trials int, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(k)<<32|uint64(d)))
	tb := MustNew(Params{Cells: cells, Hashes: k, KeyLen: 13, Seed: rng.Uint64()})
	key := make([]byte, 13)
	ok := 0
	for range trials {
		tb.Reset()
		tb.seed = rng.Uint64()
		tb.check = ChecksumSeed(tb.seed)
		for i := range d {
			binary.LittleEndian.PutUint64(key, rng.Uint64())
			binary.LittleEndian.PutUint32(key[8:], uint32(i))
			key[12] = byte(rng.Uint32())
			tb.Insert(key, uint64(i))
		}
		ins, _, err := tb.List()
		if err == nil && len(ins) == d {
			ok++
		}
	}
	return float64(ok) / float64(trials)
}

// TestThreshold_Targets pins the decode targets with 200 trials
// each: at least 99% of tables list everything at 1.26 cells per
// difference for d = 10,000 (k = 3) and 1.40 for d = 1,000 (k = 4).
// Below the asymptotic threshold c_k peeling must fail almost always.
func TestThreshold_Targets(t *testing.T) {
	if testing.Short() {
		t.Skip("200 trials of 10,000 keys")
	}
	for _, c := range []struct {
		k, d  int
		ratio float64
	}{{3, 10000, 1.26}, {4, 1000, 1.40}} {
		cells := int(c.ratio*float64(c.d)) / c.k * c.k
		if r := decodeRate(c.k, c.d, cells, 200, 1); r < 0.99 {
			t.Errorf("k=%d d=%d at %d cells: decode rate %.3f, want >= 0.99", c.k, c.d, cells, r)
		}
		below := int(0.97*Threshold(c.k)*float64(c.d)) / c.k * c.k
		if r := decodeRate(c.k, c.d, below, 50, 2); r > 0.1 {
			t.Errorf("k=%d d=%d at %d cells (3%% below c_k): decode rate %.3f, want about 0", c.k, c.d, below, r)
		}
	}
}

// TestCellsFor_Success checks the sizing model: tables sized by CellsFor
// for 99% success list everything in at least 97% of 300 trials (the
// binomial 3-sigma bound below 99%), for small and large d and both k.
func TestCellsFor_Success(t *testing.T) {
	ds := []int{1, 5, 20, 100, 1000, 5000}
	if testing.Short() {
		ds = ds[:4]
	}
	for _, k := range []int{3, 4} {
		for _, d := range ds {
			cells, err := CellsFor(d, k, 0.99)
			if err != nil {
				t.Fatal(err)
			}
			trials := 300
			if d >= 5000 {
				trials = 100
			}
			r := decodeRate(k, d, cells, trials, 3)
			t.Logf("k=%d d=%d cells=%d (%.3f/diff) rate %.3f", k, d, cells, float64(cells)/float64(d), r)
			if r < 0.97 {
				t.Errorf("k=%d d=%d: %d cells decode %.3f, want >= 0.97", k, d, cells, r)
			}
		}
	}
}

// TestThreshold_Measure checks what MeasureThreshold returns, cheaply (d =
// 60, 40 trials): a multiple of k cells at which at least the rate of
// trials decode, while k cells fewer does not (the bisection's answer is
// the smallest on its grid), within a plausible range of c_k; and 0 for
// invalid arguments.
func TestThreshold_Measure(t *testing.T) {
	const d, trials, rate, seed = 60, 40, 0.95, 1
	need := int(math.Ceil(rate * trials))
	for _, k := range []int{3, 4} {
		ratio := MeasureThreshold(k, d, trials, rate, seed)
		cells := int(math.Round(ratio * d))
		if cells%k != 0 || cells < k {
			t.Fatalf("k=%d: MeasureThreshold = %v, %d cells: not a positive multiple of k", k, ratio, cells)
		}
		if n := decodeCount(k, d, cells, trials, seed); n < need {
			t.Errorf("k=%d: %d cells decode %d of %d, want at least %d", k, cells, n, trials, need)
		}
		if n := decodeCount(k, d, cells-k, trials, seed); n >= need {
			t.Errorf("k=%d: %d cells (k fewer than measured) already decode %d of %d", k, cells-k, n, trials)
		}
		if ratio < Threshold(k) || ratio > 2*Threshold(k) {
			t.Errorf("k=%d d=%d: measured %.3f cells per entry, want between c_k = %.3f and twice that", k, d, ratio, Threshold(k))
		}
	}
	for _, args := range [][4]int{{0, d, trials}, {MaxHashes + 1, d, trials}, {3, 0, trials}, {3, d, 0}} {
		if r := MeasureThreshold(args[0], args[1], args[2], rate, seed); r != 0 {
			t.Errorf("MeasureThreshold(k=%d, d=%d, trials=%d) = %v, want 0", args[0], args[1], args[2], r)
		}
	}
}

// TestThreshold_Measured99 measures the decode thresholds as the issue
// defines them, the smallest cells per difference with at least 99%
// successful listings over 200 trials, at its two sizes, and holds them
// between the asymptotic threshold c_k and the targets (1.26 for
// d = 10,000 with k = 3, 1.40 for d = 1,000 with k = 4).
func TestThreshold_Measured99(t *testing.T) {
	if testing.Short() {
		t.Skip("a bisection of 200 trials of up to 30,000 cells")
	}
	for _, c := range []struct {
		k, d   int
		target float64
	}{{3, 10000, 1.26}, {4, 1000, 1.40}} {
		got := MeasureThreshold(c.k, c.d, 200, 0.99, 7)
		t.Logf("k=%d d=%d: %.3f cells per difference (c_k %.3f)", c.k, c.d, got, Threshold(c.k))
		if got < Threshold(c.k) || got > c.target {
			t.Errorf("k=%d d=%d: measured %.3f cells per difference, want between c_k = %.3f and %.2f", c.k, c.d, got, Threshold(c.k), c.target)
		}
	}
}

// TestThreshold_MeasureTinyD: at tiny d the bisection's lower end, one
// cell per entry (at least k cells), can already list every entry; it is
// then the answer. MeasureThreshold used to take it to fail and answered
// 4 for k = 2, d = 1, where 2 cells (one per sub-table) list the entry.
func TestThreshold_MeasureTinyD(t *testing.T) {
	for _, c := range []struct {
		k, d int
		want float64
	}{{1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {4, 1, 4}} {
		if got := MeasureThreshold(c.k, c.d, 20, 0.99, 1); got != c.want {
			t.Errorf("MeasureThreshold(k=%d, d=%d) = %v, want %v", c.k, c.d, got, c.want)
		}
	}
}

// binomialBound returns the smallest q with P(X > q) <= alpha for X
// binomial with n trials and success probability p: a failure count above
// q is evidence at level alpha that the true rate exceeds p.
func binomialBound(n int, p, alpha float64) int {
	pmf := math.Exp(float64(n) * math.Log1p(-p)) // P(X = 0)
	cdf := pmf
	q := 0
	for 1-cdf > alpha && q < n {
		pmf *= float64(n-q) / float64(q+1) * p / (1 - p)
		q++
		cdf += pmf
	}
	return q
}

// TestCellsFor_HighSuccess checks the promise "success at least p" above
// 0.99 at small d, where the failure floor (two entries sharing all k
// cells) dominates, for both k: many seeded trials, and a failure count
// that a true failure rate of 1-success would exceed with probability
// below 1e-6. Sizing without the floor term for k = 4 fails 5 to 50 times
// more often than allowed here.
func TestCellsFor_HighSuccess(t *testing.T) {
	type tc struct {
		d, k    int // k = 0: the k ParamsFor chooses
		success float64
		trials  int
	}
	cases := []tc{
		{2, 0, 0.999, 20000}, {5, 0, 0.999, 20000}, {10, 0, 0.999, 20000},
		{20, 0, 0.999, 20000}, {50, 0, 0.999, 20000},
		{10, 3, 0.999, 20000}, {10, 4, 0.9999, 200000},
		{2, 3, 0.9999, 200000}, {2, 4, 0.9999, 200000},
	}
	for _, c := range cases {
		k, cells := c.k, 0
		if k == 0 {
			p, err := ParamsFor(c.d, 13, c.success, 1)
			if err != nil {
				t.Fatal(err)
			}
			k, cells = p.Hashes, p.Cells
		} else {
			var err error
			if cells, err = CellsFor(c.d, k, c.success); err != nil {
				t.Fatal(err)
			}
		}
		fails := c.trials - decodeCount(k, c.d, cells, c.trials, 7)
		bound := binomialBound(c.trials, 1-c.success, 1e-6)
		t.Logf("d=%d k=%d success %v: %d cells, %d of %d fail (budget %.0f, bound %d)",
			c.d, k, c.success, cells, fails, c.trials, float64(c.trials)*(1-c.success), bound)
		if fails > bound {
			t.Errorf("d=%d k=%d success %v: %d cells fail %d of %d times, more than %d (expected at most %.0f)",
				c.d, k, c.success, cells, fails, c.trials, bound, float64(c.trials)*(1-c.success))
		}
	}
}

// TestCellsFor_PairFloor: the failure floor counts the pairs of d
// entries, d(d-1)/2. One entry always lists (its cells are all pure), so
// d = 1 has no floor; it had one of d^2/2 pairs, and
// CellsFor(1, 4, 1-2^-53) gave 38,968 cells. Two entries fail exactly
// when they share all k cells, with probability (k/m)^k; the floor keeps
// that at half the failure budget, and no more than that asks for.
func TestCellsFor_PairFloor(t *testing.T) {
	for _, k := range []int{3, 4} {
		for _, success := range []float64{0.999, 1 - 1e-9, 1 - 0x1p-53} {
			fail := 1 - success
			one, err := CellsFor(1, k, success)
			if err != nil {
				t.Fatal(err)
			}
			if one > 8*k {
				t.Errorf("k=%d success %v: one entry gets %d cells, want at most %d", k, success, one, 8*k)
			}
			two, err := CellsFor(2, k, success)
			if err != nil {
				t.Fatal(err)
			}
			exact := math.Pow(float64(k)/float64(two), float64(k)) // both entries in all k cells
			floor := float64(k) * math.Pow(2/fail, 1/float64(k))
			if exact > fail/2*(1+1e-9) {
				t.Errorf("k=%d success %v: two entries in %d cells fail with probability %.3g, over half the budget %.3g",
					k, success, two, exact, fail/2)
			}
			if float64(two) > floor+float64(k) && float64(two) > 8*float64(k)+2 {
				t.Errorf("k=%d success %v: two entries get %d cells, where %.1f keep the failure at half the budget",
					k, success, two, floor)
			}
		}
	}
}

// TestParamsFor_Sizes: the floor term must not inflate the sizes of large
// differences; ParamsFor stays within the decode targets.
func TestParamsFor_Sizes(t *testing.T) {
	for _, c := range []struct {
		d     int
		ratio float64
	}{{1000, 1.40}, {10000, 1.26}, {100000, 1.26}} {
		p, err := ParamsFor(c.d, 13, 0.99, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r := float64(p.Cells) / float64(c.d); r > c.ratio {
			t.Errorf("ParamsFor(%d, 13, 0.99) = %d cells, k=%d: %.3f per difference, want at most %.2f", c.d, p.Cells, p.Hashes, r, c.ratio)
		}
	}
}

// TestCellsFor_TooLarge: a difference too large for MaxCells is an error
// with no cell count, however large (the float size once wrapped to a
// negative int for d near MaxInt).
func TestCellsFor_TooLarge(t *testing.T) {
	for _, k := range []int{3, 4} {
		for _, d := range []int{MaxCells, int(min(uint64(1<<40), math.MaxInt)), math.MaxInt / 2, math.MaxInt} {
			if c, err := CellsFor(d, k, 0.99); err == nil || c != 0 {
				t.Errorf("CellsFor(%d, %d, 0.99) = %d, %v; want 0 and an error", d, k, c, err)
			}
		}
	}
	if p, err := ParamsFor(math.MaxInt, 13, 0.99, 1); err == nil || !strings.Contains(err.Error(), "differences need") {
		t.Errorf("ParamsFor(MaxInt) = %+v, %v; want the CellsFor error", p, err)
	}
}

// TestCellsFor_BadArguments: a negative difference, a success outside
// (0, 1) and a k other than 3 or 4 are errors naming the argument, with no
// cell count, from CellsFor and from ParamsFor. Without those checks the
// arithmetic does not fail by itself: a negative d or a success above 1
// makes the size NaN, which no comparison refuses and which converts to an
// int that is no cell count.
func TestCellsFor_BadArguments(t *testing.T) {
	for _, c := range []struct {
		d, k    int
		success float64
		want    string
	}{
		{-1, 3, 0.99, "differences must be non-negative, got -1"},
		{-1000, 4, 0.99, "differences must be non-negative, got -1000"},
		{10, 3, 1, "success must be in (0, 1), got 1"},
		{10, 4, 1.5, "success must be in (0, 1), got 1.5"},
		{10, 3, 99, "success must be in (0, 1), got 99"},
		{10, 3, 0, "success must be in (0, 1), got 0"},
		{10, 4, -0.5, "success must be in (0, 1), got -0.5"},
		{10, 3, math.NaN(), "success must be in (0, 1), got NaN"},
		{10, 3, math.Inf(1), "success must be in (0, 1), got +Inf"},
		{10, 2, 0.99, "sizing needs hashes 3 or 4, got 2"},
		{10, 5, 0.99, "sizing needs hashes 3 or 4, got 5"},
	} {
		if cells, err := CellsFor(c.d, c.k, c.success); err == nil || cells != 0 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CellsFor(%d, %d, %v) = %d, %v; want 0 and an error saying %q", c.d, c.k, c.success, cells, err, c.want)
		}
		if c.k != 3 && c.k != 4 {
			continue // ParamsFor chooses k itself
		}
		if p, err := ParamsFor(c.d, 13, c.success, 1); err == nil || p != (Params{}) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParamsFor(%d, 13, %v) = %+v, %v; want zero Params and an error saying %q", c.d, c.success, p, err, c.want)
		}
	}
}

// TestParamsFor_ErrorGivesZero: a bad key length is an error with zero
// Params, not half-filled ones (it returned 40 cells and k = 4 beside the
// error).
func TestParamsFor_ErrorGivesZero(t *testing.T) {
	for _, keyLen := range []int{0, -1, MaxKeyLen + 1} {
		if p, err := ParamsFor(10, keyLen, 0.99, 1); err == nil || p != (Params{}) {
			t.Errorf("ParamsFor(10, %d, 0.99) = %+v, %v; want zero Params and an error", keyLen, p, err)
		}
	}
}

// TestParamsFor_OnlyK3Fits: between about 2.07e8 and 2.19e8 differences,
// k = 3 fits in MaxCells (c_3 = 1.222 cells per entry) but k = 4 does not
// (c_4 = 1.295). ParamsFor returned the k = 4 error instead of choosing
// k = 3, the one that needs fewer cells.
func TestParamsFor_OnlyK3Fits(t *testing.T) {
	const d = 210_000_000
	m3, err := CellsFor(d, 3, 0.99)
	if err != nil {
		t.Fatalf("CellsFor(%d, 3): %v", d, err)
	}
	if _, err := CellsFor(d, 4, 0.99); err == nil {
		t.Fatalf("CellsFor(%d, 4) fits; the test needs a d where only k = 3 does", d)
	}
	want := Params{Cells: m3, Hashes: 3, KeyLen: 13, Seed: 1}
	p, err := ParamsFor(d, 13, 0.99, 1)
	if verr := want.Validate(); verr != nil { // a 32-bit platform: no table of that size
		if err == nil {
			t.Errorf("ParamsFor(%d) = %+v, want the error %v", d, p, verr)
		}
		return
	}
	if err != nil || p != want {
		t.Errorf("ParamsFor(%d) = %+v, %v; want %+v", d, p, err, want)
	}
}

// TestThreshold_TwoCoreFormula checks Threshold against the 2-core
// threshold of a random k-uniform hypergraph computed directly: the edge
// density c*_k = min over x > 0 of x / (k (1 - e^-x)^(k-1)), so c_k =
// 1/c*_k cells per entry (Molloy 2005; the values of Goodrich and
// Mitzenmacher's Table 1, to their three decimals: 1.222 for k = 3, 1.295
// for k = 4). The tolerance covers the table's rounding (its k = 7 entry,
// 1.721, is 0.002 above the formula's 1.7189).
func TestThreshold_TwoCoreFormula(t *testing.T) {
	for k := 3; k <= MaxHashes; k++ {
		best := math.Inf(1)
		for i := 1; i <= 5000; i++ { // x up to 10 in steps of 0.002: the minimum is flat
			x := float64(i) * 2e-3
			best = min(best, x/(float64(k)*math.Pow(1-math.Exp(-x), float64(k-1))))
		}
		want := 1 / best
		if got := Threshold(k); math.Abs(got-want) > 0.0025 {
			t.Errorf("Threshold(%d) = %.3f, the 2-core threshold is %.4f cells per entry", k, got, want)
		}
	}
}
