package iblt_test

import (
	"bytes"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/golden"
)

// TestEncoding_Golden pins the encodings of a small table and a small
// strata estimator, filled from fixed 13-byte flow keys: the headers, the
// cell layout, and the cells and strata that the hash contract picks
// (testdata/*.golden; see package internal/golden). A digest saved or sent
// by one release must decode in the next, and every host must write the
// same bytes: CI runs this on a big-endian host too. The decoded table
// must still list what was inserted and deleted.
func TestEncoding_Golden(t *testing.T) {
	var keys [][]byte // the IPv4 keys of golden.Keys: 13 bytes each
	for _, k := range golden.Keys(15) {
		if b := k.Bytes(); len(b) == flow.KeyLen4 {
			keys = append(keys, b)
		}
	}
	tab := iblt.MustNew(iblt.Params{Cells: 24, Hashes: 3, KeyLen: flow.KeyLen4, Seed: 7})
	for i, k := range keys[:4] {
		if err := tab.Insert(k, uint64(1000*i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Delete(keys[4], 99); err != nil {
		t.Fatal(err)
	}
	enc, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "table", "iblt.Table, 24 cells, k = 3, 13-byte keys, seed 7: the first 4 IPv4 keys of golden.Keys inserted with values 1000i+1, the 5th deleted with 99", enc)
	var dec iblt.Table
	if err := dec.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	ins, del, err := dec.List()
	if err != nil || len(ins) != 4 || len(del) != 1 || !bytes.Equal(del[0].Key, keys[4]) || del[0].Value != 99 {
		t.Fatalf("decoded table lists %d inserted, %v deleted, %v; want 4 and the 5th key", len(ins), del, err)
	}
	for _, e := range ins {
		if i := bytes.Index(bytes.Join(keys[:4], nil), e.Key) / flow.KeyLen4; !bytes.Equal(keys[i], e.Key) || e.Value != uint64(1000*i+1) {
			t.Fatalf("decoded table lists %x = %d, not inserted", e.Key, e.Value)
		}
	}

	est, err := iblt.NewEstimator(iblt.EstimatorParams{Strata: 4, Cells: 8, KeyLen: flow.KeyLen4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := est.Insert(k); err != nil {
			t.Fatal(err)
		}
	}
	enc, err = est.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "estimator", "iblt.Estimator, 4 strata of 8 cells, 13-byte keys, seed 7: the 10 IPv4 keys of golden.Keys(15)", enc)
	var back iblt.Estimator
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	empty, _ := iblt.NewEstimator(iblt.EstimatorParams{Strata: 4, Cells: 8, KeyLen: flow.KeyLen4, Seed: 7})
	if err := back.Subtract(empty); err != nil {
		t.Fatal(err)
	}
	if err := est.Subtract(empty); err != nil {
		t.Fatal(err)
	}
	got, err1 := back.Estimate()
	want, err2 := est.Estimate()
	if err1 != nil || err2 != nil || got != want || got == 0 {
		t.Fatalf("decoded estimator estimates %d (%v), the original %d (%v)", got, err1, want, err2)
	}
}
