package iblt

import (
	"math"
	"math/bits"
)

// keySet indexes keys stored elsewhere, as runs of packed words (words per
// key), so that the rateless coder can refuse a duplicate key and the
// decoder can tell a local key from a foreign one. It is an open-addressing
// table with linear probing, kept at most half full, of 64-bit slots: the
// upper 32 bits of the key's index hash (flow.Hash64 under the coder's
// seed, already computed for every key), then the key's number plus one in
// the lower 32 bits; 0 is an empty slot. A slot's position comes from the
// same upper hash bits, so growing never needs the keys; a hash match is
// confirmed by comparing every key word, so distinct keys never collide.
//
// Memory: 8 bytes per slot, 16 to 32 bytes per key.
type keySet struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
	n     int
}

// maxSetKeys bounds the keys of one set: numbers must fit in 32 bits and
// positions, taken from 32 hash bits, in a table of at most 2^32 slots.
const maxSetKeys = 1<<31 - 1

// reserve makes room for n keys in all without growing again.
func (s *keySet) reserve(n int) {
	if 2*n > len(s.slots) {
		s.grow(n)
	}
}

// grow rehashes the set into a table of at least 2n slots.
func (s *keySet) grow(n int) {
	size := 16
	for size/2 < n && size <= math.MaxInt/4 {
		size *= 2
	}
	old := s.slots
	s.slots = make([]uint64, size)
	s.shift = uint(64 - bits.TrailingZeros(uint(size))) // size is a power of two
	mask := uint64(size - 1)
	for _, v := range old {
		if v != 0 {
			p := (v >> 32 << 32) >> s.shift
			for s.slots[p] != 0 {
				p = (p + 1) & mask
			}
			s.slots[p] = v
		}
	}
}

// find looks up the key of index hash h and words kw among keys (words
// per key). It returns the key's number, or -1 and the empty slot where it
// would go. The set must have at least one empty slot (see reserve).
func (s *keySet) find(h uint64, kw, keys []uint64, words int) (j, slot int) {
	if len(s.slots) == 0 {
		return -1, -1
	}
	mask := uint64(len(s.slots) - 1)
	tag := h >> 32
	for p := h >> s.shift; ; p = (p + 1) & mask {
		v := s.slots[p]
		if v == 0 {
			return -1, int(p)
		}
		if v>>32 == tag {
			j := int(uint32(v)) - 1
			if equalWords(keys[j*words:(j+1)*words], kw) {
				return j, int(p)
			}
		}
	}
}

// insert records key number j, of index hash h, in the empty slot that
// find returned.
func (s *keySet) insert(slot int, h uint64, j int) {
	s.slots[slot] = h>>32<<32 | uint64(j+1)
	s.n++
}
