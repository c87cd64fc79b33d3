package iblt

import (
	"encoding/binary"
	"math/bits"
)

// hash2 returns flow.Hash64(b, s1) and flow.Hash64(b, s2), xxHash64 of b
// with two seeds, in one pass. A table hashes every key twice, for its
// cells (index seed) and its checksum (checksum seed); the two share every
// step that does not depend on the seed (the loads and the products of
// the input words with the primes) and their seed-dependent chains run
// side by side. TestHash2 checks it against flow.Hash64 for every length.
func hash2(b []byte, s1, s2 uint64) (uint64, uint64) {
	n := uint64(len(b))
	var h1, h2 uint64
	if len(b) >= 32 {
		a1, a2, a3, a4 := s1+prime1+prime2, s1+prime2, s1, s1-prime1
		c1, c2, c3, c4 := s2+prime1+prime2, s2+prime2, s2, s2-prime1
		for len(b) >= 32 {
			x1 := binary.LittleEndian.Uint64(b[0:8]) * prime2
			x2 := binary.LittleEndian.Uint64(b[8:16]) * prime2
			x3 := binary.LittleEndian.Uint64(b[16:24]) * prime2
			x4 := binary.LittleEndian.Uint64(b[24:32]) * prime2
			a1 = bits.RotateLeft64(a1+x1, 31) * prime1
			c1 = bits.RotateLeft64(c1+x1, 31) * prime1
			a2 = bits.RotateLeft64(a2+x2, 31) * prime1
			c2 = bits.RotateLeft64(c2+x2, 31) * prime1
			a3 = bits.RotateLeft64(a3+x3, 31) * prime1
			c3 = bits.RotateLeft64(c3+x3, 31) * prime1
			a4 = bits.RotateLeft64(a4+x4, 31) * prime1
			c4 = bits.RotateLeft64(c4+x4, 31) * prime1
			b = b[32:]
		}
		h1 = bits.RotateLeft64(a1, 1) + bits.RotateLeft64(a2, 7) + bits.RotateLeft64(a3, 12) + bits.RotateLeft64(a4, 18)
		h2 = bits.RotateLeft64(c1, 1) + bits.RotateLeft64(c2, 7) + bits.RotateLeft64(c3, 12) + bits.RotateLeft64(c4, 18)
		h1 = merge(h1, a1)
		h2 = merge(h2, c1)
		h1 = merge(h1, a2)
		h2 = merge(h2, c2)
		h1 = merge(h1, a3)
		h2 = merge(h2, c3)
		h1 = merge(h1, a4)
		h2 = merge(h2, c4)
	} else {
		h1, h2 = s1+prime5, s2+prime5
	}
	h1 += n
	h2 += n
	for ; len(b) >= 8; b = b[8:] {
		x := bits.RotateLeft64(binary.LittleEndian.Uint64(b)*prime2, 31) * prime1
		h1 = bits.RotateLeft64(h1^x, 27)*prime1 + prime4
		h2 = bits.RotateLeft64(h2^x, 27)*prime1 + prime4
	}
	if len(b) >= 4 {
		x := uint64(binary.LittleEndian.Uint32(b)) * prime1
		h1 = bits.RotateLeft64(h1^x, 23)*prime2 + prime3
		h2 = bits.RotateLeft64(h2^x, 23)*prime2 + prime3
		b = b[4:]
	}
	for _, c := range b {
		x := uint64(c) * prime5
		h1 = bits.RotateLeft64(h1^x, 11) * prime1
		h2 = bits.RotateLeft64(h2^x, 11) * prime1
	}
	return avalanche(h1), avalanche(h2)
}

// xxHash64 primes (Collet, xxHash specification, XXH64).
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// merge is xxHash64's merge of accumulator v into h.
func merge(h, v uint64) uint64 {
	h ^= bits.RotateLeft64(v*prime2, 31) * prime1
	return h*prime1 + prime4
}

// avalanche is xxHash64's final mixing.
func avalanche(h uint64) uint64 {
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}
