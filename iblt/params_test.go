package iblt

import "testing"

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
