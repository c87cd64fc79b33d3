package bloom_test

import (
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/golden"
)

// TestEncoding_Golden pins the encodings of a small filter of each kind,
// filled from fixed keys: the header, the word layout and the bits that
// the hash contract picks (testdata/*.golden; see package
// internal/golden). A filter saved by one release must load in the next,
// and every host must write the same bytes: CI runs this on a big-endian
// host too. Every filter must also still hold its keys after a decode.
func TestEncoding_Golden(t *testing.T) {
	keys := golden.Keys(12)
	p := bloom.Params{Bits: 256, Hashes: 3, Seed: 7}

	f := bloom.MustNew(p)
	p.Bits = 1024 // two blocks
	b, err := bloom.NewBlocked(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Bits = 64
	c4, err := bloom.NewCounting(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	c8, err := bloom.NewCounting(p, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		k := keys[i].Bytes()
		f.Add(k)
		b.Add(k)
		c4.Add(k)
		c8.Add(k)
		if i%4 == 0 { // some counters above 1, and one removal
			c4.Add(k)
			c8.Add(k)
		}
	}
	last := keys[len(keys)-1].Bytes()
	for _, c := range []*bloom.CountingFilter{c4, c8} {
		if err := c.Remove(last); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name, about string
		enc         interface{ MarshalBinary() ([]byte, error) }
		dec         interface {
			UnmarshalBinary([]byte) error
			Contains([]byte) bool
		}
		keys int // the first keys that the decoded filter must hold
	}{
		{"filter", "bloom.Filter, 256 bits, k = 3, seed 7, golden.Keys(12)", f, new(bloom.Filter), 12},
		{"blocked", "bloom.Blocked, 1024 bits, k = 3, seed 7, golden.Keys(12)", b, new(bloom.Blocked), 12},
		{"counting4", "bloom.CountingFilter, 64 4-bit counters, k = 3, seed 7, golden.Keys(12), every fourth twice, the last removed", c4, new(bloom.CountingFilter), 11},
		{"counting8", "bloom.CountingFilter, 64 8-bit counters, k = 3, seed 7, golden.Keys(12), every fourth twice, the last removed", c8, new(bloom.CountingFilter), 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := tc.enc.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.name, tc.about, enc)
			if err := tc.dec.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			for i := range keys[:tc.keys] {
				if !tc.dec.Contains(keys[i].Bytes()) {
					t.Fatalf("decoded filter lost key %d", i)
				}
			}
		})
	}
}
