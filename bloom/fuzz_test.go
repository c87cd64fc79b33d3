package bloom

import (
	"bytes"
	"testing"
)

// FuzzUnmarshalBinary feeds arbitrary bytes to the three decoders. A decoder
// either fails or yields a filter that re-encodes to the same bytes and
// answers queries without panicking.
func FuzzUnmarshalBinary(f *testing.F) {
	fl := MustNew(Params{Bits: 100, Hashes: 3, Seed: 1})
	fl.Add([]byte("a"))
	bl := MustNewBlocked(Params{Bits: 512, Hashes: 7, Seed: 2})
	bl.Add([]byte("b"))
	cf := MustNewCounting(Params{Bits: 33, Hashes: 4, Seed: 3}, 4)
	cf.Add([]byte("c"))
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{fl, bl, cf} {
		enc, _ := m.MarshalBinary()
		f.Add(enc)              // valid
		f.Add(enc[:len(enc)-1]) // one byte short
		f.Add(append(enc, 0))   // one byte long
		bad := append([]byte(nil), enc...)
		bad[6] = 0 // k = 0 (and a wrong checksum)
		f.Add(bad)
	}
	f.Add([]byte{})                   // empty
	f.Add([]byte("DPBL\x02\x01\x20")) // a header cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Filter
		if a.UnmarshalBinary(b) == nil {
			checkReencode(t, &a, b)
			a.Add([]byte("x"))
			if !a.Contains([]byte("x")) || a.k < 1 || a.k > MaxHashes {
				t.Fatal("decoded filter is broken")
			}
		}
		var c Blocked
		if c.UnmarshalBinary(b) == nil {
			checkReencode(t, &c, b)
			c.Add([]byte("x"))
			if !c.Contains([]byte("x")) {
				t.Fatal("decoded blocked filter is broken")
			}
		}
		var d CountingFilter
		if d.UnmarshalBinary(b) == nil {
			checkReencode(t, &d, b)
			d.Add([]byte("x"))
			if !d.Contains([]byte("x")) || d.Remove([]byte("x")) != nil {
				t.Fatal("decoded counting filter is broken")
			}
		}
	})
}

func checkReencode(t *testing.T, m interface{ MarshalBinary() ([]byte, error) }, b []byte) {
	t.Helper()
	enc, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("re-encoding differs: %x vs %x (%v)", enc, b, err)
	}
}

// FuzzKeys adds arbitrary byte keys: each is then contained by every kind of
// filter, and adding then removing it leaves a counting filter as it was.
func FuzzKeys(f *testing.F) {
	f.Add([]byte{}, uint64(0))                                // empty key
	f.Add([]byte("10.0.0.1:5353>10.0.0.2:53/udp"), uint64(1)) // text key
	f.Add(bytes.Repeat([]byte{0xff}, 37), ^uint64(0))         // IPv6-length key
	f.Add(bytes.Repeat([]byte{0}, 100), uint64(1<<63))        // long key
	fl := MustNew(Params{Bits: 1000, Hashes: 7})
	bl := MustNewBlocked(Params{Bits: 1024, Hashes: 9})
	cf := MustNewCounting(Params{Bits: 1000, Hashes: 7}, 4)
	for _, k := range randomKeys(50, 1) {
		cf.Add(k)
	}
	f.Fuzz(func(t *testing.T, key []byte, seed uint64) {
		fl.seed, bl.seed = seed, seed
		fl.Add(key)
		bl.Add(key)
		if !fl.Contains(key) || !bl.Contains(key) {
			t.Fatal("false negative")
		}
		before := cf.Clone()
		cf.Add(key)
		if !cf.Contains(key) {
			t.Fatal("counting false negative")
		}
		if err := cf.Remove(key); err != nil {
			t.Fatal(err)
		}
		if cf.Saturated() == 0 && !slicesEqual(cf.Words(), before.Words()) {
			t.Fatal("add then remove changed the counters")
		}
	})
}
