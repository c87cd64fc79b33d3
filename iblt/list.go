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
	if t.k == 0 {
		return nil, nil, errZeroTable
	}
	s := t.stride
	m := t.Cells()
	w := make([]uint64, len(t.cells))
	copy(w, t.cells)

	// Every listable entry adds |1| to the count of k cells, so the sum of
	// |count| over k sizes the buffers (a corrupt table may ask for more;
	// capped at m entries, the most List ever peels).
	var mass uint64
	for ci := 0; ci < m; ci++ {
		c := int64(w[ci*s])
		if c < 0 {
			c = -c
		}
		mass += uint64(c)
	}
	est := int(min(mass/uint64(t.k), uint64(m))) + 1
	stack := make([]int32, 0, min(m, 2*est)+16)
	for ci := m - 1; ci >= 0; ci-- {
		if c := w[ci*s]; c == 1 || c == ^uint64(0) {
			stack = append(stack, int32(ci))
		}
	}
	type rec struct {
		off   int
		value uint64
	}
	ins, del := make([]rec, 0, est), make([]rec, 0, est/2+1)
	keys := make([]byte, 0, est*t.keyLen)
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
		r := rec{off: len(keys), value: value}
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
	inserted = make([]Entry, len(ins))
	for i, r := range ins {
		inserted[i] = Entry{Key: keys[r.off : r.off+t.keyLen : r.off+t.keyLen], Value: r.value}
	}
	deleted = make([]Entry, len(del))
	for i, r := range del {
		deleted[i] = Entry{Key: keys[r.off : r.off+t.keyLen : r.off+t.keyLen], Value: r.value}
	}
	if left := nonEmpty(w, s); left > 0 {
		return inserted, deleted, fmt.Errorf("%w: %d of %d cells still hold entries after listing %d inserted and %d deleted (more entries than the table lists, or a damaged table: ParamsFor sizes a table for a difference, which an Estimator estimates)",
			ErrDecodeIncomplete, left, m, len(inserted), len(deleted))
	}
	return inserted, deleted, nil
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
