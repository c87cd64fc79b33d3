package maglev_test

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/internal/golden"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestEncoding_Golden pins a small weighted table: its encoding (size,
// seed, backends) and its entries, which every node given the same
// backends must build (and which the kernel reads as written). A change
// in the name hash, the permutation or the weighted fill fails here
// (testdata/*.golden; see package internal/golden); CI runs this on a
// big-endian host too. The file of version 1 (table-v1.golden) must
// still load.
func TestEncoding_Golden(t *testing.T) {
	backends := []maglev.Backend{{Name: "10.1.0.1:80", Weight: 1}, {Name: "10.1.0.2:80", Weight: 2}, {Name: "10.1.0.3:80", Weight: 1}, {Name: "10.1.0.4:80"}}
	tab, err := maglev.New(maglev.Params{Size: 31, Seed: 7}, backends)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "table", "maglev.Table, size 31, seed 7, four backends of weights 1, 2, 1, 0", enc)
	var entries []byte
	for _, e := range tab.AppendEntries(nil) {
		entries = binary.BigEndian.AppendUint32(entries, e)
	}
	golden.Check(t, "entries", "the entries of that table, 4 bytes each, big-endian", entries)
	var back maglev.Table
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	// The same table in version 1, as earlier versions saved it, still
	// loads, to the same table.
	v1 := golden.Read(t, "table-v1")
	var back1 maglev.Table
	if err := back1.UnmarshalBinary(v1); err != nil {
		t.Fatalf("version 1: %v", err)
	}
	if again, _ := back1.MarshalBinary(); !slices.Equal(again, enc) {
		t.Fatalf("version 1 decoded and encoded again: %x, want %x", again, enc)
	}
	for j := range tab.Size() {
		if back.Entry(j) != tab.Entry(j) {
			t.Fatalf("decoded table's entry %d is %d, want %d", j, back.Entry(j), tab.Entry(j))
		}
	}
	if back.Count(3) != 0 || back.Count(1) <= back.Count(0) {
		t.Fatalf("decoded counts %d %d %d %d: want the weight-2 backend above the weight-1 ones and the drained one at 0", back.Count(0), back.Count(1), back.Count(2), back.Count(3))
	}
}
