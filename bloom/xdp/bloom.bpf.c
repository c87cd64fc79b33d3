//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bloom/xdp: an XDP filter over the bit layout of package bloom. Every
 * packet is parsed with the shared parser; its key (the 5-tuple, or the
 * source address alone) is hashed with the shared hash and looked up in a
 * classic (bloom.Filter) or blocked (bloom.Blocked) Bloom filter. Members
 * are dropped (blocklist) or are the only packets passed (allowlist). In
 * learn mode every key is inserted instead, with an atomic OR, and every
 * packet passes. Packets that do not parse always pass.
 */
#include "dataplane.h"
#include "blocked.h"

#ifndef BLOOM_MAX_K
#define BLOOM_MAX_K 32 /* bloom.MaxHashes */
#endif

enum bloom_layout {
	BLOOM_CLASSIC = 0, /* bloom.Filter */
	BLOOM_BLOCKED = 1, /* bloom.Blocked */
};

enum bloom_key_mode {
	BLOOM_KEY_FLOW = 0,   /* the canonical 5-tuple bytes (flow.Key.Bytes) */
	BLOOM_KEY_SOURCE = 1, /* the source address: 4 or 16 bytes, network order */
};

enum bloom_action {
	BLOOM_DROP_MEMBERS = 0, /* blocklist: drop members, pass the rest */
	BLOOM_PASS_MEMBERS = 1, /* allowlist: pass members, drop the rest */
};

/* Per-CPU counters. Every packet counts once in PASSED or DROPPED; a packet
 * that does not parse also counts in MALFORMED (truncated or malformed) or
 * NOT_IP. */
enum bloom_stat {
	BLOOM_STAT_PASSED = 0,
	BLOOM_STAT_DROPPED = 1,
	BLOOM_STAT_MALFORMED = 2,
	BLOOM_STAT_NOT_IP = 3,
	BLOOM_STAT_MAX,
};

/* Referenced so that BTF, and with it bpf2go -type, carries these types. */
const enum bloom_layout *bloom_layout_btf __attribute__((unused));
const enum bloom_key_mode *bloom_key_mode_btf __attribute__((unused));
const enum bloom_action *bloom_action_btf __attribute__((unused));
const enum bloom_stat *bloom_stat_btf __attribute__((unused));

/* Load-time constants, set from Go (bloom/xdp.Options). */
DP_CONST __u64 bloom_cfg_seed = 0;	 /* the filter's seed (bloom.Params.Seed) */
DP_CONST __u32 bloom_cfg_k = 1;	 /* k, 1 to BLOOM_MAX_K */
DP_CONST __u32 bloom_cfg_cells = 64; /* classic: m bits; blocked: m/512 blocks */
DP_CONST __u32 bloom_cfg_layout = BLOOM_CLASSIC;
DP_CONST __u32 bloom_cfg_key_mode = BLOOM_KEY_FLOW;
DP_CONST __u32 bloom_cfg_action = BLOOM_DROP_MEMBERS;
DP_CONST __u32 bloom_cfg_learn = 0; /* 1: insert every key, pass every packet */
DP_CONST __u32 bloom_cfg_flat = 0;  /* 1: bloom_words holds the whole filter in element 0 */
DP_CONST __u32 bloom_cfg_flat_mask = 0; /* words of that element, a power of two, less one */

/* A block: eight 64-bit words, 512 bits. bloom.Blocked keeps all k bits
 * of a key in one block, so the kernel finds them with one map lookup. */
struct bloom_block {
	__u64 w[DP_BLOCK_WORDS];
};

/* The filter's words (bloom.Filter.Words or bloom.Blocked.Words), bit j
 * of the filter at 1 << (j % 64) of word j / 64, in host byte order. A
 * blocked filter, or a classic one over 4 MiB: key b, block b (words 8b
 * to 8b+7; the word count rounded up to a multiple of eight, the padding
 * words of a classic filter staying zero), so a blocked filter's k bits
 * take one lookup. A classic filter of up to 4 MiB (bloom_cfg_flat): key
 * 0, all the words, the loader setting the value size (the word count
 * rounded up to a power of two, eight at least: a word's index is then
 * bounded by a mask, bloom_cfg_flat_mask, where a test and a branch would
 * cost a nanosecond at k = 7), so that its k bits, anywhere in the
 * filter, take one lookup, not k. Either way the mapping holds the words
 * in order. Memory-mapped, so user space reads and writes the filter with
 * one copy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct bloom_block);
} bloom_words SEC(".maps");

/* key: enum bloom_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BLOOM_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} bloom_stats SEC(".maps");

static __always_inline void bloom_count(__u32 stat)
{
	dp_count(&bloom_stats, stat);
}

/* bloom_hash returns flow.Hash64 of the key bytes the mode selects. */
static __always_inline __u64 bloom_hash(const struct flow_key *k)
{
	if (bloom_cfg_key_mode == BLOOM_KEY_SOURCE) {
		if (k->len == FLOW_KEY_LEN6)
			return dp_xxh64(k->bytes, 16, bloom_cfg_seed);
		return dp_xxh64(k->bytes, 4, bloom_cfg_seed);
	}
	return dp_flow_hash(k, bloom_cfg_seed);
}

/* bloom_block returns block b of the filter, or NULL (which cannot
 * happen: every index is below the block count). */
static __always_inline struct bloom_block *bloom_block(__u32 b)
{
	return bpf_map_lookup_elem(&bloom_words, &b);
}

/* bloom_flat returns the filter's words when bloom_words holds them all in
 * one element (bloom_cfg_flat), or NULL (which cannot happen). */
static __always_inline __u64 *bloom_flat(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&bloom_words, &zero);
}

/* The loops over the k indexes are unrolled in full: k is a load-time
 * constant that the verifier knows, so it removes every test of i against
 * k (and the iterations past k), leaving straight-line code with constant
 * shifts and mix indexes. */

/* bloom_classic is bloom.Filter.ContainsHash (or AddHash when learning): bits
 * flow.BitIndex(h, i, m) for i < k, two additions and a multiplication
 * each (dp_bit_next, hash.h), in the filter's one element (bloom_flat) or,
 * without bloom_cfg_flat, in their blocks. */
static __always_inline int bloom_classic(__u64 h, int learn)
{
	/* The lookup's key is constant: it does not wait for the hash. */
	__u64 *flat = bloom_cfg_flat ? bloom_flat() : 0;
	if (bloom_cfg_flat && !flat)
		return 0;
	struct dp_bits s = dp_bit_start(h);
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < BLOOM_MAX_K; i++) {
		if (i >= bloom_cfg_k)
			break;
		__u32 j = dp_bit_next(&s, bloom_cfg_cells);
		__u64 *v;
		if (bloom_cfg_flat) {
			/* j < m always, but older verifiers (6.1) do not bound
			 * j from the multiplication: the mask (the element's
			 * words less one, a power of two less one) bounds the
			 * word's index for them, and changes no index below m. */
			v = &flat[(j >> 6) & bloom_cfg_flat_mask];
		} else {
			struct bloom_block *blk = bloom_block(j >> 9);
			if (!blk)
				return 0;
			/* Keep the NULL check ahead of the arithmetic on blk,
			 * which clang could otherwise merge with the flat path's
			 * and do first, and the verifier refuse. */
			asm volatile("" : "+r"(blk));
			v = &blk->w[(j >> 6) & (DP_BLOCK_WORDS - 1)];
		}
		__u64 bit = 1ULL << (j & 63);
		if (learn)
			__sync_fetch_and_or(v, bit);
		else if (!(*v & bit))
			return 0;
	}
	return 1;
}

/* bloom_blocked_k tests (or sets, when learning) the k in-block bits of
 * hash h in blk (blocked.h), for a k the compiler knows. */
static __always_inline int bloom_blocked_k(struct bloom_block *blk, __u64 h, int learn, const __u32 k)
{
	if (learn) {
		dp_block_set(blk->w, h, k, 1);
		return 1;
	}
	return dp_block_test(blk->w, h, k);
}

#define BLOOM_BLOCKED_CASE(n) \
	case n:               \
		return bloom_blocked_k(blk, h, learn, n)

/* bloom_blocked is bloom.Blocked.ContainsHash (or AddHash): block
 * flow.Reduce(h, blocks), then k 9-bit in-block positions, seven from each
 * of flow.Mix(h, 0), flow.Mix(h, 1), ..., lowest bits first. One lookup
 * finds the block; the k bits are tested without a branch, as the Go code
 * does, since they share one cache line. There is a copy of the code for
 * each k up to 16: k is a load-time constant the verifier knows, so it
 * keeps only the loaded k's copy, with no test of k left in it. */
static __always_inline int bloom_blocked(__u64 h, int learn)
{
	struct bloom_block *blk = bloom_block(dp_reduce(h, bloom_cfg_cells));
	if (!blk)
		return 0;
	switch (bloom_cfg_k) {
		DP_BLOCK_CASES(BLOOM_BLOCKED_CASE);
	}
	/* k > 16 */
	if (learn) {
		dp_block_set(blk->w, h, bloom_cfg_k, 1);
		return 1;
	}
	return dp_block_test_upto(blk->w, h, bloom_cfg_k);
}

static __always_inline int bloom_apply(__u64 h, int learn)
{
	if (bloom_cfg_layout == BLOOM_BLOCKED)
		return bloom_blocked(h, learn);
	return bloom_classic(h, learn);
}

SEC("xdp")
int xdp_bloom(struct xdp_md *ctx)
{
	struct dp_parsed p;

	int outcome = dp_parse_packet(ctx, &p);
	if (outcome != DP_PARSE_OK) {
		bloom_count(outcome == DP_PARSE_NOT_IP ? BLOOM_STAT_NOT_IP : BLOOM_STAT_MALFORMED);
		bloom_count(BLOOM_STAT_PASSED);
		return XDP_PASS;
	}
	__u64 h = bloom_hash(&p.key);
	if (bloom_cfg_learn) {
		bloom_apply(h, 1);
		bloom_count(BLOOM_STAT_PASSED);
		return XDP_PASS;
	}
	int member = bloom_apply(h, 0);
	int drop = bloom_cfg_action == BLOOM_DROP_MEMBERS ? member : !member;
	if (drop) {
		bloom_count(BLOOM_STAT_DROPPED);
		return XDP_DROP;
	}
	bloom_count(BLOOM_STAT_PASSED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
