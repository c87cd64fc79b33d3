package iblt

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// MeasureThreshold returns the smallest number of cells per entry, on a
// grid of 1/200 of d, with which at least rate of trials tables with k
// hashes list d random entries, searching by bisection (decode rates grow
// with the number of cells). Each trial uses its own 13-byte keys and
// seed, drawn from a generator seeded with seed. It is how the package's
// sizing was checked; it costs trials listings per bisection step. It
// returns 0 for arguments out of range (k outside [1, MaxHashes], d or
// trials below 1, rate outside (0, 1]), and when no valid table (see
// [Params.Validate]) lists the entries at that rate: always for d above
// MaxCells, since a table lists at most one entry per cell.
//
// It also returns 0 when tables of 128 cells per entry, or of 2^20 cells
// where that is more, do not list the entries at that rate: the search
// builds no larger table. Only k = 1 comes near that bound at common
// rates. A one-hash table lists its entries only when each has a cell of
// its own, which takes about d²/(2 ln(1/rate)) cells (the birthday bound):
// for k = 1 at a rate of 0.99, MeasureThreshold answers 0 from a few
// hundred entries on, having built tables of at most 2^20 cells.
func MeasureThreshold(k, d, trials int, rate float64, seed uint64) float64 {
	if d < 1 || d > MaxCells || k < 1 || k > MaxHashes || trials < 1 || !(rate > 0 && rate <= 1) {
		return 0
	}
	need := listingsNeeded(rate, trials)
	cells := searchCells(k, d, func(cells int) bool {
		return decodeCount(k, d, cells, trials, seed) >= need
	})
	return float64(cells) / float64(d)
}

// listingsNeeded returns ceil(rate*trials), 1 at least for a positive
// rate; a rate*trials within a relative 1e-12 of a whole number (0.07*100
// is 7.000000000000001 in floating point) is that number.
func listingsNeeded(rate float64, trials int) int {
	x := rate * float64(trials)
	n := math.Ceil(x)
	if r := math.Round(x); math.Abs(x-r) <= 1e-12*x {
		n = r
	}
	return int(n)
}

// measureCap returns the most cells MeasureThreshold tries for d entries.
// k = 2 needs up to about 70 cells per entry when every one of 1,000
// trials has to list; k of 3 and more, under 20.
func measureCap(d int) int {
	if d > MaxCells/128 { // and 128*d might not fit a 32-bit int
		return MaxCells
	}
	return max(128*d, 1<<20)
}

// searchCells returns the smallest multiple of k cells, on a grid of
// max(d/200, 1) cells, for which ok holds, assuming ok holds for every
// valid table above it; or 0 if it holds for no valid table of up to
// measureCap(d) cells. It asks ok about no other table.
func searchCells(k, d int, ok func(cells int) bool) int {
	valid := func(cells int) bool {
		return Params{Cells: cells, Hashes: k, KeyLen: 13}.Validate() == nil
	}
	step := max(d/200, 1)
	lo, hi := d/step, 3*d/step // in steps of cells; 3*d <= 3*MaxCells fits an int
	for lo*step < k {
		lo++
	}
	// The bisection below takes lo to fail. It can succeed, at tiny d:
	// then it is the answer, since a listing peels each entry from a cell
	// of its own and no table of fewer cells than entries lists them all.
	if cells := roundUp(lo*step, k); valid(cells) && ok(cells) {
		return cells
	}
	top := measureCap(d) / k * k / step // the largest table tried, in steps
	for {
		hi = min(hi, top)
		cells := roundUp(hi*step, k)
		if hi <= lo || !valid(cells) {
			return 0 // no table left between lo and the cap (or what an int holds)
		}
		if ok(cells) {
			break
		}
		if hi == top {
			return 0
		}
		hi *= 2
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if ok(roundUp(mid*step, k)) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return roundUp(hi*step, k)
}

func roundUp(n, k int) int { return (n + k - 1) / k * k }

// decodeCount lists trials tables of d random entries and counts the
// complete listings.
func decodeCount(k, d, cells, trials int, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, uint64(cells)))
	tb := MustNew(Params{Cells: cells, Hashes: k, KeyLen: 13})
	key := make([]byte, 13)
	var l Listing // one for all trials: a listing allocates nothing once it has grown
	n := 0
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
		if err := tb.ListInto(&l); err == nil && len(l.Inserted) == d {
			n++
		}
	}
	return n
}
