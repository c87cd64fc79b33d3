//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * selftest: runs the shared hash and index derivations on an input written
 * by the Go test and stores the results, so the golden vectors of
 * flow/testdata are checked by the kernel's code as well as by Go's.
 */
#include "dataplane.h"

#define SELFTEST_MIXES 4

struct selftest_in {
	struct flow_key key;
	__u64 seed;
	__u32 m;
	__u32 pad;
};

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
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
