/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The in-block bit test of Go's bloom.Blocked, shared by the kernels that
 * keep a blocked Bloom filter (bloom/xdp, flowradar/xdp). A key of hash h
 * owns one 512-bit block, eight words, found by the caller (block
 * dp_reduce(h, blocks)); its k bits in the block are the 9-bit fields of
 * dp_mix(h, 0), dp_mix(h, 1), ..., seven per mix, lowest bits first: field
 * f names bit f%64 of word (f/64)%8.
 */
#ifndef DATAPLANE_BLOCKED_H
#define DATAPLANE_BLOCKED_H

#include "types.h"
#include "compiler.h"
#include "hash.h"

#define DP_BLOCK_WORDS 8      /* 64-bit words per block: bloom.BlockBits / 64 */
#define DP_BLOCK_FIELDS 7     /* 9-bit in-block fields per 64-bit mix */

/* The largest k of a blocked filter: bloom.MaxHashes. */
#define DP_BLOCK_MAX_K 32

/* dp_block_bit returns, in bit 0, in-block bit i of hash h in the block w;
 * x is dp_mix(h, i / 7), kept by the caller from one bit to the next. */
static __always_inline __u64 dp_block_bit(const __u64 *w, __u64 x, __u32 i)
{
	__u64 f = x >> (9 * (i % DP_BLOCK_FIELDS));
	return w[(f >> 6) & (DP_BLOCK_WORDS - 1)] >> (f & 63);
}

/*
 * dp_block_test returns, in bit 0, the AND of the k in-block bits of hash
 * h in the block w (bit 0 set: all of them set, the key may be present).
 * k must be a constant the compiler knows: the loop unrolls into
 * straight-line code with constant shifts and no branch.
 */
static __always_inline __u64 dp_block_test(const __u64 *w, __u64 h, const __u32 k)
{
	__u64 x = 0, ok = 1;
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < k; i++) {
		if (i % DP_BLOCK_FIELDS == 0)
			x = dp_mix(h, i / DP_BLOCK_FIELDS);
		ok &= dp_block_bit(w, x, i);
	}
	return ok & 1;
}

/* dp_block_test_upto is dp_block_test for a k known only at run time
 * (k <= DP_BLOCK_MAX_K), as a bounded loop. */
static __always_inline __u64 dp_block_test_upto(const __u64 *w, __u64 h, __u32 k)
{
	__u64 x = 0, ok = 1;
	for (__u32 i = 0; i < DP_BLOCK_MAX_K; i++) {
		if (i >= k)
			break;
		if (i % DP_BLOCK_FIELDS == 0)
			x = dp_mix(h, i / DP_BLOCK_FIELDS);
		ok &= dp_block_bit(w, x, i);
	}
	return ok & 1;
}

/*
 * dp_block_set sets the k in-block bits of hash h in the block w (k <=
 * DP_BLOCK_MAX_K; a constant or not) and returns nonzero if it found one
 * of them clear. With atomic set each word is updated with a fetch-OR (the
 * block is shared between CPUs), and "found clear" means this CPU's OR set
 * the bit; a caller that ignores the result gets plain atomic ORs.
 */
static __always_inline int dp_block_set(__u64 *w, __u64 h, __u32 k, int atomic)
{
	__u64 x = 0;
	int was_clear = 0;
	for (__u32 i = 0; i < DP_BLOCK_MAX_K; i++) {
		if (i >= k)
			break;
		if (i % DP_BLOCK_FIELDS == 0)
			x = dp_mix(h, i / DP_BLOCK_FIELDS);
		__u64 f = x >> (9 * (i % DP_BLOCK_FIELDS));
		__u64 *v = &w[(f >> 6) & (DP_BLOCK_WORDS - 1)];
		__u64 bit = 1ULL << (f & 63);
		if (atomic) {
			if (!(__sync_fetch_and_or(v, bit) & bit))
				was_clear = 1;
		} else {
			if (!(*v & bit))
				was_clear = 1;
			*v |= bit;
		}
	}
	return was_clear;
}

/* DP_BLOCK_CASES(C) expands to C(1); ... C(16);: in a switch on a
 * load-time k, one straight-line copy of a blocked test per k up to 16, of
 * which the verifier keeps only the loaded k's. */
#define DP_BLOCK_CASES(C) \
	DP_CASES_8(C);    \
	C(9);             \
	C(10);            \
	C(11);            \
	C(12);            \
	C(13);            \
	C(14);            \
	C(15);            \
	C(16)

#endif
