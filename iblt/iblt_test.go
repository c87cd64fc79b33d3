package iblt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// randKeys returns n distinct random keys of length l.
func randKeys(rng *rand.Rand, n, l int) [][]byte {
	seen := make(map[string]bool, n)
	keys := make([][]byte, 0, n)
	for len(keys) < n {
		k := make([]byte, l)
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// refTable is the slow, obviously right reference: cells as structs, each
// key's cells found by calling flow.Index directly, listing by repeated
// full scans.
type refCell struct {
	count int64
	value uint64
	check uint64
	key   []byte
}

type refTable struct {
	p     Params
	cells []refCell
}

func newRef(p Params) *refTable {
	r := &refTable{p: p, cells: make([]refCell, p.Cells)}
	for i := range r.cells {
		r.cells[i].key = make([]byte, p.KeyLen)
	}
	return r
}

func (r *refTable) cellsOf(key []byte) []int {
	sub := uint32(r.p.Cells / r.p.Hashes)
	h := flow.Hash64(key, r.p.Seed)
	var out []int
	for j := 0; j < r.p.Hashes; j++ {
		out = append(out, j*int(sub)+int(flow.Index(h, uint32(j), sub)))
	}
	return out
}

func (r *refTable) add(key []byte, value uint64, sign int64) {
	cs := flow.Hash64(key, ChecksumSeed(r.p.Seed))
	for _, c := range r.cellsOf(key) {
		cell := &r.cells[c]
		cell.count += sign
		cell.value += uint64(sign) * value
		cell.check ^= cs
		for i := range key {
			cell.key[i] ^= key[i]
		}
	}
}

func (r *refTable) list() (ins, del map[string]uint64, ok bool) {
	ins, del = map[string]uint64{}, map[string]uint64{}
	for progress := true; progress; {
		progress = false
		for c := range r.cells {
			cell := r.cells[c]
			if cell.count != 1 && cell.count != -1 {
				continue
			}
			key := append([]byte(nil), cell.key...)
			if flow.Hash64(key, ChecksumSeed(r.p.Seed)) != cell.check {
				continue
			}
			own := false
			for _, o := range r.cellsOf(key) {
				own = own || o == c
			}
			if !own {
				continue
			}
			if cell.count == 1 {
				ins[string(key)] = cell.value
			} else {
				del[string(key)] = -cell.value
			}
			r.add(key, uint64(cell.count)*cell.value, -cell.count)
			progress = true
		}
	}
	for _, c := range r.cells {
		if c.count != 0 || c.check != 0 || c.value != 0 || !bytes.Equal(c.key, make([]byte, r.p.KeyLen)) {
			return ins, del, false
		}
	}
	return ins, del, true
}

func entryMap(es []Entry) map[string]uint64 {
	m := make(map[string]uint64, len(es))
	for _, e := range es {
		m[string(e.Key)] = e.Value
	}
	return m
}

func sameMap(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestTable_MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, keyLen := range []int{1, 7, 8, 13, 17, 37, 64, MaxKeyLen} {
		for _, k := range []int{1, 2, 3, 4, 5, 8} {
			for _, n := range []int{0, 1, 10, 100} {
				name := fmt.Sprintf("L=%d/k=%d/n=%d", keyLen, k, n)
				p := Params{Cells: k * (2*n/k + 3), Hashes: k, KeyLen: keyLen, Seed: rng.Uint64()}
				tb, ref := MustNew(p), newRef(p)
				keys := randKeys(rng, n, keyLen)
				for i, key := range keys {
					v := rng.Uint64()
					if i%3 == 2 {
						if err := tb.Delete(key, v); err != nil {
							t.Fatal(err)
						}
						ref.add(key, v, -1)
					} else {
						if err := tb.Insert(key, v); err != nil {
							t.Fatal(err)
						}
						ref.add(key, v, 1)
					}
				}
				// Same cells, word for word.
				for c, rc := range ref.cells {
					cell := tb.cells[c*tb.stride : (c+1)*tb.stride]
					var kb [MaxKeyLen]byte
					storeKey(kb[:keyLen], cell[wKey:])
					if int64(cell[wCount]) != rc.count || cell[wValue] != rc.value || cell[wCheck] != rc.check || !bytes.Equal(kb[:keyLen], rc.key) || !tb.padOK(cell[wKey:]) {
						t.Fatalf("%s: cell %d differs from the reference", name, c)
					}
				}
				ins, del, err := tb.List()
				rins, rdel, rok := ref.list()
				if (err == nil) != rok {
					t.Fatalf("%s: List error %v, reference ok %v", name, err, rok)
				}
				if err != nil && !errors.Is(err, ErrDecodeIncomplete) {
					t.Fatalf("%s: error %v does not wrap ErrDecodeIncomplete", name, err)
				}
				if !sameMap(entryMap(ins), rins) || !sameMap(entryMap(del), rdel) {
					t.Fatalf("%s: listed %d/%d, reference %d/%d", name, len(ins), len(del), len(rins), len(rdel))
				}
			}
		}
	}
}

func TestTable_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{3, 4} {
		for _, d := range []int{1, 10, 100, 1000, 10000} {
			if testing.Short() && d > 1000 {
				continue
			}
			keyLen := []int{13, 37}[d%2]
			p := Params{Cells: k * ((2*d + 30) / k), Hashes: k, KeyLen: keyLen, Seed: rng.Uint64()}
			tb := MustNew(p)
			keys := randKeys(rng, d, keyLen)
			want := map[string]uint64{}
			for _, key := range keys {
				v := rng.Uint64()
				want[string(key)] = v
				tb.Insert(key, v)
			}
			ins, del, err := tb.List()
			if err != nil || len(del) != 0 || !sameMap(entryMap(ins), want) {
				t.Fatalf("k=%d d=%d: err %v, listed %d inserted %d deleted, want %d", k, d, err, len(ins), len(del), d)
			}
			// Deleting everything empties the table.
			for _, key := range keys {
				tb.Delete(key, want[string(key)])
			}
			if !tb.IsEmpty() {
				t.Fatalf("k=%d d=%d: table not empty after deleting every key", k, d)
			}
		}
	}
}

// TestTable_SubtractList: two hosts share most keys; the difference of
// their tables lists exactly the symmetric difference, on the right sides.
func TestTable_SubtractList(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{1, 50, 1000, 5000} {
		common, onlyA, onlyB := 20000, d/2+d%2, d/2
		keys := randKeys(rng, common+onlyA+onlyB, flow.KeyLen4)
		p, err := ParamsFor(d, flow.KeyLen4, 0.999, rng.Uint64())
		if err != nil {
			t.Fatal(err)
		}
		a, b := MustNew(p), MustNew(p)
		for i, key := range keys {
			v := uint64(i)
			if i < common+onlyA {
				a.Insert(key, v)
			}
			if i < common || i >= common+onlyA {
				b.Insert(key, v)
			}
		}
		if err := a.Subtract(b); err != nil {
			t.Fatal(err)
		}
		ins, del, err := a.List()
		if err != nil {
			t.Fatalf("d=%d: %v", d, err)
		}
		if len(ins) != onlyA || len(del) != onlyB {
			t.Fatalf("d=%d: listed %d and %d, want %d and %d", d, len(ins), len(del), onlyA, onlyB)
		}
		idx := map[string]int{}
		for i, key := range keys {
			idx[string(key)] = i
		}
		for _, e := range ins {
			if i, ok := idx[string(e.Key)]; !ok || i < common || i >= common+onlyA || e.Value != uint64(i) {
				t.Fatalf("d=%d: inserted side lists a wrong entry %x=%d", d, e.Key, e.Value)
			}
		}
		for _, e := range del {
			if i, ok := idx[string(e.Key)]; !ok || i < common+onlyA || e.Value != uint64(i) {
				t.Fatalf("d=%d: deleted side lists a wrong entry %x=%d", d, e.Key, e.Value)
			}
		}
	}
}

func TestTable_Incompatible(t *testing.T) {
	p := Params{Cells: 30, Hashes: 3, KeyLen: 13, Seed: 1}
	a := MustNew(p)
	for _, q := range []Params{
		{Cells: 33, Hashes: 3, KeyLen: 13, Seed: 1},
		{Cells: 30, Hashes: 5, KeyLen: 13, Seed: 1},
		{Cells: 30, Hashes: 3, KeyLen: 14, Seed: 1},
		{Cells: 30, Hashes: 3, KeyLen: 13, Seed: 2},
	} {
		if err := a.Subtract(MustNew(q)); !errors.Is(err, ErrIncompatible) {
			t.Errorf("Subtract %+v: got %v, want ErrIncompatible", q, err)
		}
		if err := a.Merge(MustNew(q)); !errors.Is(err, ErrIncompatible) {
			t.Errorf("Merge %+v: got %v, want ErrIncompatible", q, err)
		}
	}
}

func TestTable_Merge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	p := Params{Cells: 300, Hashes: 3, KeyLen: 17, Seed: 9}
	whole, x, y := MustNew(p), MustNew(p), MustNew(p)
	for i, key := range randKeys(rng, 100, 17) {
		whole.Insert(key, uint64(i))
		if i%2 == 0 {
			x.Insert(key, uint64(i))
		} else {
			y.Insert(key, uint64(i))
		}
	}
	if err := x.Merge(y); err != nil || !x.Equal(whole) {
		t.Fatalf("merge of halves differs from the whole (err %v)", err)
	}
}

func TestTable_Get(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	p := Params{Cells: 3000, Hashes: 3, KeyLen: 13, Seed: 11}
	tb := MustNew(p)
	keys := randKeys(rng, 1200, 13)
	in, out, deleted := keys[:500], keys[500:1000], keys[1000:]
	for i, key := range in {
		tb.Insert(key, uint64(i)+100)
	}
	for _, key := range deleted {
		tb.Delete(key, 1)
	}
	var found, undet int
	for i, key := range in {
		v, r := tb.Get(key)
		switch r {
		case Found:
			found++
			if v != uint64(i)+100 {
				t.Fatalf("Get(%x) = %d, want %d", key, v, i+100)
			}
		case Absent:
			t.Fatalf("Get of an inserted key says absent")
		default:
			undet++
		}
	}
	// Load 700/3000: a key is found unless all 3 cells are shared:
	// (1-e^{-700/1000})^3 = 0.13 of keys. Allow twice that.
	if undet > 2*500*13/100 {
		t.Errorf("%d of 500 inserted keys undetermined, theory about 65", undet)
	}
	for _, key := range append(append([][]byte{}, out...), deleted...) {
		if _, r := tb.Get(key); r == Found {
			t.Fatalf("Get of a key not inserted says found")
		}
	}
	if _, r := tb.Get([]byte("short")); r != Undetermined {
		t.Errorf("Get of a wrong-length key = %v, want undetermined", r)
	}
	if _, r := MustNew(p).Get(keys[0]); r != Absent {
		t.Errorf("Get on an empty table = %v, want absent", r)
	}
}

func TestTable_BadInput(t *testing.T) {
	tb := MustNew(Params{Cells: 30, Hashes: 3, KeyLen: 13})
	before := tb.Clone()
	for _, key := range [][]byte{nil, make([]byte, 12), make([]byte, 14)} {
		err := tb.Insert(key, 1)
		if err == nil || !strings.Contains(err.Error(), "iblt: key length must be 13, got") {
			t.Errorf("Insert of %d bytes: %v", len(key), err)
		}
		if err := tb.Delete(key, 1); err == nil {
			t.Errorf("Delete of %d bytes: no error", len(key))
		}
	}
	if !tb.Equal(before) {
		t.Error("rejected keys changed the table")
	}
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{Cells: 30, Hashes: 0, KeyLen: 13}, "iblt: hashes must be in [1, 8], got 0"},
		{Params{Cells: 30, Hashes: 9, KeyLen: 13}, "iblt: hashes must be in [1, 8], got 9"},
		{Params{Cells: 30, Hashes: 3, KeyLen: 0}, "iblt: key length must be in [1, 256], got 0"},
		{Params{Cells: 30, Hashes: 3, KeyLen: 257}, "iblt: key length must be in [1, 256], got 257"},
		{Params{Cells: 31, Hashes: 3, KeyLen: 13}, "iblt: cells must be a multiple of hashes (3), got 31"},
		{Params{Cells: 2, Hashes: 3, KeyLen: 13}, "iblt: cells must be in [3, 268435456] for 3 hashes, got 2"},
		{Params{Cells: -3, Hashes: 3, KeyLen: 13}, "iblt: cells must be in [3, 268435456] for 3 hashes, got -3"},
	} {
		if _, err := New(c.p); err == nil || err.Error() != c.want {
			t.Errorf("New(%+v) = %v, want %q", c.p, err, c.want)
		}
	}
}

// TestTable_NoAllocs guards every update path: the 13- and 37-byte loops
// (IPv4 and IPv6 flow keys), the generic loop (20 bytes), and keys of more
// than smallWords words (64 and 256 bytes).
func TestTable_NoAllocs(t *testing.T) {
	for _, keyLen := range []int{13, 20, 37, 64, MaxKeyLen} {
		tb := MustNew(Params{Cells: 3000, Hashes: 3, KeyLen: keyLen, Seed: 1})
		key := make([]byte, keyLen)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"Insert", func() { key[0]++; tb.Insert(key, 1) }},
			{"Delete", func() { key[0]--; tb.Delete(key, 1) }},
			{"Get", func() { tb.Get(key) }},
		} {
			if n := testing.AllocsPerRun(1000, c.f); n != 0 {
				t.Errorf("L=%d: %s allocates %v times", keyLen, c.name, n)
			}
		}
		u := tb.Clone()
		if n := testing.AllocsPerRun(100, func() { tb.Subtract(u) }); n != 0 {
			t.Errorf("L=%d: Subtract allocates %v times", keyLen, n)
		}
	}
}

// TestEstimator_NoAllocs guards Estimator.Insert, a per-key operation,
// on the same key lengths as TestTable_NoAllocs (the stratum tables'
// update paths).
func TestEstimator_NoAllocs(t *testing.T) {
	for _, keyLen := range []int{13, 20, 37, 64, MaxKeyLen} {
		e, err := NewEstimator(DefaultEstimatorParams(keyLen, 1))
		if err != nil {
			t.Fatal(err)
		}
		key := make([]byte, keyLen)
		var i uint64
		if n := testing.AllocsPerRun(1000, func() {
			i++
			binary.LittleEndian.PutUint64(key, i) // keys spread over the strata
			e.Insert(key)
		}); n != 0 {
			t.Errorf("L=%d: Estimator.Insert allocates %v times", keyLen, n)
		}
	}
}

func TestMarshal_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, keyLen := range []int{1, 13, 16, 37, MaxKeyLen} { // 256 takes the key length's high byte
		p := Params{Cells: 60, Hashes: 4, KeyLen: keyLen, Seed: rng.Uint64()}
		tb := MustNew(p)
		for i, key := range randKeys(rng, 20, keyLen) {
			tb.Insert(key, uint64(i))
		}
		b, err := tb.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var u Table
		if err := u.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !u.Equal(tb) || u.Params() != p {
			t.Fatalf("L=%d: round trip changed the table", keyLen)
		}
	}
}

func TestUnmarshal_Errors(t *testing.T) {
	tb := MustNew(Params{Cells: 6, Hashes: 3, KeyLen: 13, Seed: 5})
	good, _ := tb.MarshalBinary()
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "iblt: encoding must be at least 24 bytes, got 0"},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), `iblt: encoding must start with "IBLT", got "XBLT"`},
		{"version", mod(func(b []byte) []byte { b[4] = 2; return b }), "iblt: encoding version must be 1, got 2"},
		{"k=0", mod(func(b []byte) []byte { b[5] = 0; return b }), "iblt: hashes must be in [1, 8], got 0"},
		{"keylen=0", mod(func(b []byte) []byte { b[6], b[7] = 0, 0; return b }), "iblt: key length must be in [1, 256], got 0"},
		{"reserved", mod(func(b []byte) []byte { b[12] = 1; return b }), "iblt: reserved header field must be 0, got 0x1"},
		{"huge", mod(func(b []byte) []byte { b[11] = 0xff; return b }), "iblt: cells must be at most 268435456, got 12834570246"},
		{"one byte short", good[:len(good)-1], "iblt: encoding of 6 cells of 5 words must be 264 bytes, got 263"},
		{"one byte long", append(append([]byte(nil), good...), 0), "iblt: encoding of 6 cells of 5 words must be 264 bytes, got 265"},
		{"padding", mod(func(b []byte) []byte { b[headerSize+8*(wKey+1)+7] = 1; return b }), "iblt: cell 0 has non-zero key padding beyond key length 13"},
		// Every byte of the magic and of the reserved field counts.
		{"magic, last byte", mod(func(b []byte) []byte { b[3] = 'X'; return b }), `iblt: encoding must start with "IBLT", got "IBLX"`},
		{"reserved, last byte", mod(func(b []byte) []byte { b[15] = 1; return b }), "iblt: reserved header field must be 0, got 0x1000000"},
		// The padding of the last cell (cell 5 of 5 words) is checked too.
		{"padding, last cell", mod(func(b []byte) []byte { b[headerSize+8*(5*5+wKey+1)+7] = 1; return b }), "iblt: cell 5 has non-zero key padding beyond key length 13"},
		// MaxCells cells (4 hashes of MaxCells/4) is a valid shape: the
		// header passes, and the length is what is wrong. (A 32-bit
		// platform refuses so many cells first, with the limit of its
		// own that TestNew_HugeCells checks.)
		{"MaxCells", mod(func(b []byte) []byte { b[5] = 4; binary.LittleEndian.PutUint32(b[8:], MaxCells/4); return b }),
			fmt.Sprintf("iblt: encoding of %d cells of 5 words must be %d bytes, got 264", MaxCells, 24+8*5*uint64(MaxCells))},
	} {
		if c.name == "MaxCells" && strconv.IntSize == 32 {
			continue
		}
		var u Table
		err := u.UnmarshalBinary(c.data)
		if err == nil || err.Error() != c.want || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want %q matching ErrFormat", c.name, err, c.want)
		}
	}
}

func TestNormalQuantile(t *testing.T) {
	for p, want := range map[float64]float64{0.5: 0, 0.99: 2.326348, 0.999: 3.090232, 0.01: -2.326348, 0.9: 1.281552} {
		if got := normalQuantile(p); got < want-1e-5 || got > want+1e-5 {
			t.Errorf("normalQuantile(%v) = %v, want %v", p, got, want)
		}
	}
}

func TestResult_String(t *testing.T) {
	for r, want := range map[Result]string{Undetermined: "undetermined", Found: "found", Absent: "absent", 9: "undetermined"} {
		if got := r.String(); got != want {
			t.Errorf("Result(%d).String() = %q, want %q", uint8(r), got, want)
		}
	}
}

// The accessors give back the parameters the table was made with.
func TestTable_Accessors(t *testing.T) {
	for _, p := range []Params{
		{Cells: 12, Hashes: 3, KeyLen: 1, Seed: 1},
		{Cells: 400, Hashes: 4, KeyLen: 13, Seed: 2},
		{Cells: 10, Hashes: 5, KeyLen: MaxKeyLen, Seed: 3},
	} {
		tb := MustNew(p)
		if tb.Hashes() != p.Hashes || tb.Cells() != p.Cells || tb.KeyLen() != p.KeyLen || tb.Params() != p {
			t.Errorf("table of %+v: Hashes %d, Cells %d, KeyLen %d, Params %+v", p, tb.Hashes(), tb.Cells(), tb.KeyLen(), tb.Params())
		}
		if want := 3 + (p.KeyLen+7)/8; tb.CellWords() != want {
			t.Errorf("table of %+v: CellWords %d, want %d", p, tb.CellWords(), want)
		}
	}
}
