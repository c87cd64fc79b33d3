package iblt

import (
	"encoding/binary"
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
func MeasureThreshold(k, d, trials int, rate float64, seed uint64) float64 {
	if d < 1 || d > MaxCells || k < 1 || k > MaxHashes || trials < 1 || !(rate > 0 && rate <= 1) {
		return 0
	}
	ok := func(cells int) bool {
		need := int(rate*float64(trials) + 0.999999)
		return decodeCount(k, d, cells, trials, seed) >= need
	}
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
		return float64(cells) / float64(d)
	}
	for {
		cells := roundUp(hi*step, k)
		if !valid(cells) {
			return 0 // past MaxCells (or, on a 32-bit platform, the size an int holds)
		}
		if ok(cells) {
			break
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
	return float64(roundUp(hi*step, k)) / float64(d)
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
