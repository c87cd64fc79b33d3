package iblt

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/dataplane-go/dataplane/flow"
)

// storeKey unpacks the first n bytes of words into dst.
func storeKey(dst []byte, words []uint64) {
	i := 0
	for ; len(dst) >= 8; i++ {
		binary.LittleEndian.PutUint64(dst, words[i])
		dst = dst[8:]
	}
	for j := range dst {
		dst[j] = byte(words[i] >> (8 * j))
	}
}

// padOK reports whether the padding bytes above keyLen in the last key
// word are zero, as they are in every table built by Insert and Delete.
func (t *Table) padOK(keyWords []uint64) bool {
	r := t.keyLen % 8
	return r == 0 || keyWords[t.words-1]>>(8*r) == 0
}

// pure reports whether cell number ci (whose words are cell) holds exactly
// one key, inserted or deleted once: count is +1 or -1, the checksum
// matches the key sum, and ci is one of that key's own cells. It returns
// the key's index hash and checksum.
func (t *Table) pure(ci int, cell []uint64) bool {
	_, _, ok := t.pureHashes(ci, cell)
	return ok
}

func (t *Table) pureHashes(ci int, cell []uint64) (h, cs uint64, ok bool) {
	if c := cell[wCount]; c != 1 && c != ^uint64(0) {
		return 0, 0, false
	}
	ks := cell[wKey : wKey+t.words]
	if !t.padOK(ks) {
		return 0, 0, false
	}
	var buf [MaxKeyLen]byte
	key := buf[:t.keyLen]
	storeKey(key, ks)
	cs = flow.Hash64(key, t.check)
	if cs != cell[wCheck] {
		return 0, 0, false
	}
	h = flow.Hash64(key, t.seed)
	j := uint32(ci) / t.sub
	if flow.Index(h, j, t.sub) != uint32(ci)-j*t.sub {
		return 0, 0, false
	}
	return h, cs, true
}

// List lists the table by peeling: it returns the entries inserted (more
// often than deleted: after [Table.Subtract], the entries only in the
// first table) and the entries deleted (only in the second table), each
// in the order peeled. The table itself is not changed.
//
// When it returns no error, inserting the listed entries into an empty
// table and deleting the deleted ones rebuilds t exactly: the listing is
// proven, and exact for a table of whole entries. A value residue (see
// [Table.Subtract]) or a corrupted value word lying in exactly the cells of
// a listed key (always with k = 1) is not: it is listed as part of that
// key's value, and no error can show it, since the table is then exactly
// the table of the listing. When peeling stalls before every cell is empty,
// List returns what it peeled and an error wrapping [ErrDecodeIncomplete];
// those entries cannot be verified. Each came from a cell that passed the
// purity test, whose checksum covers the key only: a key listed beside the
// error was inserted or deleted (unless the cells were forged, or a 64-bit
// checksum collided), but its value and its side are right only if no cell
// holds anything but whole entries. In a table built by Insert alone they
// are exact. After a [Table.Subtract] of a key with different values, a
// corrupted cell, or a key inserted twice, an entry beside the error can
// carry a wrong value (one flipped value bit lists 101 for 100) or sit on
// the wrong side (a count of +1 turned into -1 lists an inserted key as
// deleted, with the negated value). List never panics, whatever the cells
// hold. On the zero Table it returns an error wrapping [ErrInvalid].
func (t *Table) List() (inserted, deleted []Entry, err error) {
	var l Listing
	err = t.ListInto(&l)
	return l.Inserted, l.Deleted, err
}

// A Listing is what [Table.ListInto] and [Table.ListDifferenceInto] list
// into: the entries, and the buffers the next listing reuses. A collector
// that lists a table every interval keeps one Listing and, once its
// buffers have grown to the largest listing, lists without allocating.
// The zero Listing is ready to use. Not safe for concurrent use.
type Listing struct {
	// Inserted and Deleted are the entries listed, as [Table.List] returns
	// them. They and their keys stay valid until the next listing into
	// the same Listing, which overwrites them: copy what must outlive it.
	Inserted, Deleted []Entry

	work     []uint64 // the cells being peeled
	stack    []int32  // cells that may be pure
	ins, del []listed
	keys     []byte // the listed keys, back to back
}

// listed is an entry whose key is at off in Listing.keys, a buffer that
// may still move while peeling appends to it.
type listed struct {
	off   int
	value uint64
}

// ListInto is [Table.List] into l: it lists t by peeling and sets
// l.Inserted and l.Deleted, reusing l's buffers from earlier listings. It
// returns the error List would return; on ErrDecodeIncomplete l holds
// what was peeled. A nil l, or the zero Table, is an error that leaves l
// unchanged. The table itself is not changed.
func (t *Table) ListInto(l *Listing) error {
	if l == nil {
		return fmt.Errorf("%w: ListInto a nil Listing", ErrInvalid)
	}
	if t.k == 0 {
		return errZeroTable
	}
	l.work = append(l.work[:0], t.cells...)
	return t.peel(l)
}

// ListDifferenceInto lists t minus u into l, as t.Subtract(u) followed by
// t.ListInto(l) would, but leaves both tables unchanged: the difference is
// built in l's buffer. The tables must have equal parameters (an error
// wrapping [ErrIncompatible] otherwise); that error, a nil l and the zero
// Table leave l unchanged. [Table.Subtract] says how a key with different
// values on the two sides is listed.
func (t *Table) ListDifferenceInto(u *Table, l *Listing) error {
	if l == nil {
		return fmt.Errorf("%w: ListDifferenceInto a nil Listing", ErrInvalid)
	}
	if err := t.compatible(u); err != nil {
		return err
	}
	l.work = append(l.work[:0], t.cells...)
	subtractCells(l.work, u.cells, t.stride)
	return t.peel(l)
}

// peel lists the cells in l.work (t's shape), which it consumes, into l.
func (t *Table) peel(l *Listing) error {
	s := t.stride
	m := t.Cells()
	w := l.work

	// Every listable entry adds |1| to the count of k cells, so the sum of
	// |count| over k sizes the buffers (a corrupt table may ask for more;
	// capped at m entries, the most a listing ever peels).
	var mass uint64
	for ci := 0; ci < m; ci++ {
		c := int64(w[ci*s])
		if c < 0 {
			c = -c
		}
		mass += uint64(c)
	}
	est := int(min(mass/uint64(t.k), uint64(m))) + 1
	stack := slices.Grow(l.stack[:0], min(m, 2*est)+16)
	for ci := m - 1; ci >= 0; ci-- {
		if c := w[ci*s]; c == 1 || c == ^uint64(0) {
			stack = append(stack, int32(ci))
		}
	}
	ins, del := slices.Grow(l.ins[:0], est), slices.Grow(l.del[:0], est/2+1)
	keys := slices.Grow(l.keys[:0], est*t.keyLen)
	var kw [MaxKeyLen / 8]uint64
	words := kw[:t.words]
	for len(stack) > 0 && len(ins)+len(del) < m {
		ci := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		cell := w[ci*s : ci*s+s : ci*s+s]
		h, cs, ok := t.pureHashes(ci, cell)
		if !ok {
			continue
		}
		sign := cell[wCount]
		value := cell[wValue] * sign // valueSum is -value on the deleted side
		copy(words, cell[wKey:])
		r := listed{off: len(keys), value: value}
		keys = slices.Grow(keys, t.keyLen)[:r.off+t.keyLen]
		storeKey(keys[r.off:], words)
		if sign == 1 {
			ins = append(ins, r)
		} else {
			del = append(del, r)
		}
		sv := value * sign
		for j := 0; j < t.k; j++ {
			cj := int(uint32(j)*t.sub + flow.Index(h, uint32(j), t.sub))
			c := w[cj*s : cj*s+s : cj*s+s]
			c[wCount] -= sign
			c[wValue] -= sv
			c[wCheck] ^= cs
			ks := c[wKey:]
			for i, x := range words {
				ks[i] ^= x
			}
			if n := c[wCount]; n == 1 || n == ^uint64(0) {
				stack = append(stack, int32(cj))
			}
		}
	}
	l.stack, l.ins, l.del, l.keys = stack, ins, del, keys
	l.Inserted = t.entries(l.Inserted[:0], ins, keys)
	l.Deleted = t.entries(l.Deleted[:0], del, keys)
	if left := nonEmpty(w, s); left > 0 {
		return fmt.Errorf("%w: %d of %d cells still hold entries after listing %d inserted and %d deleted (more entries than the table lists, or a damaged table: ParamsFor sizes a table for a difference, which an Estimator estimates)",
			ErrDecodeIncomplete, left, m, len(l.Inserted), len(l.Deleted))
	}
	return nil
}

// entries appends to dst the entries of rs, whose keys are in keys.
func (t *Table) entries(dst []Entry, rs []listed, keys []byte) []Entry {
	dst = slices.Grow(dst, len(rs))
	for _, r := range rs {
		dst = append(dst, Entry{Key: keys[r.off : r.off+t.keyLen : r.off+t.keyLen], Value: r.value})
	}
	return dst
}

// nonEmpty counts the cells of w (stride s) that are not all zero.
func nonEmpty(w []uint64, s int) int {
	n := 0
	for c := 0; c+s <= len(w); c += s {
		if !allZero(w[c : c+s]) {
			n++
		}
	}
	return n
}
