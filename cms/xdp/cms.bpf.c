//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cms/xdp: a count-min sketch updated by every packet, with the counters of
 * Go package cms (d rows of w u32 counters, counter of row r at column
 * dp_index(hash, r, w); the maps' layout is described at cms_chunks), and
 * a heavy-hitter detector over the same counters that mirrors Go's
 * cms.Detector (its FilterReportHash; see package cms's documentation).
 *
 * Modes (cms_run_mode, enum cms_mode):
 *   CMS_MODE_SHARED  sketch in cms_counters, one array for all CPUs,
 *                    atomic adds; the packet passes.
 *   CMS_MODE_PERCPU  sketch in cms_counters_pcpu, one copy per CPU, plain
 *                    adds; user space sums the copies (cms.Sum). Passes.
 *   CMS_MODE_DETECT  the lab's detector over per-CPU counters: if the
 *                    minimum of the flow's d counters has reached
 *                    cms_threshold, XDP_DROP and count nothing; otherwise
 *                    increment the d counters and XDP_PASS. A cms_event
 *                    goes to user space for the packet that brings the
 *                    minimum to the threshold (CMS_REPORT_CROSSED) and for
 *                    a flow's first dropped packet unless the flow was
 *                    reported already (CMS_REPORT_DROPPED): a flow can be
 *                    dropped without ever crossing, when colliding flows
 *                    filled its counters. "Reported already" is a per-CPU
 *                    direct-mapped cache of flow hashes (cms_reported):
 *                    a flow is reported again only after another reported
 *                    flow took its slot, so reports may repeat but no
 *                    dropped flow goes unreported. A report lost to a
 *                    full ring buffer (CMS_STAT_EVENTS_LOST) is not
 *                    remembered: the flow's next dropped packet reports
 *                    it. With RSS a flow's packets all reach one CPU,
 *                    so each CPU detects over the flows it serves.
 *
 * With cms_epochs set, the counters map holds two sketches, epoch 0's
 * elements then epoch 1's, and each packet counts in the one cms_epoch
 * names; the loader flips cms_epoch to end an epoch (see Kernel.Flip), so
 * that it reads a sketch no packet still writes. The detector then has
 * two report caches as well, epoch 0's slots then epoch 1's, and each
 * event names its epoch: an epoch is an interval of the lab's detector,
 * which starts with no counts and no flow reported.
 *
 * Every frame that parses (any IP protocol; ports are zero where there are
 * none) counts once. Truncated, malformed and non-IP frames pass untouched
 * and are counted in cms_stats by outcome.
 */
#include "dataplane.h"

/* cms.MaxDepth: the row loop's compile-time bound. */
#ifndef CMS_MAX_DEPTH
#define CMS_MAX_DEPTH 32
#endif

/* Counters saturate at 2^32-1 like the Go sketch. Shared counters below
 * CMS_SAT_GUARD take a plain atomic add: fewer than 2^16 CPUs, each with one
 * packet in flight, cannot carry them past 2^32-1. Above it a bounded
 * compare-and-swap saturates (see cms_add_shared). */
#define CMS_SAT_MAX 0xffffffffU
#define CMS_SAT_GUARD (CMS_SAT_MAX - 0x10000U)

enum cms_mode {
	CMS_MODE_SHARED = 0,
	CMS_MODE_PERCPU = 1,
	CMS_MODE_DETECT = 2,
};

/* Per-CPU statistics: indexes 0..3 are enum dp_outcome, then these. */
enum cms_stat {
	CMS_STAT_DROPPED = DP_PARSE_OUTCOMES, /* detector drops */
	CMS_STAT_EVENTS = DP_PARSE_OUTCOMES + 1, /* events sent (both reports) */
	CMS_STAT_EVENTS_LOST = DP_PARSE_OUTCOMES + 2, /* ring buffer full */
	CMS_STAT_SAT_MISSED = DP_PARSE_OUTCOMES + 3, /* CAS retries exhausted */
	CMS_STAT_MAX = DP_PARSE_OUTCOMES + 4,
};

/* Why a flow was reported (cms.Report in Go). */
enum cms_report {
	CMS_REPORT_NONE = 0,
	CMS_REPORT_CROSSED = 1, /* its packet brought the minimum to the threshold */
	CMS_REPORT_DROPPED = 2, /* its first dropped packet (not reported before) */
};

/* A flow reported by the detector. */
struct cms_event {
	struct flow_key key;
	__u64 hash;	/* dp_flow_hash(key, cms_seed) */
	__u32 estimate; /* the flow's minimum counter: cms_threshold when
			 * crossed, at least cms_threshold when dropped */
	__u32 cpu;	/* CPU whose counters it was detected on */
	__u32 report;	/* enum cms_report */
	__u32 epoch;	/* the epoch counted in (0 without cms_epochs) */
};

const struct cms_event *cms_event_btf __attribute__((unused));
const enum cms_stat cms_stat_btf __attribute__((unused));
const enum cms_mode cms_mode_btf __attribute__((unused));
const enum cms_report cms_report_btf __attribute__((unused));

/* cms.ReportSlots and cms's reportRow: the report cache's size, and the
 * index of dp_index that picks a flow's slot (beyond every sketch row, so
 * slots are independent of counters). */
#define CMS_REPORT_SLOTS 4096
#define CMS_REPORT_ROW 32

/* Load-time constants, set from Go (cms/xdp.Options). */
DP_CONST __u64 cms_seed = 0;	    /* cms.Params.Seed */
DP_CONST __u32 cms_width = 1;	    /* cms.Params.Width, w */
DP_CONST __u32 cms_depth = 1;	    /* cms.Params.Depth, d <= CMS_MAX_DEPTH */
DP_CONST __u32 cms_run_mode = 0; /* enum cms_mode */
DP_CONST __u32 cms_threshold = 1000; /* detector threshold, at least 1 */

/* Row r of the sketch is element r of the counters map (cms_chunks 1), so
 * the element a packet updates does not depend on its hash: the map lookups
 * run alongside the hashing instead of after it, which saves about 1 ns a
 * row. A row wider than one element can hold (CMS_PCPU_CHUNK counters in a
 * per-CPU value, bounded by the kernel at 32 KiB; CMS_SHARED_CHUNK in a
 * shared one, bounded by kmalloc at 4 MiB) is cut into cms_chunks elements
 * of that many counters: counter c of row r is then in element
 * r*cms_chunks + c/CHUNK, slot c%CHUNK. The loader sets value_size (the
 * row's or the chunk's counters, u32 in host byte order), max_entries
 * (d*cms_chunks) and cms_chunks; key and value sizes are declared without
 * BTF types so that it can. */
#define CMS_PCPU_SHIFT 13
#define CMS_SHARED_SHIFT 20
#define CMS_PCPU_CHUNK (1U << CMS_PCPU_SHIFT)
#define CMS_SHARED_CHUNK (1U << CMS_SHARED_SHIFT)

DP_CONST __u32 cms_chunks = 1; /* elements per row */
DP_CONST __u32 cms_epochs = 0; /* 1: two sketches, cms_epoch picks one */

/* key 0; value: the epoch written (0 or 1), with cms_epochs set. The
 * loader flips it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cms_epoch SEC(".maps");

/* Memory-mapped, so user space reads it without a system call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cms_counters SEC(".maps");

/* The same layout, one copy per CPU (per-CPU sketch and detector modes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cms_counters_pcpu SEC(".maps");

static __always_inline __u32 *cms_element(__u32 key, int percpu)
{
	return percpu ? bpf_map_lookup_elem(&cms_counters_pcpu, &key)
		      : bpf_map_lookup_elem(&cms_counters, &key);
}

/* cms_counter returns counter c (< w) of row r of the sketch whose first
 * element is base (0, or an epoch's first) in the shared or per-CPU map,
 * or NULL (never, for r < d and c < w). */
static __always_inline __u32 *cms_counter(__u32 base, __u32 r, __u32 c, __u32 w, int percpu)
{
	__u32 *v;

	if (cms_chunks == 1) { /* known at load: the verifier keeps one branch */
		if (c >= w)    /* bounds the slot for the verifier */
			return 0;
		v = cms_element(base + r, percpu);
	} else {
		__u32 shift = percpu ? CMS_PCPU_SHIFT : CMS_SHARED_SHIFT;
		v = cms_element(base + r * cms_chunks + (c >> shift), percpu);
		c &= (1U << shift) - 1;
	}
	if (!v)
		return 0;
	/* Keep the NULL check ahead of the arithmetic on v, which clang
	 * would otherwise do first and the verifier refuse. */
	asm volatile("" : "+r"(v));
	return &v[c];
}

/* The detector's report cache: slot dp_index(h, CMS_REPORT_ROW,
 * CMS_REPORT_SLOTS) holds the hash of the last flow reported through it,
 * per CPU; with cms_epochs, epoch e's slots start at e*CMS_REPORT_SLOTS.
 * max_entries is CMS_REPORT_SLOTS in detector mode (twice that with
 * cms_epochs), 1 otherwise (set by the loader). */
struct cms_reported_slot {
	__u64 hash;
	__u64 used; /* 0: empty (a hash of 0 is a valid hash) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CMS_REPORT_SLOTS);
	__type(key, __u32);
	__type(value, struct cms_reported_slot);
} cms_reported SEC(".maps");

/* key: enum dp_outcome or enum cms_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CMS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} cms_stats SEC(".maps");

/* struct cms_event records; the loader sets the size (a power of two). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} cms_events SEC(".maps");

static __always_inline void cms_count(__u32 stat)
{
	dp_count(&cms_stats, stat);
}

/* Saturating +1 on a shared counter. The compare-and-swap loop near the
 * top is bounded (4 tries, unrolled: the verifier needs a bound and four
 * is plenty for the few CPUs that could race on one counter); a counter
 * that loses every race misses this increment and the miss is counted. */
static __always_inline void cms_add_shared(__u32 *c)
{
	__u32 old = *(volatile __u32 *)c;
	if (old < CMS_SAT_GUARD) {
		__sync_fetch_and_add(c, 1);
		return;
	}
#pragma unroll
	for (int t = 0; t < 4; t++) {
		if (old == CMS_SAT_MAX)
			return;
		__u32 seen = __sync_val_compare_and_swap(c, old, old + 1);
		if (seen == old)
			return;
		old = seen;
	}
	cms_count(CMS_STAT_SAT_MISSED);
}

/* cms_sketch_row counts one packet in row r of the sketch of width w whose
 * first element is base. */
static __always_inline void cms_sketch_row(__u64 h, __u32 base, __u32 r, __u32 w, int percpu)
{
	__u32 *c = cms_counter(base, r, dp_index(h, r, w), w, percpu);
	if (!c)
		return; /* unreachable */
	if (percpu) {
		if (*c != CMS_SAT_MAX)
			*c += 1;
	} else {
		cms_add_shared(c);
	}
}

/* cms_sketch_n is cms_sketch for a depth n the compiler knows: the rows in
 * straight-line code, the width read once. */
static __always_inline void cms_sketch_n(__u64 h, __u32 base, const __u32 n, int percpu)
{
	__u32 w = cms_width;
#pragma clang loop unroll(full)
	for (__u32 r = 0; r < n; r++)
		cms_sketch_row(h, base, r, w, percpu);
}

#define CMS_SKETCH_CASE(n)                        \
	case n:                                   \
		cms_sketch_n(h, base, n, percpu); \
		return XDP_PASS

/* cms_sketch counts one packet of hash h in the sketch whose first element
 * is base. */
static __always_inline int cms_sketch(__u64 h, __u32 base, int percpu)
{
	/* Depths up to 8 (cms.ParamsFor gives 7 for delta 1e-3) in
	 * straight-line code; cms_depth is known to the verifier at load,
	 * which prunes the other cases. */
	switch (cms_depth) {
		DP_CASES_8(CMS_SKETCH_CASE);
	}
	/* Bounded by CMS_MAX_DEPTH, exits at cms_depth (known to the verifier
	 * at load, which prunes the rest). */
	for (__u32 r = 0; r < CMS_MAX_DEPTH; r++) {
		if (r >= cms_depth)
			break;
		cms_sketch_row(h, base, r, cms_width, percpu);
	}
	return XDP_PASS;
}

/* cms_report_slot returns the report cache slot of hash h in epoch (never
 * NULL: the index is below CMS_REPORT_SLOTS, or twice that with
 * cms_epochs, the map's size). */
static __always_inline struct cms_reported_slot *cms_report_slot(__u64 h, __u32 epoch)
{
	__u32 slot = epoch * CMS_REPORT_SLOTS + dp_index(h, CMS_REPORT_ROW, CMS_REPORT_SLOTS);
	return bpf_map_lookup_elem(&cms_reported, &slot);
}

/* cms_report sends one cms_event and returns 1, or counts it lost and
 * returns 0 (the ring buffer is full). */
static __always_inline int cms_report(const struct flow_key *key, __u64 h, __u32 est, __u32 why, __u32 epoch)
{
	struct cms_event *e = bpf_ringbuf_reserve(&cms_events, sizeof(*e), 0);
	if (!e) {
		cms_count(CMS_STAT_EVENTS_LOST);
		return 0;
	}
	__builtin_memcpy(&e->key, key, sizeof(e->key));
	e->hash = h;
	e->estimate = est;
	e->cpu = bpf_get_smp_processor_id();
	e->report = why;
	e->epoch = epoch;
	bpf_ringbuf_submit(e, 0);
	cms_count(CMS_STAT_EVENTS);
	return 1;
}

/* cms_report_once reports flow key (hash h) unless its report slot holds
 * h already, and stores h there once the report is sent. A report lost to
 * a full ring buffer leaves the slot as it was, so the flow's next packet
 * through this path tries again: no flow stays unreported for good
 * because the ring was full once. */
static __always_inline void cms_report_once(const struct flow_key *key, __u64 h, __u32 est, __u32 why, __u32 epoch)
{
	struct cms_reported_slot *r = cms_report_slot(h, epoch);
	if (!r || (r->used && r->hash == h))
		return;
	if (!cms_report(key, h, est, why, epoch))
		return;
	r->hash = h;
	r->used = 1;
}

/* cms_detect_n finds the minimum of the flow's counters in rows 0 to n-1
 * of the sketch whose first element is base (n a compile-time constant:
 * straight-line code, see DP_CASES_8), stores
 * it in *est and, unless it has reached cms_threshold, increments each of
 * them (saturating). It returns -1, counting nothing, if a counter is
 * missing (unreachable: every row and column is in the map). The
 * counters' pointers stay on the stack at fixed offsets between the two
 * passes. */
static __always_inline int cms_detect_n(__u64 h, __u32 base, const __u32 n, __u32 *est)
{
	__u32 *cs[DP_CASES_MAX];
	__u32 w = cms_width, min = CMS_SAT_MAX;
#pragma clang loop unroll(full)
	for (__u32 r = 0; r < n; r++) {
		cs[r] = cms_counter(base, r, dp_index(h, r, w), w, 1);
		if (!cs[r])
			return -1;
		if (*cs[r] < min)
			min = *cs[r];
	}
	*est = min;
	if (min >= cms_threshold)
		return 0;
#pragma clang loop unroll(full)
	for (__u32 r = 0; r < n; r++)
		if (*cs[r] != CMS_SAT_MAX)
			*cs[r] += 1;
	return 0;
}

/* cms_detect_loop is cms_detect_n for any depth, in bounded loops. Column
 * indexes, not pointers, are kept between the two passes: the verifier
 * cannot track pointers spilled at a variable stack offset, and array
 * lookups are inlined anyway. */
static __always_inline int cms_detect_loop(__u64 h, __u32 base, __u32 *est)
{
	__u32 idx[CMS_MAX_DEPTH];
	__u32 min = CMS_SAT_MAX;

	for (__u32 r = 0; r < CMS_MAX_DEPTH; r++) {
		if (r >= cms_depth)
			break;
		__u32 i = dp_index(h, r, cms_width);
		__u32 *c = cms_counter(base, r, i, cms_width, 1);
		if (!c)
			return -1;
		idx[r] = i;
		if (*c < min)
			min = *c;
	}
	*est = min;
	if (min >= cms_threshold)
		return 0;
	for (__u32 r = 0; r < CMS_MAX_DEPTH; r++) {
		if (r >= cms_depth)
			break;
		__u32 *c = cms_counter(base, r, idx[r], cms_width, 1);
		if (!c)
			return -1;
		if (*c != CMS_SAT_MAX)
			*c += 1;
	}
	return 0;
}

#define CMS_DETECT_CASE(n)                       \
	case n:                                  \
		missing = cms_detect_n(h, base, n, &est); \
		break

/* cms_detect is CMS_MODE_DETECT for one packet of flow key (hash h) in
 * epoch (0 without cms_epochs): Go's cms.Detector.FilterReportHash over
 * the epoch's counters and report cache, with the reports sent as
 * cms_events. */
static __always_inline int cms_detect(const struct flow_key *key, __u64 h, __u32 epoch)
{
	__u32 base = epoch * cms_depth * cms_chunks;
	__u32 est = 0;
	int missing;

	switch (cms_depth) {
		DP_CASES_8(CMS_DETECT_CASE);
	default:
		missing = cms_detect_loop(h, base, &est);
	}
	if (missing)
		return XDP_PASS; /* unreachable */
	if (est >= cms_threshold) {
		cms_count(CMS_STAT_DROPPED);
		cms_report_once(key, h, est, CMS_REPORT_DROPPED, epoch);
		return XDP_DROP;
	}
	if (est + 1 == cms_threshold) {
		/* Remembered once sent, so that its first drop is not
		 * reported again; if lost, its first drop reports it. */
		struct cms_reported_slot *r = cms_report_slot(h, epoch);
		if (cms_report(key, h, est + 1, CMS_REPORT_CROSSED, epoch) && r) {
			r->hash = h;
			r->used = 1;
		}
	}
	return XDP_PASS;
}

/* cms_update counts one packet of flow key (hash h) and returns the
 * verdict. */
static __always_inline int cms_update(const struct flow_key *key, __u64 h)
{
	__u32 epoch = 0;

	if (cms_epochs) { /* known at load: pruned when off */
		__u32 zero = 0;
		__u32 *ep = bpf_map_lookup_elem(&cms_epoch, &zero);
		if (!ep)
			return XDP_PASS; /* unreachable: the map has element 0 */
		/* Read once: the whole packet is in one epoch. The loader's
		 * Flip waits for the runs that read the old epoch to end
		 * before it reads that epoch. */
		epoch = *ep & 1;
	}
	if (cms_run_mode == CMS_MODE_DETECT) {
		if (cms_detect(key, h, epoch) == XDP_DROP)
			return XDP_DROP;
	} else {
		cms_sketch(h, epoch * cms_depth * cms_chunks, cms_run_mode == CMS_MODE_PERCPU);
	}
	/* N is not kept apart: it is the parsed packets less the dropped
	 * ones, both in cms_stats, which saves a map update per packet. */
	return XDP_PASS;
}

SEC("xdp")
int xdp_cms(struct xdp_md *ctx)
{
	struct dp_parsed p;

	int outcome = dp_parse_packet(ctx, &p);
	cms_count(outcome);
	if (outcome != DP_PARSE_OK)
		return XDP_PASS;

	return cms_update(&p.key, dp_flow_hash(&p.key, cms_seed));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
