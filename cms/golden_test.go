package cms_test

import (
	"bytes"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/golden"
)

// TestEncoding_Golden pins the encodings of a small sketch, standard and
// conservative, filled from fixed keys: the header, the counter layout and
// the columns that the hash contract picks (testdata/*.golden; see package
// internal/golden). A sketch saved by one release must load in the next,
// and every host must write the same bytes: CI runs this on a big-endian
// host too. The decoded sketch must still bound every key's count, and
// the files of format 1 (*-format1.golden) must still load.
func TestEncoding_Golden(t *testing.T) {
	keys := golden.Keys(12)
	for _, tc := range []struct {
		name, about  string
		conservative bool
	}{
		{"sketch", "cms.Sketch, width 16, depth 3, seed 7, golden.Keys(12), key i added i+1 times", false},
		{"conservative", "cms.Sketch, conservative, width 16, depth 3, seed 7, golden.Keys(12), key i added i+1 times", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cms.MustNew(cms.Params{Width: 16, Depth: 3, Seed: 7, Conservative: tc.conservative})
			for i := range keys {
				s.Add(keys[i].Bytes(), uint32(i+1))
			}
			enc, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.name, tc.about, enc)
			var d cms.Sketch
			if err := d.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			// The same sketch in format 1, as earlier versions saved it,
			// still loads, to the same sketch.
			v1 := golden.Read(t, tc.name+"-format1")
			var d1 cms.Sketch
			if err := d1.UnmarshalBinary(v1); err != nil {
				t.Fatalf("format 1: %v", err)
			}
			if again, _ := d1.MarshalBinary(); !bytes.Equal(again, enc) {
				t.Fatalf("format 1 decoded and encoded again: %x, want %x", again, enc)
			}
			if d.Total() != 78 || d.Params() != s.Params() {
				t.Fatalf("decoded total %d, params %v; want 78, %v", d.Total(), d.Params(), s.Params())
			}
			for i := range keys {
				if est := d.Estimate(keys[i].Bytes()); est < uint32(i+1) {
					t.Fatalf("decoded estimate of key %d = %d, below its count %d", i, est, i+1)
				}
			}
		})
	}
}
