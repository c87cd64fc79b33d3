package iblt

import (
	"encoding/binary"
	"errors"
	"testing"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// u64key returns x as an 8-byte little-endian key.
func u64key(x uint64) []byte { return binary.LittleEndian.AppendUint64(nil, x) }

// Get treats a cell as empty only when its checksum is zero too: a
// difference cell whose count and key sum cancel but whose checksum does
// not still holds keys, and a key inserted there is not reported absent.
func TestTable_GetEmptyCellNeedsZeroChecksum(t *testing.T) {
	// One cell (k = 1), so every key shares it. a and b are in the first
	// table, c and d in the second, and a^b^c^d = 0 (1^2 = 3 = 4^7):
	// the difference's cell has count 2-2 = 0 and a zero key sum, but its
	// checksum is the XOR of four independent 64-bit hashes.
	p := Params{Cells: 1, Hashes: 1, KeyLen: 8, Seed: 5}
	t1, t2 := MustNew(p), MustNew(p)
	t1.Insert(u64key(1), 10)
	t1.Insert(u64key(2), 20)
	t2.Insert(u64key(4), 40)
	t2.Insert(u64key(7), 70)
	if err := t1.Subtract(t2); err != nil {
		t.Fatal(err)
	}
	// Key 1 is only in the first table: it is on the inserted side of the
	// difference, so Absent would be false; its cell holds four keys, so
	// nothing better than Undetermined can be said.
	if v, r := t1.Get(u64key(1)); r != Undetermined {
		t.Errorf("Get of a key on the inserted side of a four-key cell = %d, %v; want undetermined", v, r)
	}
}

// Get treats a cell as empty only when its key sum is zero too: a cell
// with a zero count and a zero checksum but a key left in it (a damaged
// cell) proves nothing about the key it holds.
func TestTable_GetEmptyCellNeedsZeroKeySum(t *testing.T) {
	p := Params{Cells: 1, Hashes: 1, KeyLen: 8, Seed: 5}
	tb := MustNew(p)
	w := tb.Words() // one cell: count, value, checksum, key
	w[wKey] = 1     // key 1 alone in the key sum, count and checksum 0
	if v, r := tb.Get(u64key(1)); r == Absent {
		t.Errorf("Get of the key a non-empty cell holds = %d, %v; want not absent", v, r)
	}
}

// Estimators that differ only in their number of strata are
// incompatible: Subtract refuses them with ErrIncompatible, whichever has
// more strata, rather than subtracting a prefix of the strata or reading
// past the other's.
func TestEstimator_SubtractDifferentStrata(t *testing.T) {
	small, err := NewEstimator(EstimatorParams{Strata: 2, Cells: 8, KeyLen: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	large, err := NewEstimator(EstimatorParams{Strata: 3, Cells: 8, KeyLen: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a, b *Estimator
	}{{"fewer minus more", small, large}, {"more minus fewer", large, small}} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s strata: Subtract panicked: %v", c.name, r)
				}
			}()
			if err := c.a.Subtract(c.b); !errors.Is(err, ErrIncompatible) {
				t.Errorf("%s strata: Subtract = %v, want ErrIncompatible", c.name, err)
			}
		}()
	}
}

// Grow(n) reserves room for all n keys, not only some of them: adding
// every key reserved allocates nothing, in the Encoder and the Decoder
// (the documented promise of Grow, checked up to the last key).
func TestRateless_GrowCoversEveryKey(t *testing.T) {
	const n = 3000
	enc, _ := NewEncoder(13, 1)
	dec, _ := NewDecoder(13, 1)
	// AllocsPerRun calls the function twice (a warm-up, then the run it
	// counts), each adding n new keys: 2n keys reserved, and the
	// allocations of the second n counted in total, not averaged per key.
	enc.Grow(2 * n)
	dec.Grow(2 * n)
	key := make([]byte, 13)
	i := 0
	addAll := func(add func([]byte) error) func() {
		return func() {
			for range n {
				i++
				binary.LittleEndian.PutUint16(key, uint16(i))
				if err := add(key); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if a := testing.AllocsPerRun(1, addAll(enc.Add)); a != 0 {
		t.Errorf("Encoder.Add of the last %d of %d keys Grow reserved allocates %v times", n, 2*n, a)
	}
	i = 0
	if a := testing.AllocsPerRun(1, addAll(dec.AddLocal)); a != 0 {
		t.Errorf("Decoder.AddLocal of the last %d of %d keys Grow reserved allocates %v times", n, 2*n, a)
	}
	if enc.Len() != 2*n || len(dec.local.maps) != 2*n {
		t.Errorf("%d and %d keys added, want %d", enc.Len(), len(dec.local.maps), 2*n)
	}
}
