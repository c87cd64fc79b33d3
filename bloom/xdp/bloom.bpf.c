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

#ifndef BLOOM_MAX_K
#define BLOOM_MAX_K 32 /* bloom.MaxHashes */
#endif
#define BLOOM_BLOCK_WORDS 8 /* 64-bit words per block: bloom.BlockBits / 64 */
#define BLOOM_FIELDS_PER_MIX 7 /* 9-bit in-block positions per 64-bit mix */

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

/* key: word index w; value: bits 64w to 64w+63 of the filter, bit j at
 * 1 << (j % 64), in host byte order (bloom.Filter.Words). The loader sets
 * max_entries to the filter's word count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
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

/* bloom_bit tests (learn == 0) or sets with an atomic OR (learn == 1) bit
 * b of word w; it returns whether the bit is set (always 1 when setting). */
static __always_inline int bloom_bit(__u32 w, __u32 b, int learn)
{
	__u64 *v = bpf_map_lookup_elem(&bloom_words, &w);
	if (!v)
		return 0; /* cannot happen: every index is below the word count */
	__u64 bit = 1ULL << (b & 63);
	if (learn) {
		__sync_fetch_and_or(v, bit);
		return 1;
	}
	return (*v & bit) != 0;
}

/* bloom_classic is bloom.Filter.ContainsHash (or AddHash when learning): bits
 * flow.Index(h, i, m) for i < k. The loop has a compile-time bound and
 * exits at k, so the verifier sees at most BLOOM_MAX_K iterations. */
static __always_inline int bloom_classic(__u64 h, int learn)
{
	for (__u32 i = 0; i < BLOOM_MAX_K; i++) {
		if (i >= bloom_cfg_k)
			break;
		__u32 j = dp_index(h, i, bloom_cfg_cells);
		if (!bloom_bit(j >> 6, j & 63, learn))
			return 0;
	}
	return 1;
}

/* bloom_blocked is bloom.Blocked.ContainsHash (or AddHash): block
 * flow.Reduce(h, blocks), then k 9-bit in-block positions, seven from each
 * of flow.Mix(h, 0), flow.Mix(h, 1), ..., lowest bits first. */
static __always_inline int bloom_blocked(__u64 h, int learn)
{
	__u32 base = dp_reduce(h, bloom_cfg_cells) * BLOOM_BLOCK_WORDS;
	__u64 x = dp_mix(h, 0);
	__u32 left = BLOOM_FIELDS_PER_MIX, mi = 0;
	for (__u32 i = 0; i < BLOOM_MAX_K; i++) {
		if (i >= bloom_cfg_k)
			break;
		if (left == 0) {
			mi++;
			x = dp_mix(h, mi);
			left = BLOOM_FIELDS_PER_MIX;
		}
		if (!bloom_bit(base + ((x >> 6) & 7), x & 63, learn))
			return 0;
		x >>= 9;
		left--;
	}
	return 1;
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
