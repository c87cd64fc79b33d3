package iblt

import "testing"

// TestTable_EqualComparesCells: Equal holds for tables of equal parameters
// and cells only; a change to any one word of any cell (count, value sum,
// checksum or a key word) makes it false, however it came about.
func TestTable_EqualComparesCells(t *testing.T) {
	p := Params{Cells: 6, Hashes: 3, KeyLen: 13, Seed: 3}
	a := MustNew(p)
	if err := a.Insert([]byte("a 13-byte key"), 7); err != nil {
		t.Fatal(err)
	}
	if b := a.Clone(); !a.Equal(b) || !b.Equal(a) {
		t.Fatal("a table differs from its clone")
	}
	for i := range a.Words() {
		b := a.Clone()
		b.Words()[i] ^= 1 << (i % 64)
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("tables differing in word %d (cell %d, word %d) are equal", i, i/a.CellWords(), i%a.CellWords())
		}
	}
	b := MustNew(p)
	if err := b.Insert([]byte("a 13-byte key"), 8); err != nil {
		t.Fatal(err)
	}
	if a.Equal(b) {
		t.Error("tables of one key with values 7 and 8 are equal")
	}
}
