package flow

import (
	"encoding/binary"
	"math/bits"
)

// xxHash64 primes (Collet, xxHash specification, XXH64).
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// Hash64 returns xxHash64 of b with the given seed. It is bit-exact with
// github.com/cespare/xxhash/v2 (xxhash.NewWithSeed(seed), Write(b), Sum64())
// and with dp_xxh64() in internal/bpf/include/hash.h, and never allocates.
// The library hashes keys of 13 and 37 bytes, so this one-shot form is
// written for short inputs; it is correct for any length.
func Hash64(b []byte, seed uint64) uint64 {
	n := len(b)
	var h uint64
	if n >= 32 {
		v1 := seed + prime1 + prime2
		v2 := seed + prime2
		v3 := seed
		v4 := seed - prime1
		for len(b) >= 32 {
			v1 = round(v1, binary.LittleEndian.Uint64(b[0:8]))
			v2 = round(v2, binary.LittleEndian.Uint64(b[8:16]))
			v3 = round(v3, binary.LittleEndian.Uint64(b[16:24]))
			v4 = round(v4, binary.LittleEndian.Uint64(b[24:32]))
			b = b[32:]
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) +
			bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = mergeRound(h, v1)
		h = mergeRound(h, v2)
		h = mergeRound(h, v3)
		h = mergeRound(h, v4)
	} else {
		h = seed + prime5
	}
	h += uint64(n)
	for ; len(b) >= 8; b = b[8:] {
		h ^= round(0, binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b)) * prime1
		h = bits.RotateLeft64(h, 23)*prime2 + prime3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * prime5
		h = bits.RotateLeft64(h, 11) * prime1
	}
	return avalanche(h)
}

// Hash64Pair returns Hash64(b, s1) and Hash64(b, s2) in one pass, for a
// structure that hashes every key under two seeds (an IBLT's cell index and
// checksum). The two share every step that does not depend on the seed (the
// loads and the products of the input words with the primes) and their
// seed-dependent chains run side by side. TestHash64Pair checks it against
// Hash64 for every length up to 256.
func Hash64Pair(b []byte, s1, s2 uint64) (uint64, uint64) {
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
		h1 = mergeRound(h1, a1)
		h2 = mergeRound(h2, c1)
		h1 = mergeRound(h1, a2)
		h2 = mergeRound(h2, c2)
		h1 = mergeRound(h1, a3)
		h2 = mergeRound(h2, c3)
		h1 = mergeRound(h1, a4)
		h2 = mergeRound(h2, c4)
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

// hash37 is Hash64 of the 37 bytes of b (an IPv6 key), unrolled: one
// 32-byte stripe, then a 4-byte round and one byte.
func hash37(b *[MaxKeyLen]byte, seed uint64) uint64 {
	v1 := round(seed+prime1+prime2, binary.LittleEndian.Uint64(b[0:8]))
	v2 := round(seed+prime2, binary.LittleEndian.Uint64(b[8:16]))
	v3 := round(seed, binary.LittleEndian.Uint64(b[16:24]))
	v4 := round(seed-prime1, binary.LittleEndian.Uint64(b[24:32]))
	h := bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) +
		bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
	h = mergeRound(h, v1)
	h = mergeRound(h, v2)
	h = mergeRound(h, v3)
	h = mergeRound(h, v4)
	h += 37
	h ^= uint64(binary.LittleEndian.Uint32(b[32:36])) * prime1
	h = bits.RotateLeft64(h, 23)*prime2 + prime3
	h ^= uint64(b[36]) * prime5
	h = bits.RotateLeft64(h, 11) * prime1
	return avalanche(h)
}

func avalanche(h uint64) uint64 {
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

func round(acc, input uint64) uint64 {
	acc += input * prime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime1
}

func mergeRound(acc, val uint64) uint64 {
	acc ^= round(0, val)
	return acc*prime1 + prime4
}

// Golden is the splitmix64 increment, 2^64 divided by the golden ratio.
const Golden uint64 = 0x9E3779B97F4A7C15

// Mix returns the i-th derived 64-bit hash of h (see "Index derivation" in
// the package documentation). i+1 is computed in 32 bits, as dp_mix() in
// hash.h does, so Mix(h, 2^32-1) is Splitmix(h).
func Mix(h uint64, i uint32) uint64 { return Splitmix(h + uint64(i+1)*Golden) }

// Splitmix is the splitmix64 finalizer, the mixing step of [Mix]:
// Mix(h, i) = Splitmix(h + (i+1)*Golden). A loop over i can keep the state
// h + (i+1)*Golden and advance it by one addition of [Golden] per index
// instead of a multiplication.
func Splitmix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// Reduce maps x to [0, m) using its high 32 bits: (x>>32) * m >> 32.
// Reduce(x, 0) is 0.
func Reduce(x uint64, m uint32) uint32 {
	return uint32((x >> 32) * uint64(m) >> 32)
}

// Index returns Reduce(Mix(h, i), m): the i-th index in [0, m) of the key
// whose hash is h.
func Index(h uint64, i, m uint32) uint32 {
	return Reduce(Mix(h, i), m)
}

// BitIndex returns the i-th bit-array index in [0, m) of the key whose hash
// is h (see "Bit-array derivation" in the package documentation).
func BitIndex(h uint64, i, m uint32) uint32 {
	a, b, c := uint32(h>>32), uint32(h), uint32(Mix(h, 0)>>32)
	g := a + i*b + uint32(uint64(i)*uint64(i-1)/2)*c // i = 0: i-1 wraps, the product is 0
	return uint32(uint64(g) * uint64(m) >> 32)
}
