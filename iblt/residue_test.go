package iblt

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestSubtract_ResidueAbsorbed: a key in both tables with different values
// leaves the difference of its values in its cells. Subtract's doc said
// List then reports ErrDecodeIncomplete; it cannot always. When the other
// key shares all k cells with it (always here for k = 1 when both land in
// the same cell), the listed key's value takes the residue up exactly,
// every cell ends empty, and List succeeds with a value off by the
// difference: the table is then the table of that listing, so no check
// can tell. Otherwise List reports ErrDecodeIncomplete.
func TestSubtract_ResidueAbsorbed(t *testing.T) {
	for _, k := range []int{1, 2, 3, 4} {
		clean, stalled := 0, 0
		for seed := uint64(0); seed < 500; seed++ {
			rng := rand.New(rand.NewPCG(seed, 1))
			keys := randKeys(rng, 2, 8)
			p := Params{Cells: 2 * k, Hashes: k, KeyLen: 8, Seed: seed}
			a, b := MustNew(p), MustNew(p)
			a.Insert(keys[0], 5) // in both, with values 5 ...
			b.Insert(keys[0], 7) // ... and 7
			a.Insert(keys[1], 100)
			if err := a.Subtract(b); err != nil {
				t.Fatal(err)
			}
			ins, del, err := a.List()
			if errors.Is(err, ErrDecodeIncomplete) {
				stalled++
				continue
			}
			clean++
			if err != nil || len(ins) != 1 || len(del) != 0 || string(ins[0].Key) != string(keys[1]) {
				t.Fatalf("k=%d seed %d: List = %v, %v, %v", k, seed, ins, del, err)
			}
			if ins[0].Value != 100+5-7 {
				t.Fatalf("k=%d seed %d: clean listing of value %d, want 98 (100 with the residue taken up)", k, seed, ins[0].Value)
			}
			if !rebuild(a, ins, del).Equal(a) {
				t.Fatalf("k=%d seed %d: the clean listing does not rebuild the table", k, seed)
			}
		}
		if clean == 0 || stalled == 0 {
			t.Errorf("k=%d: %d clean and %d stalled listings of 500; want both", k, clean, stalled)
		}
	}
}
