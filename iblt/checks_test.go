package iblt

import (
	"encoding/binary"
	"errors"
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

// A symbol that holds one whole key but at an index the key does not map
// to is not pure: the decoder must not recover the key from it.
func TestDecoder_PureNeedsMapping(t *testing.T) {
	const seed = 5
	key := keyMapping(seed, func(h uint64) bool { return !maps(h, 1) })
	dec, _ := NewDecoder(5, seed)
	dec.AddSymbol(symbol(0, 0, make([]byte, 5)))
	dec.AddSymbol(symbol(1, flow.Hash64(key, ChecksumSeed(seed)), key))
	if len(dec.Remote())+len(dec.Local()) != 0 {
		t.Errorf("recovered %q from symbol 1, to which it does not map", append(dec.Remote(), dec.Local()...))
	}
}

// A corrupt stream can make the decoder recover one key over and over: key
// K maps to symbols 0 and 1; symbol 0 holds K, symbol 1 holds count 2 and
// nothing else. Recovering K makes symbol 1 pure, which makes symbol 0
// pure on the other side, and so on. The decoder stops (and is never Done)
// once it has recovered more keys than it received symbols.
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

// UnmarshalBinary rejects an encoding whose strata differ in seed or
// shape, or are not k = 4 tables, even when each stratum is valid alone.
func TestEstimator_UnmarshalMixedStrata(t *testing.T) {
	enc := func(p EstimatorParams) []byte {
		e, _ := NewEstimator(p)
		b, _ := e.MarshalBinary()
		return b
	}
	p := EstimatorParams{Strata: 2, Cells: 8, KeyLen: 4, Seed: 1}
	good := enc(p)
	stratum := len(good[8:]) / 2
	for name, q := range map[string]EstimatorParams{
		"seed":    {Strata: 2, Cells: 8, KeyLen: 4, Seed: 2},
		"cells":   {Strata: 2, Cells: 12, KeyLen: 4, Seed: 1},
		"key len": {Strata: 2, Cells: 8, KeyLen: 5, Seed: 1},
	} {
		other := enc(q)
		mixed := append(append([]byte(nil), good[:8+stratum]...), other[8+len(other[8:])/2:]...)
		var e Estimator
		if err := e.UnmarshalBinary(mixed); err == nil {
			t.Errorf("stratum 1 with another %s accepted", name)
		}
	}
	t3 := MustNew(Params{Cells: 9, Hashes: 3, KeyLen: 4, Seed: 1})
	b3, _ := t3.MarshalBinary()
	var e Estimator
	if err := e.UnmarshalBinary(append([]byte("IBSE\x01\x01\x00\x00"), b3...)); err == nil {
		t.Error("a k = 3 stratum accepted")
	}
}
