package flowradar_test

import (
	"testing"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/golden"
)

// TestEncoding_Golden pins the encoding of a small FlowRadar table filled
// from fixed flows: the header, the flow filter's words, the cell layout,
// and the bits and cells that the hash contract picks (testdata/*.golden;
// see package internal/golden). A collector must decode a table that a
// switch of another release or another byte order wrote: CI runs this on
// a big-endian host too. The decoded table must still decode to the flows.
func TestEncoding_Golden(t *testing.T) {
	keys := golden.Keys(5)
	tab, err := flowradar.NewTable(flowradar.Params{Cells: 16, Hashes: 4, FilterBits: 512, FilterHashes: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		for p := 0; p <= i; p++ {
			tab.Add(&keys[i], uint32(60+100*i+p))
		}
	}
	enc, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "table", "flowradar.Table, 16 cells, k_c = 4, 512 filter bits, k_f = 3, seed 7: flow i of golden.Keys(5) has i+1 packets of 60+100i+p bytes", enc)
	var back flowradar.Table
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	d, err := back.Decode()
	if err != nil || len(d.Flows) != len(keys) || d.Stuck != 0 {
		t.Fatalf("decoded table decodes %d flows, %d cells stuck, %v; want %d, 0", len(d.Flows), d.Stuck, err, len(keys))
	}
	for _, f := range d.Flows {
		i := -1
		for j := range keys {
			if keys[j] == f.Key {
				i = j
			}
		}
		n := uint64(i + 1)
		if i < 0 || f.Packets != n || f.Bytes != n*uint64(60+100*i)+n*(n-1)/2 {
			t.Fatalf("decoded flow %v: %d packets, %d bytes; not one added", f.Key, f.Packets, f.Bytes)
		}
	}
}
