//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flow/xdp: parse every packet with the shared parser, hash its key with the
 * shared hash, hand both to user space, and pass the packet on. It proves
 * that the kernel and package flow see every frame the same way.
 */
#include "dataplane.h"

/* Load-time constants, set from Go (flow/xdp.Options). */
DP_CONST __u64 flow_seed = 0; /* seed of the key hash, as (*flow.Key).Hash */
DP_CONST __u32 flow_emit = 1; /* 1: one flow_events record per packet */

/* Per-CPU counters: indexes 0..3 are enum dp_outcome, then these. */
enum flow_stat {
	FLOW_STAT_EVENTS_LOST = DP_PARSE_OUTCOMES, /* ring buffer full */
	FLOW_STAT_MAX,
};

/* One record per packet when flow_emit is set. */
struct flow_event {
	struct dp_parsed parsed; /* meaningful when outcome is DP_PARSE_OK */
	__u64 hash;		 /* dp_flow_hash(parsed.key, flow_seed), 0 unless OK */
	__u32 outcome;		 /* enum dp_outcome */
	__u32 frame_len;	 /* bytes the program saw */
};

/* Referenced so that BTF, and with it bpf2go -type, carries these types. */
const struct flow_event *flow_event_btf __attribute__((unused));
const enum flow_stat flow_stat_btf __attribute__((unused));

/* Records for user space; the loader sets the size (a power of two). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} flow_events SEC(".maps");

/* key: enum dp_outcome or enum flow_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flow_stats SEC(".maps");

/* key: 0; value: XOR of the hashes of every parsed key, per CPU. User space
 * compares it with the same XOR computed in Go: agreement on a whole trace
 * in one number, without a record per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_digest SEC(".maps");

static __always_inline void flow_count(__u32 stat)
{
	dp_count(&flow_stats, stat);
}

SEC("xdp")
int xdp_flow(struct xdp_md *ctx)
{
	struct dp_parsed p;
	__u64 hash = 0;

	int outcome = dp_parse_packet(ctx, &p);
	if (outcome == DP_PARSE_OK) {
		hash = dp_flow_hash(&p.key, flow_seed);
		__u32 zero = 0;
		__u64 *d = bpf_map_lookup_elem(&flow_digest, &zero);
		if (d)
			*d ^= hash;
	}
	flow_count(outcome);

	if (flow_emit) {
		struct flow_event *e = bpf_ringbuf_reserve(&flow_events, sizeof(*e), 0);
		if (!e) {
			flow_count(FLOW_STAT_EVENTS_LOST);
			return XDP_PASS;
		}
		e->parsed = p;
		e->hash = hash;
		e->outcome = outcome;
		e->frame_len = dp_frame_len(ctx);
		bpf_ringbuf_submit(e, 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
