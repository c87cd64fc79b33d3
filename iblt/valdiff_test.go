package iblt

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// A key in both tables with different values cancels in count, key and
// checksum but leaves the value difference in its cells. Here no listed
// key shares all its cells, and List reports ErrDecodeIncomplete and the
// entries it could list (TestSubtract_ResidueAbsorbed shows when it
// cannot tell).
func TestSubtract_SameKeyDifferentValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	keys := randKeys(rng, 51, 16)
	p := Params{Cells: 120, Hashes: 3, KeyLen: 16, Seed: 3}
	a, b := MustNew(p), MustNew(p)
	for i, k := range keys[:50] {
		a.Insert(k, uint64(i))
		b.Insert(k, uint64(i))
	}
	a.Insert(keys[50], 1) // only in a
	b.Delete(keys[0], 0)  // keys[0]: value 0 in a, ...
	b.Insert(keys[0], 99) // ... 99 in b
	if err := a.Subtract(b); err != nil {
		t.Fatal(err)
	}
	ins, del, err := a.List()
	if !errors.Is(err, ErrDecodeIncomplete) {
		t.Fatalf("List = %d inserted, %d deleted, %v; want ErrDecodeIncomplete", len(ins), len(del), err)
	}
}
