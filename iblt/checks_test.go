package iblt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/flow"
)

// Focused tests of the checks that recognise a pure cell or symbol, and
// of the guards that keep a corrupt input from looping: each fails when
// its check is disabled (random tables never reach most of them).

// A cell holding one whole key (count 1, key, checksum, value) that is not
// one of the key's own cells is not pure: List must not peel it. Peeling
// it would list the key, remove it from its real cells (listing it again
// on the deleted side) and leave the foreign cell as it was.
func TestList_PureNeedsOwnCell(t *testing.T) {
	p := Params{Cells: 8, Hashes: 2, KeyLen: 13, Seed: 3}
	tb := MustNew(p)
	key := []byte("0123456789abc")
	h := flow.Hash64(key, p.Seed)
	own := int(flow.Index(h, 0, 4))
	foreign := (own + 1) % 4 // sub-table 0, not the key's cell
	ref := MustNew(p)
	ref.Insert(key, 7)
	copy(tb.cells[foreign*tb.stride:(foreign+1)*tb.stride], ref.cells[own*tb.stride:(own+1)*tb.stride])
	ins, del, err := tb.List()
	if !errors.Is(err, ErrDecodeIncomplete) || len(ins)+len(del) != 0 {
		t.Errorf("a whole key in a foreign cell: listed %d+%d, err %v; want nothing and ErrDecodeIncomplete", len(ins), len(del), err)
	}
}

// A key whose only cell (k = 1) holds count 1 and exactly its key words,
// but as the sum of five keys (A + B + D - C - E with B^D = C^E), is not
// found: the checksum differs. Without the checksum comparison Get would
// return A "found" with the value sum of all five.
func TestTable_GetNeedsChecksum(t *testing.T) {
	p := Params{Cells: 1, Hashes: 1, KeyLen: 8, Seed: 9}
	tb := MustNew(p)
	k := func(x uint64) []byte { return binary.LittleEndian.AppendUint64(nil, x) }
	a, b, d, z := uint64(0xa), uint64(0xb0), uint64(0xd00), uint64(0xf000)
	tb.Insert(k(a), 1)
	tb.Insert(k(b), 2)
	tb.Insert(k(d), 3)
	tb.Delete(k(b^z), 4)
	tb.Delete(k(d^z), 5)
	if v, r := tb.Get(k(a)); r != Undetermined {
		t.Errorf("Get of a key whose words equal a 5-key sum = %d, %v; want undetermined", v, r)
	}
	if _, _, err := tb.List(); !errors.Is(err, ErrDecodeIncomplete) {
		t.Errorf("List of the 5-key cell: %v, want ErrDecodeIncomplete", err)
	}
}

// Get's two Absent cases beyond an empty cell: a cell holding another key
// alone, and the key itself on the deleted side.
func TestTable_GetAbsent(t *testing.T) {
	p := Params{Cells: 1, Hashes: 1, KeyLen: 4, Seed: 1}
	tb := MustNew(p)
	tb.Insert([]byte("bbbb"), 2)
	if v, r := tb.Get([]byte("aaaa")); r != Absent || v != 0 {
		t.Errorf("Get of a key whose cell holds another key alone = %d, %v; want absent", v, r)
	}
	tb.Reset()
	tb.Delete([]byte("aaaa"), 3)
	if v, r := tb.Get([]byte("aaaa")); r != Absent || v != 0 {
		t.Errorf("Get of a key deleted but never inserted = %d, %v; want absent", v, r)
	}
}

// Non-zero padding above the key length (a table filled through Words
// from a foreign or corrupt source; UnmarshalBinary rejects it) makes a
// cell impure: otherwise List would list the key and clear the padding
// with it, reporting success for a table its entries do not rebuild.
func TestList_PaddingMakesImpure(t *testing.T) {
	tb := MustNew(Params{Cells: 1, Hashes: 1, KeyLen: 13, Seed: 2})
	tb.Insert([]byte("0123456789abc"), 1)
	tb.Words()[wKey+1] |= 1 << 63 // padding: bytes 13..15 of the key
	if ins, del, err := tb.List(); err == nil {
		t.Errorf("a cell with key padding: listed %d+%d with no error", len(ins), len(del))
	}
}

// A corrupt cell pair can make peeling cycle forever: key A pure in its
// sub-table 0 cell, and its sub-table 1 cell holding count 2 and nothing
// else. Peeling A makes the second pure, peeling that makes the first
// pure again on the other side, and so on. List stops after m entries.
func TestList_CapsEntries(t *testing.T) {
	p := Params{Cells: 8, Hashes: 2, KeyLen: 5, Seed: 4}
	tb := MustNew(p)
	key := []byte("hello")
	tb.Insert(key, 1)
	c1 := 4 + int(flow.Index(flow.Hash64(key, p.Seed), 1, 4))
	cell := tb.cells[c1*tb.stride : (c1+1)*tb.stride]
	clear(cell)
	cell[wCount] = 2
	type res struct {
		n   int
		err error
	}
	done := make(chan res, 1)
	go func() {
		ins, del, err := tb.List()
		done <- res{len(ins) + len(del), err}
	}()
	select {
	case r := <-done:
		if !errors.Is(r.err, ErrDecodeIncomplete) || r.n > p.Cells {
			t.Errorf("cycling table: listed %d entries, err %v; want at most %d and ErrDecodeIncomplete", r.n, r.err, p.Cells)
		}
	case <-time.After(10 * time.Second): // microseconds when the guard works; generous for loaded CI hosts
		// Without the cap List never returns and its buffers grow without
		// bound: stop the whole test binary, not just this test.
		panic("List of a cycling table did not return within 10 s")
	}
}

// symbol encodes one coded symbol: count, checksum, key.
func symbol(count int64, check uint64, key []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(count))
	b = binary.LittleEndian.AppendUint64(b, check)
	return append(b, key...)
}

// keyMapping returns a 5-byte key with index hash h for which want(h)
// holds.
func keyMapping(seed uint64, want func(h uint64) bool) []byte {
	for i := uint32(0); ; i++ {
		key := binary.LittleEndian.AppendUint32([]byte{'k'}, i)
		if want(flow.Hash64(key, seed)) {
			return key
		}
	}
}

// symbolOf encodes a coded symbol with the given count holding the XOR of
// keys and of their checksums under seed.
func symbolOf(seed uint64, count int64, keys ...[]byte) []byte {
	key := make([]byte, len(keys[0]))
	var check uint64
	for _, k := range keys {
		for i := range k {
			key[i] ^= k[i]
		}
		check ^= flow.Hash64(k, ChecksumSeed(seed))
	}
	return symbol(count, check, key)
}

// TestDecoder_ProvesCorruption feeds a decoder short hand-made streams,
// each proven corrupt by one check at its last symbol, and each accepted
// up to that symbol. Every case fails when its check is disabled: either
// nothing is reported, or another check reports it later or differently.
// After the error, the decoder is not Done and keeps returning it.
func TestDecoder_ProvesCorruption(t *testing.T) {
	const seed = 5
	zero := make([]byte, 5)
	k := func(i uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{'k'}, i) }
	key := func(want func(h uint64) bool) []byte { return keyMapping(seed, want) }
	m1 := func(h uint64) bool { return maps(h, 1) }
	m2 := func(h uint64) bool { return maps(h, 2) }
	not := func(f func(uint64) bool) func(uint64) bool { return func(h uint64) bool { return !f(h) } }
	and := func(f, g func(uint64) bool) func(uint64) bool { return func(h uint64) bool { return f(h) && g(h) } }
	var (
		k1      = key(m1)                    // maps to 1
		kn1     = key(not(m1))               // does not map to 1
		k12     = key(and(m1, m2))           // maps to 1 and 2
		k1n2    = key(and(m1, not(m2)))      // maps to 1, not 2
		kn1n2   = key(and(not(m1), not(m2))) // maps to neither
		other   = symbolOf(seed+1, 1, k(0))  // one key, checksum under another seed
		bumped  = symbolOf(seed, 2, k1)      // k1 alone but counted twice
		k1Twice = symbol(3, flow.Hash64(k1n2, ChecksumSeed(seed)), k1n2)
		x       = []byte("xxxxx") // not of the form keyMapping returns
	)
	for _, c := range []struct {
		name  string
		local [][]byte
		syms  [][]byte
		want  string // in the error at the last symbol
	}{
		{"negative count", nil, [][]byte{symbol(-1, 0, zero)}, "symbol 0 counts -1 keys"},
		{"negative count after symbol 0", nil, [][]byte{symbolOf(seed, 1, k(0)), symbol(-1, 0, zero)}, "symbol 1 counts -1 keys; a count is never negative"},
		{"count above symbol 0", nil, [][]byte{symbolOf(seed, 1, k(0)), symbol(2, 0, zero)}, "more than the 1 of symbol 0"},
		{"no key, non-zero sums", nil, [][]byte{symbolOf(seed, 1, k(0)), symbol(0, 5, zero)}, "counts no key but its sums are not zero"},
		{"another seed", nil, [][]byte{other}, "checksum is not the key's"},
		{"one key, not its index", nil, [][]byte{symbolOf(seed, 1, kn1), symbolOf(seed, 1, kn1)}, "which does not map to it (symbols reordered"},
		// Symbol 1 minus local k1 is kn1 alone.
		// kn1 and x in symbol 0 keep it from being pure.
		{"difference key, not its index", [][]byte{k1}, [][]byte{symbolOf(seed, 3, k1, kn1, x), symbolOf(seed, 2, k1, kn1)}, "alone, which does not map to it"},
		// Symbol 0 holds local k(0) twice: the sender side of a local key.
		{"sender's key is local", [][]byte{k(0)}, [][]byte{symbol(2, 0, zero)}, "as the sender's alone, but it is a local key"},
		{"receiver's key is not local", [][]byte{k(0), k(1), k(2)}, [][]byte{symbolOf(seed, 2, k(0), k(1), k(2), k(3))}, "as the receiver's alone, but it is not a local key"},
		// Symbol 1 holds k12 twice beside k1n2; kn1n2 is common. Symbol 2
		// yields k12, which makes symbol 0 yield k1n2, which makes symbol 1
		// yield k12 again.
		{"key recovered twice", [][]byte{kn1n2}, [][]byte{symbolOf(seed, 3, k12, k1n2, kn1n2), k1Twice, symbolOf(seed, 1, k12)}, "recovered before"},
		{"zero checksum, on arrival", nil, [][]byte{symbol(2, 0, zero)}, "symbol 0 minus the known keys has a zero checksum"},
		// Symbol 1 yields k1; symbol 0 is then count 1 with zero sums.
		{"zero checksum, after peeling", nil, [][]byte{bumped, symbolOf(seed, 1, k1)}, "symbol 0 minus the known keys has a zero checksum"},
		// k1n2 and k12, symbol 1's checksum flipped: symbol 2 yields k12,
		// then symbol 0 yields k1n2 and is empty, but symbol 1 is not.
		{"symbol 0 empty, another not", nil, [][]byte{symbolOf(seed, 2, k1n2, k12), flip(symbolOf(seed, 2, k1n2, k12), 8), symbolOf(seed, 1, k12)}, "symbol 0 is accounted for, but symbol 1 is not"},
		// Done after symbol 0 (kn1 alone); symbol 1 should be empty.
		{"after done", nil, [][]byte{symbolOf(seed, 1, kn1), symbolOf(seed, 1, k1)}, "symbol 1 is not the symbol of the sets decoded"},
	} {
		dec, _ := NewDecoder(5, seed)
		for _, l := range c.local {
			if err := dec.AddLocal(l); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		var err error
		for i, s := range c.syms {
			if err = dec.AddSymbol(s); err != nil && i < len(c.syms)-1 {
				t.Fatalf("%s: symbol %d: %v, want no error before the last symbol", c.name, i, err)
			}
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error wrapping ErrCorrupt with %q", c.name, err, c.want)
			continue
		}
		if dec.Done() {
			t.Errorf("%s: Done after the error", c.name)
		}
		if again := dec.AddSymbol(c.syms[0]); again != err || dec.Received() != len(c.syms) {
			t.Errorf("%s: after the error, AddSymbol = %v with %d received; want the same error and %d", c.name, again, dec.Received(), len(c.syms))
		}
		seen := map[string]bool{}
		for _, r := range append(dec.Remote(), dec.Local()...) {
			if seen[string(r)] {
				t.Errorf("%s: key %x listed twice", c.name, r)
			}
			seen[string(r)] = true
		}
	}
}

// flip returns b with bit 0 of byte i flipped.
func flip(b []byte, i int) []byte {
	b[i] ^= 1
	return b
}

// A symbol of the wrong size (a sender with another key length) is
// refused with ErrCorrupt, and the decoder goes on as if it had not been
// offered.
func TestDecoder_WrongSizeSymbol(t *testing.T) {
	enc, _ := NewEncoder(5, 1)
	enc.Add([]byte("hello"))
	dec, _ := NewDecoder(5, 1)
	for _, n := range []int{0, SymbolSize(5) - 1, SymbolSize(5) + 1, SymbolSize(13)} {
		err := dec.AddSymbol(make([]byte, n))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("must be %d bytes for keys of 5 bytes, got %d", SymbolSize(5), n)) {
			t.Errorf("a %d-byte symbol: %v, want ErrCorrupt naming both sizes", n, err)
		}
	}
	if err := dec.AddSymbol(enc.AppendNext(nil)); err != nil || !dec.Done() || len(dec.Remote()) != 1 {
		t.Errorf("after refused symbols: %v, done %v, remote %q; want hello", err, dec.Done(), dec.Remote())
	}
}

// A corrupt stream can make the decoder recover keys over and over: key
// K maps to symbols 0 and 1; symbol 0 holds K, symbol 1 holds count 2 and
// nothing else. Recovering K would make symbol 1 pure, which would make
// symbol 0 pure on the other side, and so on. Symbol 1 counts more keys
// than symbol 0 and is refused; were it not, the check on recovered keys
// and the cap of one recovered key per symbol received stop the cycle.
func TestDecoder_StopsOnMoreKeysThanSymbols(t *testing.T) {
	const seed = 6
	key := keyMapping(seed, func(h uint64) bool { return maps(h, 1) })
	dec, _ := NewDecoder(5, seed)
	done := make(chan struct{})
	go func() {
		dec.AddSymbol(symbol(1, flow.Hash64(key, ChecksumSeed(seed)), key))
		dec.AddSymbol(symbol(2, 0, make([]byte, 5)))
		close(done)
	}()
	select {
	case <-done:
		if n := len(dec.Remote()) + len(dec.Local()); n > dec.Received() || dec.Done() {
			t.Errorf("corrupt stream: %d keys from %d symbols, done %v", n, dec.Received(), dec.Done())
		}
	case <-time.After(10 * time.Second): // microseconds when the guard works; generous for loaded CI hosts
		panic("AddSymbol of a cycling stream did not return within 10 s") // as in TestList_CapsEntries
	}
}

// An estimator encoding that UnmarshalBinary refuses, even when each
// stratum is valid alone, gets an error naming what is wrong: the magic
// found, and the field in which a stratum differs
// from stratum 0 (its seed or key length, with the value of each), not
// its length or a shape both share.
func TestEstimator_UnmarshalErrorsNameTheFault(t *testing.T) {
	enc := func(p EstimatorParams) []byte {
		e, _ := NewEstimator(p)
		b, _ := e.MarshalBinary()
		return b
	}
	p := EstimatorParams{Strata: 2, Cells: 8, KeyLen: 4, Seed: 1}
	good := enc(p)
	stratum := len(good[8:]) / 2
	second := func(q EstimatorParams) []byte { // good's stratum 0, then q's stratum 1
		other := enc(q)
		return append(append([]byte(nil), good[:8+stratum]...), other[8+len(other[8:])/2:]...)
	}
	t3 := MustNew(Params{Cells: 9, Hashes: 3, KeyLen: 4, Seed: 1})
	b3, _ := t3.MarshalBinary()
	// good with stratum 0's header changed by f: a field out of range must
	// be named, not the bytes the stratum would need if it were valid
	header := func(f func(h []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b[8 : 8+headerSize])
		return b
	}
	// 65 copies of good's stratum 0: valid strata, one more than allowed
	strata65 := []byte("IBSE\x01\x41\x00\x00")
	for range 65 {
		strata65 = append(strata65, good[8:8+stratum]...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want []string
	}{
		{"magic", append([]byte("XBSE"), good[4:]...), []string{`"XBSE"`, `"IBSE"`}},
		{"short", []byte("IBSE"), []string{"at least 8 bytes", "got 4"}},
		{"seed", second(EstimatorParams{Strata: 2, Cells: 8, KeyLen: 4, Seed: 2}), []string{"stratum 1", "seed 0x2", "seed 0x1"}},
		{"key len", second(EstimatorParams{Strata: 2, Cells: 8, KeyLen: 5, Seed: 1}), []string{"stratum 1", "key length 5", "key length 4"}},
		{"cells", second(EstimatorParams{Strata: 2, Cells: 12, KeyLen: 4, Seed: 1}), []string{"stratum 1", "cells 12", "cells 8"}},
		{"hashes", append([]byte("IBSE\x01\x01\x00\x00"), b3...), []string{"stratum 0", "3 hashes", "want 4"}},
		{"hashes out of range", header(func(h []byte) { h[5] = 200 }), []string{"stratum 0", "hashes must be in [1, 8], got 200"}},
		{"key length out of range", header(func(h []byte) { h[6], h[7] = 0xff, 0xff }), []string{"stratum 0", "key length must be in [1, 256], got 65535"}},
		{"cells out of range", header(func(h []byte) { h[11] = 0x7f }), []string{"stratum 0", "cells must be at most 268435456"}},
		{"magic and size", header(func(h []byte) { copy(h, "XBLT"); h[5] = 200 }), []string{"stratum 0", `must start with "IBLT", got "XBLT"`}},
		{"stratum truncated", good[:len(good)-1], []string{"stratum 1", "needs", "bytes"}},
		{"trailing byte", append(append([]byte(nil), good...), 0), []string{"1 trailing bytes"}},
		{"version", append([]byte("IBSE\x02"), good[5:]...), []string{"version must be 1", "02 02 00 00"}},
		{"reserved", append([]byte("IBSE\x01\x02\x00\x01"), good[8:]...), []string{"zero reserved bytes", "01 02 00 01"}},
		{"no strata", []byte("IBSE\x01\x00\x00\x00"), []string{"strata must be in [1, 64], got 0"}},
		{"65 strata", strata65, []string{"strata must be in [1, 64], got 65"}},
	} {
		var e Estimator
		err := e.UnmarshalBinary(c.b)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want an error matching ErrFormat", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// Get of a key of the wrong length is not looked up: 0 and Undetermined,
// even when the right-length key is in the table, and no allocation.
func TestTable_GetWrongKeyLen(t *testing.T) {
	tb := MustNew(Params{Cells: 3, Hashes: 3, KeyLen: 4, Seed: 1})
	tb.Insert([]byte("abcd"), 7)
	if v, r := tb.Get([]byte("abcd")); r != Found || v != 7 {
		t.Fatalf("Get of the inserted key = %d, %v", v, r)
	}
	for _, k := range [][]byte{nil, []byte("abc"), []byte("abcd\x00"), []byte("abcde")} {
		if v, r := tb.Get(k); r != Undetermined || v != 0 {
			t.Errorf("Get(%q) = %d, %v; want 0, undetermined", k, v, r)
		}
		if a := testing.AllocsPerRun(100, func() { tb.Get(k) }); a != 0 {
			t.Errorf("Get(%q) allocates %v times", k, a)
		}
	}
}
