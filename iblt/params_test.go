package iblt

import (
	"math"
	"testing"
)

// TestChecksumSeed: the checksum seed is the index seed XOR
// 0xA0761D6478BD642F, as documented: a peer implementation (or a kernel
// given only the index seed) derives it from that formula, so it is part
// of the format, and it never equals the index seed.
func TestChecksumSeed(t *testing.T) {
	for _, seed := range []uint64{0, 1, 0x5eed, 0xA0761D6478BD642F, ^uint64(0), 1 << 63} {
		want := seed ^ 0xA0761D6478BD642F
		if got := ChecksumSeed(seed); got != want || got == seed {
			t.Errorf("ChecksumSeed(%#x) = %#x, want %#x", seed, got, want)
		}
	}
}

// TestThreshold_Range: Threshold gives c_k for k = 3 to MaxHashes, from
// Goodrich and Mitzenmacher's Table 1 for k = 3 to 7, and 0 outside that
// range, as documented.
func TestThreshold_Range(t *testing.T) {
	for k, want := range map[int]float64{3: 1.222, 4: 1.295, 5: 1.425, 6: 1.570, 7: 1.721} {
		if got := Threshold(k); got != want {
			t.Errorf("Threshold(%d) = %v, want %v", k, got, want)
		}
	}
	if got := Threshold(MaxHashes); got <= Threshold(MaxHashes-1) {
		t.Errorf("Threshold(%d) = %v, not above Threshold(%d)", MaxHashes, got, MaxHashes-1)
	}
	for _, k := range []int{-1, 0, 1, 2, MaxHashes + 1, 100} {
		if got := Threshold(k); got != 0 {
			t.Errorf("Threshold(%d) = %v, want 0", k, got)
		}
	}
}

// TestCellsFor_NoDifference: a difference of 0 is in range (d >= 0): two
// hosts with equal sets still exchange a table, which must be valid and
// lists nothing.
func TestCellsFor_NoDifference(t *testing.T) {
	for _, k := range []int{3, 4} {
		cells, err := CellsFor(0, k, 0.99)
		if err != nil || cells < k || cells%k != 0 {
			t.Errorf("CellsFor(0, %d, 0.99) = %d, %v; want a positive multiple of %d", k, cells, err, k)
		}
	}
	p, err := ParamsFor(0, 13, 0.999, 9)
	if err != nil {
		t.Fatalf("ParamsFor(0, ...): %v", err)
	}
	tb, err := New(p)
	if err != nil {
		t.Fatalf("ParamsFor(0, ...) = %+v: %v", p, err)
	}
	if ins, del, err := tb.List(); err != nil || len(ins)+len(del) != 0 {
		t.Errorf("the empty table of ParamsFor(0, ...) lists %d, %d entries, %v", len(ins), len(del), err)
	}
}

// TestCellsFor_LowSuccess: below success 0.5 the normal quantile is
// negative, and the documented clamp keeps the finite-size window at
// zero: c_k*d + 3k cells, rounded up to a multiple of k, whatever the
// success. (At d = 100,000 the failure floor does not bind.)
func TestCellsFor_LowSuccess(t *testing.T) {
	const d = 100000
	for _, k := range []int{3, 4} {
		m := Threshold(k)*d + 3*float64(k)
		want := int(math.Ceil(m/float64(k))) * k
		for _, success := range []float64{0.5, 0.3, 0.01} {
			if got, err := CellsFor(d, k, success); err != nil || got != want {
				t.Errorf("CellsFor(%d, %d, %v) = %d, %v; want %d", d, k, success, got, err, want)
			}
		}
		if above, _ := CellsFor(d, k, 0.6); above <= want {
			t.Errorf("CellsFor(%d, %d, 0.6) = %d, want more than the %d of success 0.5", d, k, above, want)
		}
	}
}

// TestParamsFor_TieChoosesThree: where k = 3 and k = 4 need the same
// number of cells, ParamsFor picks k = 3, as documented. The ties are
// searched, not listed, so that a change of the model keeps the test
// meaningful; there is at least one at success 0.99.
func TestParamsFor_TieChoosesThree(t *testing.T) {
	ties := 0
	for d := 1; d <= 20000 && ties < 3; d++ {
		m3, err3 := CellsFor(d, 3, 0.99)
		m4, err4 := CellsFor(d, 4, 0.99)
		if err3 != nil || err4 != nil || m3 != m4 {
			continue
		}
		ties++
		p, err := ParamsFor(d, 13, 0.99, 1)
		if err != nil || p.Hashes != 3 || p.Cells != m3 {
			t.Errorf("ParamsFor(%d, ...) = %+v, %v; want k = 3 with the %d cells both need", d, p, err, m3)
		}
	}
	if ties == 0 {
		t.Fatal("no d in [1, 20000] where k = 3 and k = 4 need the same cells at success 0.99")
	}
}

// TestParams_StringSizeBytes: String names every field; SizeBytes is the
// cells' memory, the encoding less its 24-byte header, and 0 for
// parameters Validate refuses.
func TestParams_StringSizeBytes(t *testing.T) {
	p := Params{Cells: 12, Hashes: 3, KeyLen: 13, Seed: 0x2a}
	if got, want := p.String(), "cells=12 hashes=3 key-len=13 seed=0x2a"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, p := range []Params{
		{Cells: 12, Hashes: 3, KeyLen: 13},
		{Cells: 12, Hashes: 4, KeyLen: 8},
		{Cells: 1, Hashes: 1, KeyLen: 1},
		{Cells: 300, Hashes: 3, KeyLen: 37},
		{Cells: 64, Hashes: 4, KeyLen: MaxKeyLen},
	} {
		b, err := MustNew(p).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.SizeBytes(), len(b)-24; got != want {
			t.Errorf("%v: SizeBytes() = %d, want %d (the encoding less its header)", p, got, want)
		}
		if got, want := p.SizeBytes(), 8*p.Cells*(3+(p.KeyLen+7)/8); got != want {
			t.Errorf("%v: SizeBytes() = %d, want %d", p, got, want)
		}
	}
	for _, p := range []Params{{}, {Cells: 10, Hashes: 3, KeyLen: 13}, {Cells: 12, Hashes: 3}} {
		if n := p.SizeBytes(); n != 0 {
			t.Errorf("%v: SizeBytes() = %d for invalid parameters, want 0", p, n)
		}
	}
}
