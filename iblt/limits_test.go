package iblt

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// encodedSize is the length of a table's encoding, computed in uint64 so
// that it cannot wrap: the header and 8 bytes a word, 3+ceil(keyLen/8)
// words a cell.
func encodedSize(cells, keyLen int) uint64 {
	return headerSize + 8*uint64(cells)*uint64(wKey+(keyLen+7)/8)
}

// TestParams_CellsLimit: Validate accepts, for each key length and k, up
// to the largest multiple of k that is at most MaxCells and keeps the
// table's encoding within an int, and refuses the next multiple with an
// error naming cells and the limit. On a 64-bit platform the limit is
// MaxCells rounded down to k; on a 32-bit one (GOARCH=386) it is lower
// for every key length, and Validate accepted up to MaxCells, for which
// New computed the cells' word count Cells*(3+ceil(KeyLen/8)) in an int.
func TestParams_CellsLimit(t *testing.T) {
	for _, keyLen := range []int{1, 8, 13, 37, 48, 255, MaxKeyLen} {
		for _, k := range []int{1, 3, 4, 8} {
			most := uint64(MaxCells)
			if words := uint64(wKey + (keyLen+7)/8); encodedSize(int(most), keyLen) > math.MaxInt {
				most = (math.MaxInt - headerSize) / (8 * words)
			}
			most -= most % uint64(k)
			if strconv.IntSize == 64 && most != MaxCells/uint64(k)*uint64(k) {
				t.Fatalf("keyLen %d, k %d: limit %d on a 64-bit platform, want %d", keyLen, k, most, MaxCells/k*k)
			}
			if err := (Params{Cells: int(most), Hashes: k, KeyLen: keyLen}).Validate(); err != nil {
				t.Errorf("keyLen %d, k %d: %d cells: %v", keyLen, k, most, err)
			}
			next := int(most) + k
			if err := (Params{Cells: next, Hashes: k, KeyLen: keyLen}).Validate(); err == nil {
				t.Errorf("keyLen %d, k %d: %d cells (encoding %d bytes) accepted", keyLen, k, next, encodedSize(next, keyLen))
			} else if !strings.Contains(err.Error(), "cells must be") || next <= MaxCells && !strings.Contains(err.Error(), strconv.FormatUint(most, 10)) {
				t.Errorf("keyLen %d, k %d: %d cells: error %q does not name cells and the limit %d", keyLen, k, next, err, most)
			}
		}
	}
}

// TestNew_HugeCells: New either builds a table whose words are exactly
// Cells*CellWords, or refuses before allocating. The cases are tables
// whose encoding exceeds an int on a 32-bit platform, where New computed
// Cells*stride in an int: 122,713,352 cells of 256-byte keys (35 words a
// cell) are 4,294,967,320 words, which wrapped to a table of 24 words
// (Insert then indexed past it), and MaxCells cells of 8-byte keys are
// 2^30 words, whose 2^33 bytes made make panic with "len out of range".
// On a 64-bit platform they are valid (and take gigabytes, so only
// Validate runs).
func TestNew_HugeCells(t *testing.T) {
	cases := []struct{ cells, k, keyLen int }{
		{122713352, 8, MaxKeyLen},
		{122713352, 1, MaxKeyLen},
		{MaxCells, 1, 8},
		{MaxCells, 4, 13},
		{MaxCells, 8, MaxKeyLen},
		{1 << 26, 4, 37},
		{53687092, 4, 13}, // one k past the 32-bit limit for 13-byte keys
	}
	for _, c := range cases {
		p := Params{Cells: c.cells, Hashes: c.k, KeyLen: c.keyLen}
		size := encodedSize(c.cells, c.keyLen)
		if c.cells > MaxCells || size > math.MaxInt {
			tb, err := New(p)
			if err == nil {
				t.Errorf("New(%+v): %d words, want an error (encoding %d bytes)", p, len(tb.Words()), size)
			}
			if _, err := NewEstimator(EstimatorParams{Strata: 1, Cells: c.cells, KeyLen: c.keyLen}); err == nil && c.k == 4 {
				t.Errorf("NewEstimator with %d cells of %d-byte keys: no error (encoding %d bytes)", c.cells, c.keyLen, size)
			}
			continue
		}
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", p, err)
		}
	}
}

// TestNewEstimator_HugeTotal: strata that fit one by one but whose
// estimator encodes to more than an int holds (on a 32-bit platform: 64
// strata of 2^21 cells of 8-byte keys are 4 GiB) are refused before
// anything is allocated. On a 64-bit platform the estimator is valid and
// large, and is not built.
func TestNewEstimator_HugeTotal(t *testing.T) {
	p := EstimatorParams{Strata: 64, Cells: 1 << 21, KeyLen: 8}
	size := 8 + 64*encodedSize(p.Cells, p.KeyLen)
	if size <= math.MaxInt {
		t.Skipf("%d bytes fit in an int here: a valid estimator, too large to build in a test", size)
	}
	if err := (Params{Cells: p.Cells, Hashes: 4, KeyLen: p.KeyLen}).Validate(); err != nil {
		t.Fatalf("one stratum: %v", err)
	}
	if _, err := NewEstimator(p); err == nil || !strings.Contains(err.Error(), "strata") {
		t.Errorf("NewEstimator(%+v) = %v, want an error naming the strata", p, err)
	}
}

// TestMeasureThreshold_Huge: a difference no valid table can list gives
// 0 at once. Before, the first table tried had 3*d cells: past MaxCells
// MustNew panicked, and for d above math.MaxInt/3 the product wrapped to
// a negative number of cells (MustNew panicked too).
func TestMeasureThreshold_Huge(t *testing.T) {
	for _, d := range []int{MaxCells + 1, math.MaxInt / 3, math.MaxInt/3 + 1, math.MaxInt / 2, math.MaxInt} {
		if got := MeasureThreshold(3, d, 1, 0.5, 1); got != 0 {
			t.Errorf("MeasureThreshold(3, %d, ...) = %v, want 0", d, got)
		}
	}
}

// TestMeasureThreshold_RateOutOfRange: a rate above 1 (a percentage passed
// as 99, say) can never be met, and NaN or a rate of 0 or less means
// nothing; each gives 0 at once. Before, a rate above 1 doubled the table
// until past MaxCells, building tables of up to 2^28 cells (10 GB with
// 13-byte keys) on the way.
func TestMeasureThreshold_RateOutOfRange(t *testing.T) {
	for _, rate := range []float64{1.5, 99, math.Inf(1), math.NaN(), 0, -1} {
		if got := MeasureThreshold(3, 10, 2, rate, 1); got != 0 {
			t.Errorf("MeasureThreshold(rate %v) = %v, want 0", rate, got)
		}
	}
}
