package iblt

import (
	"encoding/binary"
	"fmt"

	"github.com/dataplane-go/dataplane/flow"
)

// Cell word offsets. A cell is 3 + ceil(KeyLen/8) little-endian 64-bit
// words: count (two's complement), value sum (wrapping), checksum XOR, then
// the XOR of the keys, packed little-endian with zero padding.
const (
	wCount = 0
	wValue = 1
	wCheck = 2
	wKey   = 3
)

// Table is an invertible Bloom lookup table of fixed-length keys with 64-bit
// values, split into k disjoint sub-tables. Create it with [New]; the zero
// Table is not valid, though no method of it panics: Insert and Delete
// fail (naming the zero Table), List, Subtract, Merge and the
// encoders return an error wrapping [ErrInvalid], and Equal is false. A
// Table is not safe for concurrent use while it is written; it may be copied
// with [Table.Clone] only.
type Table struct {
	k      int    // hash functions = sub-tables
	sub    uint32 // cells per sub-table
	keyLen int    // bytes per key
	words  int    // key words per cell
	stride int    // words per cell
	seed   uint64
	check  uint64 // checksum seed
	cells  []uint64
}

// Result says what [Table.Get] learned about a key.
type Result uint8

const (
	// Undetermined: every cell of the key is shared with other keys (or
	// the key has the wrong length; see [Table.Get]).
	Undetermined Result = iota
	// Found: the key is in the table (inserted once more than deleted)
	// and the value is its value.
	Found
	// Absent: the key is certainly not in the table on the inserted side
	// (assuming no key was deleted that was not inserted).
	Absent
)

// String returns "found", "absent" or "undetermined".
func (r Result) String() string {
	switch r {
	case Found:
		return "found"
	case Absent:
		return "absent"
	}
	return "undetermined"
}

// Entry is one listed key and its value.
type Entry struct {
	Key   []byte
	Value uint64
}

// New returns an empty table with parameters p.
func New(p Params) (*Table, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	stride := cellWords(p.KeyLen)
	t := &Table{
		k:      p.Hashes,
		sub:    uint32(p.Cells / p.Hashes),
		keyLen: p.KeyLen,
		words:  stride - wKey,
		stride: stride,
		seed:   p.Seed,
		check:  ChecksumSeed(p.Seed),
	}
	t.cells = make([]uint64, p.Cells*t.stride) // Validate keeps the product, in bytes too, within an int
	return t, nil
}

// MustNew is New for parameters known to be valid; it panics otherwise.
func MustNew(p Params) *Table {
	t, err := New(p)
	if err != nil {
		panic(err)
	}
	return t
}

// Params returns the table's parameters.
func (t *Table) Params() Params {
	return Params{Cells: t.k * int(t.sub), Hashes: t.k, KeyLen: t.keyLen, Seed: t.seed}
}

// Hashes returns k, the number of hash functions and sub-tables.
func (t *Table) Hashes() int { return t.k }

// Cells returns m, the total number of cells.
func (t *Table) Cells() int { return t.k * int(t.sub) }

// KeyLen returns the length of every key in bytes.
func (t *Table) KeyLen() int { return t.keyLen }

// CellWords returns the number of 64-bit words in one cell: 3 + ceil(KeyLen/8).
func (t *Table) CellWords() int { return t.stride }

// Words returns the table's cells as words (see the layout in the package
// documentation). The slice aliases the table: it is how a loader fills a
// table from a kernel map.
func (t *Table) Words() []uint64 { return t.cells }

// Clone returns an independent copy of t.
func (t *Table) Clone() *Table {
	c := *t
	c.cells = append([]uint64(nil), t.cells...)
	return &c
}

// Reset empties the table.
func (t *Table) Reset() { clear(t.cells) }

// Insert adds key with value. It returns an error, and changes nothing,
// when len(key) is not the table's key length. A key should be inserted at
// most once more than it is deleted: two copies of a key cancel in the key
// sum and make their cells unlistable.
func (t *Table) Insert(key []byte, value uint64) error {
	if len(key) != t.keyLen || t.keyLen == 0 {
		return t.keyLenError(len(key))
	}
	t.update(key, value, 1)
	return nil
}

// Delete removes key with value; deleting a key that was never inserted
// records it on the deleted side, which [Table.List] reports. It returns an
// error, and changes nothing, when len(key) is not the table's key length.
func (t *Table) Delete(key []byte, value uint64) error {
	if len(key) != t.keyLen || t.keyLen == 0 {
		return t.keyLenError(len(key))
	}
	t.update(key, value, ^uint64(0))
	return nil
}

func (t *Table) keyLenError(n int) error {
	if t.keyLen == 0 {
		return fmt.Errorf("%w: the zero Table holds no keys (make tables with New), got a key of %d bytes", ErrInvalid, n)
	}
	return fmt.Errorf("iblt: key length must be %d, got %d", t.keyLen, n)
}

// loadKey packs key into little-endian words with zero padding.
func loadKey(dst []uint64, key []byte) {
	i := 0
	for ; len(key) >= 8; i++ {
		dst[i] = binary.LittleEndian.Uint64(key)
		key = key[8:]
	}
	if len(key) == 0 {
		return
	}
	var w uint64
	sh := 0
	if len(key) >= 4 {
		w = uint64(binary.LittleEndian.Uint32(key))
		key, sh = key[4:], 32
	}
	if len(key) >= 2 {
		w |= uint64(binary.LittleEndian.Uint16(key)) << sh
		key, sh = key[2:], sh+16
	}
	if len(key) == 1 {
		w |= uint64(key[0]) << sh
	}
	dst[i] = w
}

// update adds sign (1 or -1 as uint64) times (key, value) to the key's cells.
// Both hashes come from one pass over the key (flow.Hash64Pair). Keys of more than
// smallWords words take updateLarge, the same with a larger key buffer;
// 13- and 37-byte keys (IPv4 and IPv6 flows) have their own loops, with a
// constant cell size. 13-byte keys with k = 3 (the sizing helpers' choice
// for large differences) have no loop: the three cells' indexes are
// computed side by side first, then the cells are updated in straight-line
// code, which took about a tenth less time a key than the loop in
// BenchmarkIBLT_Insert (bench/). The same for 37-byte keys took no less.
func (t *Table) update(key []byte, value, sign uint64) {
	if t.words > smallWords {
		t.updateLarge(key, value, sign)
		return
	}
	h, cs := flow.Hash64Pair(key, t.seed, t.check)
	var kw [smallWords]uint64
	words := kw[:t.words]
	if len(key) == flow.KeyLen4 { // an IPv4 flow key, the common case: two loads, no loop
		kw[0] = binary.LittleEndian.Uint64(key)
		kw[1] = uint64(binary.LittleEndian.Uint32(key[8:])) | uint64(key[12])<<32
	} else {
		loadKey(words, key)
	}
	value *= sign
	cells, k, sub := t.cells, uint32(t.k), t.sub
	var base uint32 // first cell of sub-table j
	switch len(words) {
	case 2:
		const stride = wKey + 2
		k0, k1 := words[0], words[1]
		if k == 3 { // the usual shape, in straight-line code: see cellOf
			x := h + flow.Golden
			y := x + flow.Golden
			c0 := cellOf(x, 0, sub) * stride
			c1 := cellOf(y, sub, sub) * stride
			c2 := cellOf(y+flow.Golden, 2*sub, sub) * stride
			a := cells[c0 : c0+stride : c0+stride]
			b := cells[c1 : c1+stride : c1+stride]
			c := cells[c2 : c2+stride : c2+stride]
			a[wCount] += sign
			a[wValue] += value
			a[wCheck] ^= cs
			a[wKey] ^= k0
			a[wKey+1] ^= k1
			b[wCount] += sign
			b[wValue] += value
			b[wCheck] ^= cs
			b[wKey] ^= k0
			b[wKey+1] ^= k1
			c[wCount] += sign
			c[wValue] += value
			c[wCheck] ^= cs
			c[wKey] ^= k0
			c[wKey+1] ^= k1
			return
		}
		for j := range k {
			c := int(base+flow.Index(h, j, sub)) * stride
			base += sub
			cell := cells[c : c+stride : c+stride]
			cell[wCount] += sign
			cell[wValue] += value
			cell[wCheck] ^= cs
			cell[wKey] ^= k0
			cell[wKey+1] ^= k1
		}
	case 5:
		const stride = wKey + 5
		k0, k1, k2, k3, k4 := words[0], words[1], words[2], words[3], words[4]
		for j := range k {
			c := int(base+flow.Index(h, j, sub)) * stride
			base += sub
			cell := cells[c : c+stride : c+stride]
			cell[wCount] += sign
			cell[wValue] += value
			cell[wCheck] ^= cs
			cell[wKey] ^= k0
			cell[wKey+1] ^= k1
			cell[wKey+2] ^= k2
			cell[wKey+3] ^= k3
			cell[wKey+4] ^= k4
		}
	default:
		stride := t.stride
		for j := range k {
			c := int(base+flow.Index(h, j, sub)) * stride
			base += sub
			cell := cells[c : c+stride : c+stride]
			cell[wCount] += sign
			cell[wValue] += value
			cell[wCheck] ^= cs
			ks := cell[wKey:]
			ks = ks[:len(words)]
			for w, x := range words {
				ks[w] ^= x
			}
		}
	}
}

// cellOf returns base + flow.Reduce(flow.Splitmix(x), sub): with x = h +
// (j+1)*Golden and base = j*sub, the cell flow.Index gives the key whose
// hash is h in sub-table j (Index(h, j, sub) = Reduce(Mix(h, j), sub) and
// Mix(h, j) = Splitmix(h + (j+1)*Golden)). Update's straight-line path
// computes its three cells with it side by side.
func cellOf(x uint64, base, sub uint32) int {
	return int(base + flow.Reduce(flow.Splitmix(x), sub))
}

// smallWords is the key length in words up to which update keeps the key
// in a small buffer: 6 words hold a 37-byte IPv6 flow key and the 48-byte
// packet key of the iblt/xdp digest.
const smallWords = 6

// updateLarge is update for keys of more than smallWords words.
func (t *Table) updateLarge(key []byte, value, sign uint64) {
	h, cs := flow.Hash64Pair(key, t.seed, t.check)
	var kw [MaxKeyLen / 8]uint64
	words := kw[:t.words]
	loadKey(words, key)
	value *= sign
	stride := t.stride
	for j := 0; j < t.k; j++ {
		c := int(uint32(j)*t.sub+flow.Index(h, uint32(j), t.sub)) * stride
		cell := t.cells[c : c+stride : c+stride]
		cell[wCount] += sign
		cell[wValue] += value
		cell[wCheck] ^= cs
		ks := cell[wKey:]
		for w, x := range words {
			ks[w] ^= x
		}
	}
}

// Get looks key up. It returns the key's value and Found when one of its
// cells holds the key alone; Absent when a cell proves the key is not
// there (an empty cell, a cell holding another key alone, or a cell
// holding this key alone on the deleted side, count -1); Undetermined
// otherwise.
//
// A key whose length is not [Table.KeyLen] cannot be in the table and is
// not looked up: Get returns 0 and Undetermined for it, with no error
// (Undetermined then says only that Get gave no answer, not that the key
// might be there). Where the length can be wrong, compare it with
// [Table.KeyLen] first; [Table.Insert] and [Table.Delete] return an error
// for it instead. Get never allocates.
func (t *Table) Get(key []byte) (uint64, Result) {
	if len(key) != t.keyLen {
		return 0, Undetermined
	}
	h, cs := flow.Hash64Pair(key, t.seed, t.check)
	var kw [MaxKeyLen / 8]uint64
	words := kw[:t.words]
	loadKey(words, key)
	for j := 0; j < t.k; j++ {
		c := int(uint32(j)*t.sub+flow.Index(h, uint32(j), t.sub)) * t.stride
		cell := t.cells[c : c+t.stride]
		count := int64(cell[wCount])
		if count == 0 && cell[wCheck] == 0 && allZero(cell[wKey:]) {
			return 0, Absent
		}
		if count != 1 && count != -1 {
			continue
		}
		same := cell[wCheck] == cs && equalWords(cell[wKey:], words)
		switch {
		case same && count == 1:
			return cell[wValue], Found
		case same: // deleted more often than inserted
			return 0, Absent
		case t.pure(c/t.stride, cell):
			return 0, Absent
		}
	}
	return 0, Undetermined
}

func allZero(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return false
		}
	}
	return true
}

func equalWords(a, b []uint64) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compatible reports whether u has t's shape and seeds, and both are valid
// (zero Tables are compatible with nothing, not even each other).
func (t *Table) compatible(u *Table) error {
	if u == nil {
		return fmt.Errorf("%w: the table given is nil (%w)", ErrIncompatible, ErrInvalid)
	}
	if t.k == 0 || u.k == 0 {
		return errZeroOperand
	}
	if t.k != u.k || t.sub != u.sub || t.keyLen != u.keyLen || t.seed != u.seed {
		return fmt.Errorf("%w: (cells %d, hashes %d, key length %d, seed %#x) and (cells %d, hashes %d, key length %d, seed %#x)",
			ErrIncompatible, t.Cells(), t.k, t.keyLen, t.seed, u.Cells(), u.k, u.keyLen, u.seed)
	}
	return nil
}

// Subtract sets t to t minus u, cell by cell: entries only in t stay
// inserted, entries only in u become deleted, entries in both cancel. The
// tables must have equal parameters (an error wrapping [ErrIncompatible]
// otherwise).
//
// An entry cancels only if its key and its value are equal on both sides.
// A key in both tables with different values cancels in count, key and
// checksum but leaves the difference of its values in its cells:
// [Table.List] then usually reports [ErrDecodeIncomplete], and [Table.List]
// and [Table.Get] can give another key sharing such a cell a value off by
// that difference. Not always: when the cells of the keys listed cover
// the residue's cells exactly (always with k = 1; with any k when a listed
// key shares all k cells with that key, which each listed key does with
// probability about (k/m)^k), a listed key's value takes the residue up,
// every cell ends empty, and List returns no error with that value off by
// the difference. To reconcile tables whose values may differ for one
// key, make the value part of the key.
func (t *Table) Subtract(u *Table) error {
	if err := t.compatible(u); err != nil {
		return err
	}
	subtractCells(t.cells, u.cells, t.stride)
	return nil
}

// subtractCells sets the cells of dst to dst minus src, cell by cell (s
// words a cell): Subtract's arithmetic.
func subtractCells(dst, src []uint64, s int) {
	for c := 0; c+s <= len(dst); c += s {
		a, b := dst[c:c+s:c+s], src[c:c+s:c+s]
		a[wCount] -= b[wCount]
		a[wValue] -= b[wValue]
		a[wCheck] ^= b[wCheck]
		for w := wKey; w < s; w++ {
			a[w] ^= b[w]
		}
	}
}

// Merge sets t to t plus u, cell by cell, as if every insertion and
// deletion made to u had been made to t. It combines the per-CPU copies of
// a kernel digest. The tables must have equal parameters.
func (t *Table) Merge(u *Table) error {
	if err := t.compatible(u); err != nil {
		return err
	}
	s := t.stride
	for c := 0; c+s <= len(t.cells); c += s {
		a, b := t.cells[c:c+s:c+s], u.cells[c:c+s:c+s]
		a[wCount] += b[wCount]
		a[wValue] += b[wValue]
		a[wCheck] ^= b[wCheck]
		for w := wKey; w < s; w++ {
			a[w] ^= b[w]
		}
	}
	return nil
}

// IsEmpty reports whether every cell is zero.
func (t *Table) IsEmpty() bool { return allZero(t.cells) }

// Equal reports whether t and u have equal parameters and cells.
func (t *Table) Equal(u *Table) bool {
	return t.compatible(u) == nil && equalWords(t.cells, u.cells)
}
