package iblt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// rebuild inserts ins and deletes del into an empty table like t.
func rebuild(t *Table, ins, del []Entry) *Table {
	u := MustNew(t.Params())
	for _, e := range ins {
		u.Insert(e.Key, e.Value)
	}
	for _, e := range del {
		u.Delete(e.Key, e.Value)
	}
	return u
}

// checkList lists t and checks the contract: no panic; an error wraps
// ErrDecodeIncomplete; success means the listed entries rebuild t exactly.
// ListInto, into a Listing that holds an earlier listing of another table,
// and ListDifferenceInto, of t and an empty table, must list what List
// does, and leave t as it was.
func checkList(tb testing.TB, t *Table) (ins, del []Entry, err error) {
	was := slices.Clone(t.cells)
	ins, del, err = t.List()
	var l Listing
	other := MustNew(Params{Cells: 12, Hashes: 3, KeyLen: 3, Seed: 9})
	other.Insert([]byte("abc"), 1)
	other.Delete([]byte("xyz"), 2)
	if e := other.ListInto(&l); e != nil || len(l.Inserted) != 1 || len(l.Deleted) != 1 {
		tb.Fatalf("listing a table of two entries: %d+%d entries, %v", len(l.Inserted), len(l.Deleted), e)
	}
	sameListing(tb, "ListInto a used Listing", &l, t.ListInto(&l), ins, del, err)
	sameListing(tb, "ListDifferenceInto, minus an empty table", &l, t.ListDifferenceInto(MustNew(t.Params()), &l), ins, del, err)
	if !slices.Equal(t.cells, was) {
		tb.Fatal("listing changed the table")
	}
	if err != nil {
		if !errors.Is(err, ErrDecodeIncomplete) {
			tb.Fatalf("List error %v does not wrap ErrDecodeIncomplete", err)
		}
		return
	}
	if !rebuild(t, ins, del).Equal(t) {
		tb.Fatalf("listed %d+%d entries do not rebuild the table", len(ins), len(del))
	}
	return
}

// sameListing fails tb unless l, listed with error err, holds the entries
// ins and del and err is wantErr.
func sameListing(tb testing.TB, what string, l *Listing, err error, ins, del []Entry, wantErr error) {
	tb.Helper()
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		tb.Fatalf("%s: error %v, List's %v", what, err, wantErr)
	}
	same := func(a, b []Entry) bool {
		return slices.EqualFunc(a, b, func(x, y Entry) bool { return bytes.Equal(x.Key, y.Key) && x.Value == y.Value })
	}
	if !same(l.Inserted, ins) || !same(l.Deleted, del) {
		tb.Fatalf("%s: %d+%d entries, List's %d+%d, or others", what, len(l.Inserted), len(l.Deleted), len(ins), len(del))
	}
}

func FuzzUnmarshal(f *testing.F) {
	small := MustNew(Params{Cells: 6, Hashes: 3, KeyLen: 5, Seed: 1})
	small.Insert([]byte("abcde"), 7)
	good, _ := small.MarshalBinary()
	f.Add(good)                                                                                                // a valid table holding one entry
	f.Add(good[:len(good)-1])                                                                                  // one byte short
	f.Add([]byte{})                                                                                            // empty
	f.Add([]byte("IBLT\x01\x01\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + // k=1, L=1, one cell
		"\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x41\x00\x00\x00\x00\x00\x00\x00")) // count 1, bogus checksum
	f.Fuzz(func(t *testing.T, data []byte) {
		var u Table
		if err := u.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			return
		}
		again, _ := u.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatal("re-encoding differs from the accepted input")
		}
		if u.Cells()*u.CellWords() > 1<<16 {
			return // keep listing cheap
		}
		checkList(t, &u)
	})
}

// FuzzList builds a table of distinct seeded random keys (inserted only),
// XORs masks chosen by the input into words of it, and lists it. Always:
// no panic, an error wraps ErrDecodeIncomplete, and a nil error means the
// listed entries rebuild the table (checkList). Beside an error, the
// entries are checked as far as anything can check them:
//   - no corruption: a cell of count 1 holds exactly one key, so every
//     listed entry is an inserted key with its value, on the inserted side,
//     whether or not listing completes;
//   - only count and value words corrupted: every listed key is an
//     inserted key (a false pure cell needs a 64-bit checksum collision),
//     but its value and side are not checked: neither word is covered by
//     the checksum, and one flipped bit lists a wrong value, a flipped
//     count sign an inserted key as deleted;
//   - key or checksum words corrupted: nothing, since masks chosen with
//     knowledge of the checksum seed can forge a pure cell for any key.
func FuzzList(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(3), []byte{})                                    // clean
	f.Add(uint64(2), uint8(40), uint8(4), []byte{0, 0, 1, 0, 0, 0, 0, 0, 0})           // one count bumped
	f.Add(uint64(3), uint8(200), uint8(3), []byte{5, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 3}) // overloaded and corrupt
	f.Add(uint64(4), uint8(250), uint8(4), []byte{})                                   // overloaded, clean: partial listing
	f.Add(uint64(5), uint8(30), uint8(3), []byte{9, 1, 0, 0, 0, 0, 0, 0, 0})           // a value bit flipped
	f.Add(uint64(6), uint8(0), uint8(0), []byte{                                       // empty, k = 1: every count set to 1; the zero key's checksum is not 0
		0, 1, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 128, 1, 0, 0, 0, 0, 0, 0, 0, 192, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, k uint8, corrupt []byte) {
		k = k%4 + 1
		rng := rand.New(rand.NewPCG(seed, 1))
		keyLen := int(seed%20) + 1
		cells := int(k) * (int(n)/int(k) + 4)
		tb := MustNew(Params{Cells: cells, Hashes: int(k), KeyLen: keyLen, Seed: seed})
		want := map[string]uint64{}
		for i := 0; i < int(n); i++ {
			key := make([]byte, keyLen)
			for j := range key {
				key[j] = byte(rng.Uint32())
			}
			if _, dup := want[string(key)]; dup {
				continue
			}
			want[string(key)] = uint64(i)
			tb.Insert(key, uint64(i))
		}
		// Each 9 bytes of input: a word index (1 byte, scaled) and a mask.
		clean, keysSafe := true, true
		for ; len(corrupt) >= 9; corrupt = corrupt[9:] {
			w := int(corrupt[0]) * len(tb.cells) / 256
			mask := binary.LittleEndian.Uint64(corrupt[1:])
			if (w%tb.stride) == tb.stride-1 && keyLen%8 != 0 {
				mask &= 1<<(8*(keyLen%8)) - 1 // keep the padding zero
			}
			tb.cells[w] ^= mask
			if mask != 0 {
				clean = false
				keysSafe = keysSafe && w%tb.stride < wCheck
			}
		}
		ins, del, err := checkList(t, tb)
		switch {
		case clean:
			if len(del) != 0 {
				t.Fatalf("clean table listed %d deleted entries", len(del))
			}
			for _, e := range ins {
				if v, ok := want[string(e.Key)]; !ok || v != e.Value {
					t.Fatalf("clean table listed %x=%d, never inserted (err %v)", e.Key, e.Value, err)
				}
			}
			if err == nil && len(ins) != len(want) {
				t.Fatalf("clean table listed %d entries, want the %d inserted", len(ins), len(want))
			}
		case keysSafe:
			for _, e := range append(ins, del...) {
				if _, ok := want[string(e.Key)]; !ok {
					t.Fatalf("corrupt counts or values listed key %x, never inserted (err %v)", e.Key, err)
				}
			}
		}
	})
}

// FuzzDecoder feeds a rateless decoder holding one key with arbitrary
// symbols. Always: no panic, every error wraps ErrCorrupt (a wrong size
// included), the only key Local can list is the local key, Remote never
// lists it, and no key is listed twice or more keys than symbols.
func FuzzDecoder(f *testing.F) {
	enc, _ := NewEncoder(5, 9)
	enc.Add([]byte("hello"))
	f.Add(enc.AppendNext(nil))                         // a valid first symbol
	f.Add([]byte{})                                    // empty
	f.Add(make([]byte, SymbolSize(5)*3))               // three zero symbols
	f.Add(bytes.Repeat([]byte{0xff}, SymbolSize(5)*2)) // count -1, garbage
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, _ := NewDecoder(5, 9)
		dec.AddLocal([]byte("world"))
		size := SymbolSize(5)
		if len(data)%size != 0 {
			if err := dec.AddSymbol(data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("a symbol of the wrong size: %v, want ErrCorrupt", err)
			}
			return
		}
		for ; len(data) > 0; data = data[size:] {
			if err := dec.AddSymbol(data[:size]); err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("AddSymbol: %v, want an error wrapping ErrCorrupt", err)
				}
				if dec.Done() {
					t.Fatal("Done after an error")
				}
				break
			}
		}
		if len(dec.Remote())+len(dec.Local()) > dec.Received() {
			t.Fatalf("%d keys recovered from %d symbols", len(dec.Remote())+len(dec.Local()), dec.Received())
		}
		for _, k := range dec.Local() {
			if string(k) != "world" || len(dec.Local()) > 1 {
				t.Fatalf("Local lists %q, want at most the local key once", dec.Local())
			}
		}
		seen := map[string]bool{}
		for _, k := range dec.Remote() {
			if string(k) == "world" || seen[string(k)] {
				t.Fatalf("Remote lists %q: the local key, or a key twice", dec.Remote())
			}
			seen[string(k)] = true
		}
	})
}

// FuzzDecoderStream corrupts the stream of a real session (seeded random
// sets) with operations chosen by the input, 4 bytes each: XOR a byte of
// a symbol, swap two symbols, drop one, repeat one, or set a symbol's
// count. The decoder must keep its promises (session.run): errors wrap
// ErrCorrupt, Local lists local keys only and Remote none, no key twice;
// and if it is Done after the whole stream, the symbols fed are exactly
// those of the set decoded. That set need not be the sender's: a stream
// cut or shuffled can begin with the symbols of another set (the first
// symbol lost, and the next one that of the receiver's set, say), which no
// check can see.
func FuzzDecoderStream(f *testing.F) {
	f.Add(uint64(1), uint8(20), uint8(3), uint8(2), []byte{})                          // clean
	f.Add(uint64(2), uint8(50), uint8(5), uint8(5), []byte{0, 1, 9, 0x10})             // one key byte flipped
	f.Add(uint64(3), uint8(30), uint8(4), uint8(0), []byte{1, 0, 2, 0})                // symbols 0 and 2 swapped
	f.Add(uint64(4), uint8(30), uint8(0), uint8(4), []byte{2, 1, 0, 0})                // symbol 1 lost
	f.Add(uint64(5), uint8(10), uint8(2), uint8(2), []byte{3, 0, 0, 0})                // symbol 0 repeated
	f.Add(uint64(6), uint8(10), uint8(2), uint8(2), []byte{4, 0, 0xff, 0})             // symbol 0 counts -1
	f.Add(uint64(7), uint8(0), uint8(1), uint8(1), []byte{0, 0, 8, 1, 4, 1, 1, 0})     // checksum bit, count
	f.Add(uint64(8), uint8(200), uint8(30), uint8(30), []byte{0, 7, 0, 2, 1, 3, 4, 0}) // count byte, swap
	f.Fuzz(func(t *testing.T, seed uint64, common, onlyA, onlyB uint8, ops []byte) {
		rng := rand.New(rand.NewPCG(seed, 2))
		s := newSession(t, rng, int(common), int(onlyA%64), int(onlyB%64), int(seed%16)+2)
		st := slices.Clone(s.stream)
		for ; len(ops) >= 4 && len(st) > 0; ops = ops[4:] {
			j := int(ops[1]) % len(st)
			switch ops[0] % 5 {
			case 0:
				c := slices.Clone(st[j])
				c[int(ops[2])%len(c)] ^= ops[3]
				st[j] = c
			case 1:
				k := int(ops[2]) % len(st)
				st[j], st[k] = st[k], st[j]
			case 2:
				st = slices.Delete(st, j, j+1)
			case 3:
				st = slices.Insert(st, j, st[j])
			case 4:
				c := slices.Clone(st[j])
				binary.LittleEndian.PutUint64(c, uint64(int64(int8(ops[2]))))
				st[j] = c
			}
		}
		s.run(t, st)
	})
}

func FuzzEstimatorUnmarshal(f *testing.F) {
	e, _ := NewEstimator(EstimatorParams{Strata: 2, Cells: 4, KeyLen: 3, Seed: 1})
	e.Insert([]byte("abc"))
	good, _ := e.MarshalBinary()
	f.Add(good)               // valid
	f.Add(good[:len(good)-1]) // one byte short
	f.Add([]byte("IBSE\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Estimator
		if err := e.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			return
		}
		again, _ := e.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatal("re-encoding differs from the accepted input")
		}
		if len(data) < 1<<16 {
			if n, err := e.Estimate(); n < 0 || (err != nil && !errors.Is(err, ErrDecodeIncomplete)) {
				t.Fatalf("Estimate = %d, %v", n, err)
			}
		}
	})
}
