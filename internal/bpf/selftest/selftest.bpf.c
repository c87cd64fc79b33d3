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

struct selftest_out {
	__u64 hash;
	__u64 mix[SELFTEST_MIXES];
	__u32 index[SELFTEST_MIXES];
	__u32 bit_index[SELFTEST_MIXES];
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
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
