/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hash contract shared with package flow (flow/hash.go): xxHash64 of a
 * key's canonical bytes with a 64-bit seed, the index derivation
 * index_i = reduce(mix(h, i), m) and, for bit arrays, the triple-hashing
 * derivation index_i = ((a + i*b + i(i-1)/2*c) * m) >> 32. Golden vectors
 * in flow/testdata are checked by both sides (internal/bpf/selftest).
 */
#ifndef DATAPLANE_HASH_H
#define DATAPLANE_HASH_H

#include "types.h"
#include "compiler.h"

#define DP_XXH_P1 11400714785074694791ULL
#define DP_XXH_P2 14029467366897019727ULL
#define DP_XXH_P3 1609587929392839161ULL
#define DP_XXH_P4 9650029242287828579ULL
#define DP_XXH_P5 2870177450012600261ULL

/* Must equal flow.Golden. */
#define DP_GOLDEN 0x9E3779B97F4A7C15ULL

static __always_inline __u64 dp_rotl64(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Little-endian loads from an 8-byte aligned buffer (stack access in BPF
 * must be aligned; callers keep their keys in aligned structs). */
static __always_inline __u64 dp_ld64(const __u8 *p)
{
	__u64 v;
	__builtin_memcpy(&v, p, 8);
	return dp_le64(v);
}

static __always_inline __u64 dp_ld32(const __u8 *p)
{
	__u32 v;
	__builtin_memcpy(&v, p, 4);
	return dp_le32(v);
}

static __always_inline __u64 dp_xxh_round(__u64 acc, __u64 input)
{
	acc += input * DP_XXH_P2;
	acc = dp_rotl64(acc, 31);
	return acc * DP_XXH_P1;
}

static __always_inline __u64 dp_xxh_merge(__u64 acc, __u64 val)
{
	acc ^= dp_xxh_round(0, val);
	return acc * DP_XXH_P1 + DP_XXH_P4;
}

/*
 * dp_xxh64 returns xxHash64 of the len bytes at b with the given seed, as
 * flow.Hash64 does. len must be a compile-time constant (every call site
 * passes one, so the loops below unroll into straight-line code and the
 * verifier sees no loop) and b must be 8-byte aligned with len readable
 * bytes (it reads none past them).
 */
static __always_inline __u64 dp_xxh64(const __u8 *b, const __u32 len, __u64 seed)
{
	__u32 n = len;
	__u64 h;

	if (n >= 32) {
		__u64 v1 = seed + DP_XXH_P1 + DP_XXH_P2;
		__u64 v2 = seed + DP_XXH_P2;
		__u64 v3 = seed;
		__u64 v4 = seed - DP_XXH_P1;
#pragma unroll
		for (; n >= 32; n -= 32, b += 32) {
			v1 = dp_xxh_round(v1, dp_ld64(b));
			v2 = dp_xxh_round(v2, dp_ld64(b + 8));
			v3 = dp_xxh_round(v3, dp_ld64(b + 16));
			v4 = dp_xxh_round(v4, dp_ld64(b + 24));
		}
		h = dp_rotl64(v1, 1) + dp_rotl64(v2, 7) + dp_rotl64(v3, 12) + dp_rotl64(v4, 18);
		h = dp_xxh_merge(h, v1);
		h = dp_xxh_merge(h, v2);
		h = dp_xxh_merge(h, v3);
		h = dp_xxh_merge(h, v4);
	} else {
		h = seed + DP_XXH_P5;
	}
	h += len;
#pragma unroll
	for (; n >= 8; n -= 8, b += 8) {
		h ^= dp_xxh_round(0, dp_ld64(b));
		h = dp_rotl64(h, 27) * DP_XXH_P1 + DP_XXH_P4;
	}
	if (n >= 4) {
		h ^= dp_ld32(b) * DP_XXH_P1;
		h = dp_rotl64(h, 23) * DP_XXH_P2 + DP_XXH_P3;
		n -= 4;
		b += 4;
	}
#pragma unroll
	for (; n > 0; n--, b++) {
		h ^= (__u64)(*b) * DP_XXH_P5;
		h = dp_rotl64(h, 11) * DP_XXH_P1;
	}
	h ^= h >> 33;
	h *= DP_XXH_P2;
	h ^= h >> 29;
	h *= DP_XXH_P3;
	h ^= h >> 32;
	return h;
}

/* dp_mix is flow.Mix: the (i+1)-th splitmix64 output from state h. */
static __always_inline __u64 dp_mix(__u64 h, __u32 i)
{
	__u64 x = h + (__u64)(i + 1) * DP_GOLDEN;
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return x;
}

/* dp_reduce is flow.Reduce: the high 32 bits of x scaled into [0, m). */
static __always_inline __u32 dp_reduce(__u64 x, __u32 m)
{
	return (__u32)(((x >> 32) * (__u64)m) >> 32);
}

/* dp_index is flow.Index: the i-th index in [0, m) of the hash h. */
static __always_inline __u32 dp_index(__u64 h, __u32 i, __u32 m)
{
	return dp_reduce(dp_mix(h, i), m);
}

/* dp_bit_index is flow.BitIndex, the bit-array derivation of classic and
 * counting Bloom filters (triple hashing): the i-th term of
 * a + i*b + i(i-1)/2*c on 32-bit integers (a, b: the halves of h; c: the
 * high half of dp_mix(h, 0)), scaled into [0, m). A loop over i keeps
 * g and d instead: see dp_bit_start and dp_bit_next. */
static __always_inline __u32 dp_bit_index(__u64 h, __u32 i, __u32 m)
{
	__u32 c = (__u32)(dp_mix(h, 0) >> 32);
	__u32 g = (__u32)(h >> 32) + i * (__u32)h + (__u32)(((__u64)i * (__u64)(i - 1)) / 2) * c;
	return (__u32)(((__u64)g * (__u64)m) >> 32);
}

/* The incremental form of dp_bit_index: g = a, d = b, c as above, then per
 * index scale(g), g += d, d += c. */
struct dp_bits {
	__u32 g, d, c;
};

static __always_inline struct dp_bits dp_bit_start(__u64 h)
{
	struct dp_bits s = {(__u32)(h >> 32), (__u32)h, (__u32)(dp_mix(h, 0) >> 32)};
	return s;
}

/* dp_bit_next returns the next index in [0, m) and advances s. */
static __always_inline __u32 dp_bit_next(struct dp_bits *s, __u32 m)
{
	__u32 j = (__u32)(((__u64)s->g * (__u64)m) >> 32);
	s->g += s->d;
	s->d += s->c;
	return j;
}

#endif
