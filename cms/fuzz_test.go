package cms

import (
	"bytes"
	"testing"
)

// FuzzUnmarshalBinary: any input either fails with an error or decodes to
// a sketch that re-encodes to the same bytes (format 1's in format 2) and
// answers queries.
func FuzzUnmarshalBinary(f *testing.F) {
	s := MustNew(Params{Width: 5, Depth: 2, Seed: 9})
	s.Add([]byte("a"), 4)
	s.Add([]byte("b"), 1)
	good, _ := s.MarshalBinary()
	c := MustNew(Params{Width: 3, Depth: 3, Conservative: true})
	c.Add([]byte("a"), 2)
	cons, _ := c.MarshalBinary()
	f.Add([]byte{})                                             // empty
	f.Add(good)                                                 // valid standard sketch
	f.Add(cons)                                                 // valid conservative sketch
	f.Add(good[:len(good)-1])                                   // one byte short
	f.Add(good[:headerLen])                                     // header only
	f.Add(append([]byte("CMS2"), 0, 0, 0))                      // truncated header
	f.Add(append([]byte(magicV1), good[4:len(good)-crcLen]...)) // format 1
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Sketch
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		want := b
		if string(b[:4]) == magicV1 { // re-encoded as format 2
			want = reseal(append(append([]byte(magic), b[4:]...), 0, 0, 0, 0))
		}
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("round trip changed %x into %x (%v)", b, out, err)
		}
		before := append([]uint32(nil), s.Counters()...)
		s.Add([]byte("probe"), 1)
		if s.Estimate([]byte("probe")) == 0 {
			t.Fatal("estimate below the true count after decoding")
		}
		// Add's unchecked path relies on no counter exceeding N, which
		// decoding must enforce: no counter may wrap.
		for i, v := range s.Counters() {
			if v < before[i] {
				t.Fatalf("counter %d wrapped from %d to %d", i, before[i], v)
			}
		}
	})
}
