package iblt

import (
	"encoding/binary"
	"math/rand/v2"
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

// TestThreshold_Measure prints the smallest cells per difference with at
// least 99% success over 200 trials (run with -v; the bench module reports
// the same as a metric).
func TestThreshold_Measure(t *testing.T) {
	if testing.Short() || !testing.Verbose() {
		t.Skip("measurement, run with -v")
	}
	for _, c := range []struct{ k, d int }{{3, 1000}, {4, 1000}, {3, 10000}, {4, 10000}} {
		t.Logf("k=%d d=%d: %.4f cells/difference", c.k, c.d, MeasureThreshold(c.k, c.d, 200, 0.99, 1))
	}
}
