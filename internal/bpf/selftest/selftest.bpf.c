//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * selftest: runs the shared hash and index derivations on an input written
 * by the Go test and stores the results, so the golden vectors of
 * flow/testdata are checked by the kernel's code as well as by Go's; and
 * runs the helpers the kernels derive their bit-array indexes and blocked
 * filter bits with (dp_bit_next, blocked.h) on each vector's hash, for
 * the Go test to compare with flow.BitIndex and bloom.Blocked.
 */
#include "dataplane.h"
#include "blocked.h"

#define SELFTEST_MIXES 4

/* The bit-array indexes dp_bit_next derives per vector: as many as a
 * kernel ever derives (bloom.MaxHashes). */
#define SELFTEST_BITS DP_BLOCK_MAX_K

struct selftest_in {
	struct flow_key key;
	__u64 seed;
	__u32 m;
	__u32 pad;
};

/* The in-block bits of the blocked helpers, 1 to DP_BLOCK_MAX_K: a
 * load-time constant, as the kernels' k is (bloom_cfg_k, fr_fk), so that
 * the verifier knows its value and walks the helpers' loops as it walks
 * theirs. Read from the input map instead, k is unknown to it, and each
 * loop's exit forks the walk: Linux 6.1 gives up at its million
 * instructions. The Go test loads the program once a k. */
volatile const __u32 selftest_k = 1;

/* Terms far from the start, where the 32-bit arithmetic of the contract
 * shows: i + 1 wraps at 2^32 - 1 in dp_mix, and i(i-1) needs 64 bits in
 * dp_bit_index from i = 65537 on. No kernel asks for such terms, but the
 * Go functions are defined for every i and must agree. */
#define SELFTEST_FAR 4
static const __u32 selftest_far[SELFTEST_FAR] = {65537, 92682, 0x80000000, 0xffffffff};

struct selftest_out {
	__u64 hash;
	__u64 mix[SELFTEST_MIXES];
	__u32 index[SELFTEST_MIXES];
	__u32 bit_index[SELFTEST_MIXES];
	__u64 mix_far[SELFTEST_FAR];	  /* dp_mix(hash, selftest_far[j]) */
	__u32 bit_index_far[SELFTEST_FAR]; /* dp_bit_index(hash, selftest_far[j], m) */
	/* dp_bit_next from dp_bit_start(hash): the incremental derivation
	 * the kernels run, against the closed form dp_bit_index. */
	__u32 bit_next[SELFTEST_BITS];
	/* A zero block after dp_block_set(hash, k) with atomic ORs, and one
	 * after it without. */
	__u64 block[DP_BLOCK_WORDS];
	__u64 block_plain[DP_BLOCK_WORDS];
	__u32 block_clear;  /* dp_block_set's result on the zero block (atomic, plain): 1 and 1 */
	__u32 block_again;  /* its result when the bits are set: 0 and 0, each in its own byte */
	__u32 block_test;   /* dp_block_test_upto(block, hash, k): 1 */
	__u32 block_test_k; /* dp_block_test(block, hash, k), k a constant up to 16: 1; 2 for k above 16 */
	__u32 block_miss;   /* dp_block_test_upto less block's lowest set bit: 0 */
	__u32 block_miss_k; /* dp_block_test of that block, as block_test_k: 0 (2 for k above 16) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct selftest_in);
} selftest_input SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct selftest_out);
} selftest_output SEC(".maps");

SEC("xdp")
int xdp_selftest(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct selftest_in *in = bpf_map_lookup_elem(&selftest_input, &zero);
	struct selftest_out *out = bpf_map_lookup_elem(&selftest_output, &zero);
	if (!in || !out)
		return XDP_ABORTED;

	/* Copy to the stack: dp_flow_hash reads the aligned stack key. */
	struct flow_key k = in->key;
	__u64 h = dp_flow_hash(&k, in->seed);
	out->hash = h;
#pragma unroll
	for (__u32 i = 0; i < SELFTEST_MIXES; i++) {
		out->mix[i] = dp_mix(h, i);
		out->index[i] = dp_index(h, i, in->m);
		out->bit_index[i] = dp_bit_index(h, i, in->m);
	}
#pragma unroll
	for (__u32 j = 0; j < SELFTEST_FAR; j++) {
		out->mix_far[j] = dp_mix(h, selftest_far[j]);
		out->bit_index_far[j] = dp_bit_index(h, selftest_far[j], in->m);
	}

	struct dp_bits s = dp_bit_start(h);
#pragma unroll
	for (__u32 i = 0; i < SELFTEST_BITS; i++)
		out->bit_next[i] = dp_bit_next(&s, in->m);

	__u32 nk = selftest_k; /* in-block bits (k is the key, above) */
#pragma unroll
	for (__u32 i = 0; i < DP_BLOCK_WORDS; i++) {
		out->block[i] = 0;
		out->block_plain[i] = 0;
	}
	out->block_clear = dp_block_set(out->block, h, nk, 1) | dp_block_set(out->block_plain, h, nk, 0) << 8;
	out->block_again = dp_block_set(out->block, h, nk, 1) | dp_block_set(out->block_plain, h, nk, 0) << 8;
	out->block_test = dp_block_test_upto(out->block, h, nk);
	out->block_test_k = 2;
#define SELFTEST_TEST_K(N)                                        \
	case N:                                                   \
		out->block_test_k = dp_block_test(out->block, h, N); \
		break
	switch (nk) {
		DP_BLOCK_CASES(SELFTEST_TEST_K);
	}

	/* Clear the lowest set bit of the lowest word that has one: the key
	 * must then test absent. */
	__u64 w[DP_BLOCK_WORDS] __attribute__((aligned(8)));
	int done = 0;
#pragma unroll
	for (__u32 i = 0; i < DP_BLOCK_WORDS; i++) {
		w[i] = out->block[i];
		if (!done && w[i]) {
			w[i] &= w[i] - 1;
			done = 1;
		}
	}
	out->block_miss = dp_block_test_upto(w, h, nk);
	out->block_miss_k = 2;
#define SELFTEST_MISS_K(N)                                  \
	case N:                                             \
		out->block_miss_k = dp_block_test(w, h, N); \
		break
	switch (nk) {
		DP_BLOCK_CASES(SELFTEST_MISS_K);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
