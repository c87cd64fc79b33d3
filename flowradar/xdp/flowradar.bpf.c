//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowradar/xdp: the FlowRadar encoder of package flowradar, in maps with
 * the Go layout. Every parsed packet is counted in the active epoch: its
 * flow key's one hash h = xxHash64(key, fr_seed) picks a flow-filter block
 * (dp_reduce(h, fr_blocks)) and fr_fk bits in it (the 9-bit fields of
 * dp_mix(h, 0), dp_mix(h, 1), ..., seven per mix: bloom.Blocked's layout),
 * and one counting-table cell per sub-table (s*fr_sub + dp_index(h, 32+s,
 * fr_sub)); a flow whose filter bits were not all set is new and is XORed
 * into FlowXOR and counted in FlowCount; every packet adds 1 to PacketCount
 * and its frame length to ByteCount. Two epochs double-buffer the tables:
 * flowradar_epoch selects the one written, the loader flips it and reads
 * the other. Every packet is passed.
 *
 * Concurrency, shared mode (fr_percpu = 0): one filter and table for all
 * CPUs, all updates atomic. "New flow" is decided per CPU from the filter
 * bits that CPU's atomic OR found clear, so when two CPUs see the first
 * packets of one flow at the same time, both may take it as new: the key
 * is then XORed twice (cancelling) and counted twice in FlowCount, and
 * that flow's cells do not decode. With RSS hashing the 5-tuple, a flow's
 * packets stay on one CPU and this never happens.
 *
 * Per-CPU mode (fr_percpu = 1): each CPU has its own filter and table,
 * updated with plain loads and stores (no atomics: about half the cost);
 * the loader merges them (OR of filters, XOR of FlowXOR, sums of counters).
 * When no flow spans two CPUs (RSS) the merge equals the merge of one Go
 * table per CPU, not always one table of all packets: a CPU's filter knows
 * only its own flows, so a flow whose bits other CPUs' flows set is new on
 * its CPU where a shared filter takes it as known (a false positive).
 * The tests run on one CPU (BPF_PROG_TEST_RUN), where both modes equal Go.
 */
#include "dataplane.h"
#include "blocked.h"

#ifndef FR_MAX_K
#define FR_MAX_K 8 /* flowradar.MaxHashes */
#endif
#ifndef FR_MAX_FK
#define FR_MAX_FK 32 /* flowradar.MaxFilterHashes; also the first cell index */
#endif
#define FR_XOR_WORDS 5 /* flowradar.XORBytes / 8 */

/* Load-time constants, set from Go (flowradar/xdp.Configure). */
DP_CONST __u64 fr_seed = 0; /* flowradar.Params.Seed */
DP_CONST __u32 fr_k = 4;    /* Params.Hashes: sub-tables, 1..FR_MAX_K */
DP_CONST __u32 fr_sub = 1;  /* Params.Cells / Params.Hashes */
DP_CONST __u32 fr_fk = 7;   /* Params.FilterHashes, 1..FR_MAX_FK */
DP_CONST __u32 fr_blocks = 1; /* Params.FilterBits / 512 */
DP_CONST __u32 fr_percpu = 0; /* 1: per-CPU filters and tables, no atomics */

/* One counting-table cell: flowradar.Cell, 56 bytes, host byte order
 * counters (big-endian on s390x; the loader reads them as numbers). */
struct flowradar_cell {
	__u64 flow_xor[FR_XOR_WORDS]; /* XOR of padded keys: bytes 0-36 key, 39 length */
	__u32 flow_count;
	__u32 packet_count;
	__u64 byte_count;
};

/* Per-CPU counters: indexes 0..3 are enum dp_outcome, then these. */
enum flowradar_stat {
	FR_STAT_NEW_FLOW = DP_PARSE_OUTCOMES, /* packets taken as a new flow */
	FR_STAT_MISSING = DP_PARSE_OUTCOMES + 1, /* a map lookup failed (never, if sizes agree) */
	FR_STAT_MAX,
};

/* One 512-bit flow-filter block (one cache line): in-block bit j is bit
 * j%64 of w[j/64], so the blocks in order are the Go filter's words. */
struct fr_block {
	__u64 w[DP_BLOCK_WORDS];
};

/* The per-CPU counting tables hold FR_CELL_CHUNK cells per map element:
 * cell idx is slot idx % 64 (idx & 63) of element idx / 64 (idx >> 6).
 * Per-CPU maps cannot be memory-mapped, so the loader reads and clears
 * them with batch lookups and updates, which cost about the same per
 * element whatever its size: in one experiment a per-CPU array of 52,000
 * single cells took 18.2 ms to read and 13.2 ms to clear, one of 813
 * chunks 0.59 and 1.5 ms. */
#define FR_CELL_SHIFT 6
#define FR_CELL_CHUNK (1U << FR_CELL_SHIFT) /* 64 */

struct flowradar_cell_chunk {
	struct flowradar_cell cell[FR_CELL_CHUNK];
};

const struct flowradar_cell *flowradar_cell_btf __attribute__((unused));
const struct flowradar_cell_chunk *flowradar_cell_chunk_btf __attribute__((unused));
const struct fr_block *fr_block_btf __attribute__((unused));
const enum flowradar_stat flowradar_stat_btf __attribute__((unused));

/* key 0; value: the epoch written (0 or 1). The loader flips it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flowradar_epoch SEC(".maps");

/* Flow filter of epoch 0 and 1. key: block b; value: filter bits
 * 512b..512b+511 (filter bit i is bit i%64 of word i/64, host order).
 * Loader sets max_entries to Params.FilterBits/512. Memory-mappable, as
 * the cells below, so that the loader reads and clears an epoch with
 * memory copies, not batch lookups and updates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fr_block);
} flowradar_filter0 SEC(".maps"), flowradar_filter1 SEC(".maps");

/* Counting table of epoch 0 and 1. key: cell s*fr_sub + i (sub-table s,
 * cell i); value: the cell. Loader sets max_entries to Params.Cells. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct flowradar_cell);
} flowradar_cells0 SEC(".maps"), flowradar_cells1 SEC(".maps");

/* The same four maps, one copy per CPU, used when fr_percpu is set (the
 * loader sizes the maps of the mode not in use to one entry). The filters
 * have the shared ones' layout. The cells do not: key: chunk j; value:
 * cells 64j..64j+63 (struct flowradar_cell_chunk), so cell idx is slot
 * idx % 64 of chunk idx / 64. Loader sets max_entries to ceil(Params.Cells
 * / 64); the slots of the last chunk past Params.Cells are never written
 * (every cell index is below it) and the loader ignores them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fr_block);
} flowradar_pcpu_filter0 SEC(".maps"), flowradar_pcpu_filter1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flowradar_cell_chunk);
} flowradar_pcpu_cells0 SEC(".maps"), flowradar_pcpu_cells1 SEC(".maps");

/* key: enum dp_outcome or enum flowradar_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FR_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flowradar_stats SEC(".maps");

static __always_inline void fr_count(__u32 stat)
{
	dp_count(&flowradar_stats, stat);
}

#define FR_TEST_CASE(n) \
	case n:         \
		return dp_block_test(blk->w, h, n)

/* fr_test is bloom.Blocked.ContainsHash on the block already found
 * (blocked.h): a copy of the test for each k up to 16, of which the
 * verifier keeps only the loaded fr_fk's (a load-time constant it knows),
 * and a bounded loop for larger k. */
static __always_inline __u64 fr_test(const struct fr_block *blk, __u64 h)
{
	switch (fr_fk) {
		DP_BLOCK_CASES(FR_TEST_CASE);
	}
	return dp_block_test_upto(blk->w, h, fr_fk);
}

/* fr_cell counts the packet (len bytes; a new flow's padded key pad) in
 * its cell idx of sub-table s: element idx of the shared cells map, or,
 * when percpu (fr_percpu, as a compile-time constant: see fr_encode), slot
 * idx & 63 of element idx >> 6 of the per-CPU one. */
static __always_inline void fr_cell(void *cells, __u32 s, __u64 h, int is_new, __u64 len,
				    const __u64 *pad, const int percpu)
{
	__u32 idx = s * fr_sub + dp_index(h, FR_MAX_FK + s, fr_sub);
	struct flowradar_cell *c;
	if (percpu) {
		__u32 chunk = idx >> FR_CELL_SHIFT;
		struct flowradar_cell_chunk *ch = bpf_map_lookup_elem(cells, &chunk);
		if (!ch) {
			fr_count(FR_STAT_MISSING);
			return;
		}
		/* Keep the NULL check ahead of the arithmetic on ch, which
		 * clang could otherwise do first and the verifier refuse. The
		 * mask bounds the slot (0..63), which keeps the cell within
		 * the value for the verifier. */
		asm volatile("" : "+r"(ch));
		c = &ch->cell[idx & (FR_CELL_CHUNK - 1)];
		c->packet_count += 1;
		c->byte_count += len;
		if (is_new) {
			c->flow_count += 1;
#pragma unroll
			for (int w = 0; w < FR_XOR_WORDS; w++)
				c->flow_xor[w] ^= pad[w];
		}
		return;
	}
	c = bpf_map_lookup_elem(cells, &idx);
	if (!c) {
		fr_count(FR_STAT_MISSING);
		return;
	}
	__sync_fetch_and_add(&c->packet_count, 1);
	__sync_fetch_and_add(&c->byte_count, len);
	if (is_new) {
		__sync_fetch_and_add(&c->flow_count, 1);
#pragma unroll
		for (int w = 0; w < FR_XOR_WORDS; w++)
			__sync_fetch_and_xor(&c->flow_xor[w], pad[w]);
	}
}

/* fr_cells_n is fr_cells for a count n of sub-tables the compiler knows:
 * the cells in straight-line code. */
static __always_inline void fr_cells_n(void *cells, __u64 h, int is_new, __u64 len, const __u64 *pad,
				       const __u32 n, const int percpu)
{
#pragma clang loop unroll(full)
	for (__u32 s = 0; s < n; s++)
		fr_cell(cells, s, h, is_new, len, pad, percpu);
}

/* fr_cells counts the packet in its cell of each of the fr_k sub-tables:
 * for the default four (flowradar.ParamsFor, the prototype's design) in
 * straight-line code, which the verifier keeps only when fr_k is 4 (a
 * load-time constant it knows). A copy for every k would double the object
 * and its load time for other k's gain of about a nanosecond. */
static __always_inline void fr_cells(void *cells, __u64 h, int is_new, __u64 len, const __u64 *pad,
				     const int percpu)
{
	if (fr_k == 4) {
		fr_cells_n(cells, h, is_new, len, pad, 4, percpu);
		return;
	}
	for (__u32 s = 0; s < FR_MAX_K; s++) {
		if (s >= fr_k)
			break;
		fr_cell(cells, s, h, is_new, len, pad, percpu);
	}
}

/*
 * fr_encode counts one packet of the parsed flow p (hash h, len bytes) in the epoch
 * whose filter and cells maps are given. Every call site passes constant
 * maps, so each inlined copy looks up exactly one map per site: the
 * verifier then inlines the array lookups. (Choosing the map per lookup,
 * epoch ? lookup(cells1) : lookup(cells0), lets clang merge the two calls
 * into one whose map is not known, and the verifier falls back to a real
 * helper call per lookup: 14 calls, about 300 ns a packet here.)
 * percpu is fr_percpu as a compile-time constant: each call site is in the
 * branch on fr_percpu that its maps belong to, so each copy is compiled
 * for its mode alone, without a test of fr_percpu per cell. With that test
 * left in each cell, the per-CPU cells' chunk addressing (a shift, a mask,
 * a multiply and an add a cell) cost about 1.7 ns a packet here; without
 * it, the per-CPU mode costs what it did with one cell an element, within
 * the noise of the measurement.
 */
static __always_inline void fr_encode(void *filter, void *cells, const struct dp_parsed *p, __u64 h,
				      __u64 len, const int percpu)
{
	/* The padded key of flowradar.Cell: the canonical bytes zero padded
	 * (dp_parsed keeps bytes 37-39 zero), the length in byte 39. */
	__u64 pad[FR_XOR_WORDS];
	__builtin_memcpy(pad, p->key.bytes, sizeof(pad));
	((__u8 *)pad)[39] = p->key.len;

	int is_new = 0;
	__u32 bi = dp_reduce(h, fr_blocks);
	struct fr_block *blk = bpf_map_lookup_elem(filter, &bi);
	if (!blk) {
		fr_count(FR_STAT_MISSING);
		return;
	}
	/* A new flow (or, shared, maybe one another CPU is adding): set its
	 * bits; it is new for the CPU that found one of them clear. */
	if (!fr_test(blk, h))
		is_new = dp_block_set(blk->w, h, fr_fk, !percpu);
	if (is_new)
		fr_count(FR_STAT_NEW_FLOW);

	fr_cells(cells, h, is_new, len, pad, percpu);
}

SEC("xdp")
int xdp_flowradar(struct xdp_md *ctx)
{
	struct dp_parsed p;
	int outcome = dp_parse_packet(ctx, &p);
	fr_count(outcome);
	if (outcome != DP_PARSE_OK)
		return XDP_PASS;

	__u32 zero = 0;
	__u32 *ep = bpf_map_lookup_elem(&flowradar_epoch, &zero);
	if (!ep) {
		fr_count(FR_STAT_MISSING);
		return XDP_PASS;
	}
	__u64 h = dp_flow_hash(&p.key, fr_seed);
	__u64 len = dp_frame_len(ctx); /* whole, as the Go encoder's uint32 size */
	if (fr_percpu) {
		if (*ep & 1)
			fr_encode(&flowradar_pcpu_filter1, &flowradar_pcpu_cells1, &p, h, len, 1);
		else
			fr_encode(&flowradar_pcpu_filter0, &flowradar_pcpu_cells0, &p, h, len, 1);
	} else {
		if (*ep & 1)
			fr_encode(&flowradar_filter1, &flowradar_cells1, &p, h, len, 0);
		else
			fr_encode(&flowradar_filter0, &flowradar_cells0, &p, h, len, 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
