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
	f.Fuzz(func(t *testing.T, b []byte) { checkDecoders(t, b) })
}

// FuzzUnmarshalSealed is FuzzUnmarshalBinary for inputs that carry a valid
// checksum: the fuzzer mutates an encoding without its CRC-32C and the test
// appends the right one, so mutations reach the checks behind the checksum
// (the words, the padding bits) instead of failing at it.
func FuzzUnmarshalSealed(f *testing.F) {
	fl := MustNew(Params{Bits: 130, Hashes: 3, Seed: 1})
	bl := MustNewBlocked(Params{Bits: 1024, Hashes: 9, Seed: 2})
	cf := MustNewCounting(Params{Bits: 33, Hashes: 4, Seed: 3}, 16)
	for _, key := range randomKeys(20, 5) {
		fl.Add(key)
		bl.Add(key)
		cf.Add(key)
	}
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{fl, bl, cf} {
		enc, _ := m.MarshalBinary()
		body := enc[:len(enc)-trailerLen]
		f.Add(body) // valid once sealed
		full := append([]byte(nil), body...)
		for i := headerLen; i < len(full); i++ {
			full[i] = 0xff // every cell set, padding too: rejected
		}
		f.Add(full)
		f.Add(body[:len(body)-1]) // one byte short
		for _, k := range []byte{0, MaxHashes + 1} {
			bad := append([]byte(nil), body...)
			bad[6] = k // k out of range: rejected, or a filter of no bits would answer for every key
			f.Add(bad)
		}
		pad := append([]byte(nil), body...)
		pad[len(pad)-1] |= 0x80 // the last bit of the last word, past cell m-1 except for the blocked filter
		f.Add(pad)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecoders(t, appendEncodingCRC(append([]byte(nil), body...)))
	})
}

// freshKeys are keys that no seed or test adds: a decoded filter may answer
// "present" to one only if the key's bits (counters) are all set.
var freshKeys = randomKeys(64, 0xf2e5)

// checkDecoders feeds b to the three decoders. Each either fails or yields
// a filter that re-encodes to b, whose answers on freshKeys are exactly
// those its bits give by the reference derivations (refPositions,
// refBlockedPositions): "present" only where every one of the key's bits
// or counters is set, so a filter with few bits set cannot answer present
// to most keys, and one answering present to every key has all their bits
// set. (A bound from the fill ratio alone could fail legitimately: the
// fuzzer may set exactly the fresh keys' bits.) Adding a key then finds it.
func checkDecoders(t *testing.T, b []byte) {
	var a Filter
	if a.UnmarshalBinary(b) == nil {
		checkReencode(t, &a, b)
		if a.k < 1 || a.k > MaxHashes || a.words[len(a.words)-1]&padMask(a.m, 1) != 0 {
			t.Fatalf("decoded k = %d, or padding bits set", a.k)
		}
		for i, key := range freshKeys {
			want := true
			for _, j := range refPositions(key, a.m, int(a.k), a.seed) {
				want = want && a.words[j/64]>>(j%64)&1 != 0
			}
			if a.Contains(key) != want {
				t.Fatalf("decoded filter (fill %.3f): Contains(fresh key %d) = %v, its bits say %v", a.FillRatio(), i, !want, want)
			}
		}
		a.Add([]byte("x"))
		if !a.Contains([]byte("x")) {
			t.Fatal("decoded filter is broken")
		}
	}
	var c Blocked
	if c.UnmarshalBinary(b) == nil {
		checkReencode(t, &c, b)
		if c.k < 1 || c.k > MaxHashes {
			t.Fatalf("decoded blocked k = %d", c.k)
		}
		for i, key := range freshKeys {
			want := true
			for _, j := range refBlockedPositions(key, uint32(c.Bits()), int(c.k), c.seed) {
				want = want && c.words[j/64]>>(j%64)&1 != 0
			}
			if c.Contains(key) != want {
				t.Fatalf("decoded blocked filter (fill %.3f): Contains(fresh key %d) = %v, its bits say %v", c.FillRatio(), i, !want, want)
			}
		}
		c.Add([]byte("x"))
		if !c.Contains([]byte("x")) {
			t.Fatal("decoded blocked filter is broken")
		}
	}
	var d CountingFilter
	if d.UnmarshalBinary(b) == nil {
		checkReencode(t, &d, b)
		if d.k < 1 || d.k > MaxHashes || d.words[len(d.words)-1]&padMask(d.m, uint8(d.Width())) != 0 {
			t.Fatalf("decoded counting k = %d, or padding counters set", d.k)
		}
		width := uint32(d.Width())
		perWord := 64 / width
		for i, key := range freshKeys {
			least := uint64(1)<<width - 1
			for _, j := range refPositions(key, d.m, int(d.k), d.seed) {
				v := d.words[j/perWord] >> (j % perWord * width) & (1<<width - 1)
				least = min(least, v)
			}
			if d.Contains(key) != (least > 0) || d.Count(key) != least {
				t.Fatalf("decoded counting filter: fresh key %d: Contains %v, Count %d; its counters' least is %d", i, d.Contains(key), d.Count(key), least)
			}
		}
		d.Add([]byte("x"))
		if !d.Contains([]byte("x")) || d.Remove([]byte("x")) != nil {
			t.Fatal("decoded counting filter is broken")
		}
	}
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
