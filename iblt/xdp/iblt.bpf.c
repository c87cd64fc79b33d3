//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * iblt/xdp: a packet digest for loss detection. Every parsed packet is
 * inserted into an invertible Bloom lookup table with the layout of Go's
 * iblt.Table, keyed by its flow key and a per-packet identifier, with the
 * frame length as value. Two digests of the same traffic taken upstream and
 * downstream are read back as iblt.Tables, subtracted and listed: the
 * inserted side names the packets lost in between. Every packet is passed.
 * Two epochs double-buffer the table: iblt_epoch selects the half of the
 * cell map written, and the loader flips it and reads the other half back
 * whole (iblt/xdp.Kernel.Flip).
 */
#include "dataplane.h"

#ifndef IBLT_MAX_K
#define IBLT_MAX_K 8 /* iblt.MaxHashes */
#endif
#define IBLT_KEY_WORDS 6 /* xdp.KeyLen / 8 */

/* Load-time constants, set from Go (iblt/xdp.Options). */
DP_CONST __u64 iblt_seed = 0;	    /* iblt.Params.Seed */
DP_CONST __u64 iblt_check_seed = 0; /* iblt.ChecksumSeed(iblt_seed) */
DP_CONST __u32 iblt_k = 3;	    /* hashes = sub-tables, 1..IBLT_MAX_K */
DP_CONST __u32 iblt_sub = 1;	    /* cells per sub-table */
DP_CONST __u32 iblt_shared = 0;	    /* 1: one table shared by all CPUs, atomic updates */
DP_CONST __u32 iblt_stride = 1;	    /* cells from one epoch's table to the next's */

/*
 * The key of one packet (xdp.KeyLen = 48 bytes, as xdp.PacketKey builds it):
 * the canonical flow key bytes zero padded to 37, the key length (13 or 37),
 * two zero bytes, and the 64-bit packet identifier (xdp.PacketID).
 */
struct iblt_pkt_key {
	__u8 flow[37];
	__u8 flow_len;
	__u8 pad[2];
	__u64 id; /* little-endian (dp_le64), as xdp.PacketKey writes it */
} __attribute__((aligned(8)));

/* One cell: iblt.Table's cell of 3 + 6 little-endian words. */
struct iblt_cell {
	__s64 count;	 /* insertions; two's complement */
	__u64 value_sum; /* sum of frame lengths, wrapping */
	__u64 hash_sum;	 /* XOR of dp_xxh64(key, iblt_check_seed) */
	__u64 key_sum[IBLT_KEY_WORDS]; /* XOR of the keys as little-endian words */
};

/* Per-CPU counters: indexes 0..3 are enum dp_outcome, then these. */
enum iblt_stat {
	IBLT_STAT_MISSING_CELL = DP_PARSE_OUTCOMES, /* a cell lookup failed (never, if sizes agree) */
	IBLT_STAT_MAX,
};

_Static_assert(IBLT_KEY_WORDS == 6 && sizeof(struct iblt_pkt_key) == 48,
	       "xdp_iblt's shared update names the six key words one by one");

/* The per-CPU cell map's element: IBLT_CHUNK cells in a row. A batch
 * lookup or update of a per-CPU array costs the kernel about as much per
 * element whatever its size (a third of a microsecond here), so the
 * loader reads and clears an epoch 64 times faster than with one cell an
 * element; a packet still looks up each of its cells once. */
#define IBLT_CHUNK 64
struct iblt_chunk {
	struct iblt_cell cell[IBLT_CHUNK];
};

const struct iblt_cell *iblt_cell_btf __attribute__((unused));
const struct iblt_chunk *iblt_chunk_btf __attribute__((unused));
const struct iblt_pkt_key *iblt_pkt_key_btf __attribute__((unused));
const enum iblt_stat iblt_stat_btf __attribute__((unused));

/* key 0; value: the epoch written (0 or 1). The loader flips it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} iblt_epoch SEC(".maps");

/* Cell number e*iblt_stride + i*iblt_sub + c is cell c of sub-table i of
 * epoch e's table, whose n = iblt_k * iblt_sub cells are followed by
 * iblt_stride - n unused ones. Here key: chunk number; value: cells
 * 64 j to 64 j + 63, one copy per CPU, summed by the loader (as
 * iblt.Table.Merge sums). iblt_stride is n rounded up to a multiple of
 * IBLT_CHUNK, so that each epoch starts a chunk, and the loader sets
 * max_entries to 2 * iblt_stride / IBLT_CHUNK, two tables (1 when
 * iblt_shared). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iblt_chunk);
} iblt_cells SEC(".maps");

/* The same two tables shared by every CPU, updated with atomic adds and
 * XORs, when iblt_shared is set: key: cell number (iblt_stride is n
 * then, no cell unused); value: the cell (max_entries 2 * iblt_k *
 * iblt_sub then, 1 otherwise). Memory-mappable: the loader reads and
 * clears an epoch with memory copies, not batch lookups and updates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct iblt_cell);
} iblt_shared_cells SEC(".maps");

/* key: enum dp_outcome or enum iblt_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IBLT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} iblt_stats SEC(".maps");

static __always_inline void iblt_count(__u32 stat)
{
	dp_count(&iblt_stats, stat);
}

/* iblt_read reads the big-endian field of n (2 or 4) bytes at frame
 * offset off, or returns 0 when it is not inside the frame, ends past
 * frame offset lim (where the IP packet ends: iblt_packet_id) or starts
 * past DP_MAX_OFF. */
static __always_inline __u32 iblt_read(struct xdp_md *ctx, __u32 off, const __u32 n, __u32 lim)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (off > DP_MAX_OFF)
		return 0;
	/* Add to data the register that was checked: without this clang
	 * folds the constant part of off (l4 + 8) into the pointer and adds
	 * the unchecked rest, which Linux 6.1's verifier sees as an offset
	 * of up to 2^16 plus 8, past what it tracks ("R0 offset is outside
	 * of the packet"); 6.18's accepts that code. */
	asm volatile("" : "+r"(off));
	__u8 *p = data + off;
	asm volatile("" : "+r"(p)); /* keep the check on p (see dp_pull) */
	/* lim last: checked with DP_MAX_OFF, it let clang compare l4 with
	 * the bounds in place of off and add a copy of off that the
	 * verifier saw unbounded (rejected on Linux 6.18 as well). */
	if ((void *)(p + n) > data_end || off + n > lim)
		return 0;
	return n == 2 ? dp_be16(p) : dp_be32(p);
}

/* iblt_xor16 is xdp.xor16: the XOR of the n big-endian 16-bit words from
 * frame offset off, each read as iblt_read reads it. */
static __always_inline __u32 iblt_xor16(struct xdp_md *ctx, __u32 off, const int n, __u32 lim)
{
	__u32 x = 0;
#pragma unroll
	for (int i = 0; i < n; i++)
		x ^= iblt_read(ctx, off + 2 * i, 2, lim);
	return x;
}

#ifndef IPPROTO_GRE
#define IPPROTO_GRE 47 /* RFC 2784, RFC 2890 */
#endif
#ifndef IPPROTO_ESP
#define IPPROTO_ESP 50 /* RFC 4303 */
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132 /* RFC 9260 */
#endif
#define IBLT_GRE_C 0x8000 /* checksum present */
#define IBLT_GRE_R 0x4000 /* routing present (RFC 1701): checksum word present */
#define IBLT_GRE_K 0x2000 /* key present */
#define IBLT_GRE_S 0x1000 /* sequence number present */
#define IBLT_TCP_SYN 0x0002 /* in the data offset and flags word */

/* iblt_ip_end returns the frame offset where the IP packet ends by its
 * length field, or 0 when the field is 0 (or not inside the frame). */
static __always_inline __u32 iblt_ip_end(struct xdp_md *ctx, const struct dp_parsed *p, int v6, __u32 lim)
{
	__u32 l3 = p->l3_off;
	__u32 n = v6 ? iblt_read(ctx, l3 + 4, 2, lim) : iblt_read(ctx, l3 + 2, 2, lim);
	if (n == 0)
		return 0;
	return n + (v6 ? l3 + 40 : l3);
}

/* iblt_tcp_options_id is xdp.tcpOptionsID: the XOR of the 16-bit words
 * of the TCP options (header bytes 20 to 4 * data offset), 0 for a SYN. */
static __always_inline __u64 iblt_tcp_options_id(struct xdp_md *ctx, __u32 l4, __u32 lim)
{
	__u32 hdr = iblt_read(ctx, l4 + 12, 2, lim);
	__u32 words = (hdr >> 12) * 2; /* 16-bit words in the header */
	__u32 x = 0;
	if (hdr & IBLT_TCP_SYN)
		return 0;
	for (__u32 i = 10; i < 30; i++) { /* at most 40 bytes of options */
		if (i >= words)
			break;
		x ^= iblt_read(ctx, l4 + 2 * i, 2, lim);
	}
	return x;
}

/* iblt_fragment_id is xdp.fragmentID: bits 16-63 of a later fragment's
 * identifier, its offset in the datagram and the last four bytes of the
 * IP packet. */
static __always_inline __u64 iblt_fragment_id(struct xdp_md *ctx, const struct dp_parsed *p, int v6, __u32 lim)
{
	if (p->fragment != DP_LATER_FRAGMENT)
		return 0;
	__u32 l3 = p->l3_off;
	__u32 lo = l3 + 20 + 4;
	__u64 id = (__u64)p->frag_off << 16;
	if (v6)
		lo = l3 + 48 + 4;
	__u32 end = iblt_ip_end(ctx, p, v6, lim);
	if (end != 0 && end <= dp_frame_len(ctx) && end >= lo)
		id |= (__u64)iblt_read(ctx, end - 4, 4, lim) << 32;
	return id;
}

/* iblt_gre_id is xdp.greID: bits 16-63 of a GRE packet's identifier. */
static __always_inline __u64 iblt_gre_id(struct xdp_md *ctx, __u32 l4, __u32 lim)
{
	__u32 flags = iblt_read(ctx, l4, 2, lim);
	__u32 off = l4 + 4;
	__u64 id = 0;
	int csum = (flags & (IBLT_GRE_C | IBLT_GRE_R)) != 0;
	if (csum) {
		id = (__u64)iblt_read(ctx, off, 2, lim) << 16;
		off += 4;
	}
	if (flags & IBLT_GRE_K) {
		if (!csum)
			id = (__u64)iblt_read(ctx, off + 2, 2, lim) << 16;
		off += 4;
	}
	if (flags & IBLT_GRE_S)
		return id | (__u64)iblt_read(ctx, off, 4, lim) << 32;
	__u32 type = iblt_read(ctx, l4 + 2, 2, lim);
	if (type == ETH_P_IP) {
		__u32 ihl = ((iblt_read(ctx, off, 2, lim) >> 8) & 0x0f) * 4;
		return id | (__u64)iblt_read(ctx, off + 4, 2, lim) << 48 |
		       (__u64)iblt_read(ctx, off + ihl + 6, 2, lim) << 32;
	}
	if (type == ETH_P_IPV6)
		return id | (__u64)iblt_read(ctx, off + 44, 4, lim) << 32;
	return id | (__u64)iblt_read(ctx, off + 4, 4, lim) << 32;
}

/*
 * iblt_packet_id is xdp.PacketID, a 64-bit packet identifier. Bits 0-15:
 * the IPv4 identification (IPv6: low bits of the fragment header's
 * identification, 0 without one; for TCP over IPv6, XORed with the TCP
 * options, iblt_tcp_options_id). Bits 16-31 and 32-63, by protocol
 * ("a ^ b": XOR of big-endian 16-bit words; every field is big-endian):
 *   TCP            bytes 8-9 ^ 10-11 ^ 12-13 ^ 14-15 (ack, offset and flags,
 *                  window); sequence number
 *   ICMP, ICMPv6   checksum; header bytes 4-7 (echo identifier, sequence)
 *   UDP            payload bytes 0-1 ^ 2-3; the last four bytes of the IP
 *                  packet; both only when the IP packet (by its length
 *                  field) ends inside the frame, 4 or more bytes past the
 *                  UDP header
 *   ESP            SPI low 16 bits; sequence number (bytes 4-7)
 *   AH (IPv4)      SPI low 16 bits; sequence number (bytes 8-11)
 *   SCTP           bytes 12-13 ^ 14-15 (first chunk's type, flags, length);
 *                  bytes 16-19 (its first value bytes: a DATA chunk's TSN)
 *   GRE            checksum (C or R), else key low 16 bits (K), else 0;
 *                  sequence number (S), else inner fields (iblt_gre_id)
 *   later fragment offset in the datagram (dp_parsed.frag_off); last four
 *                  bytes of the IP packet (iblt_fragment_id)
 * Fields outside the frame read as 0, and so do fields past the end of the
 * IP packet when it ends inside the frame (padding, a trailer). No TCP or UDP checksum nor SCTP
 * CRC32c: checksum offload leaves them partial (or zero) where XDP sees a
 * veth and complete further on, so two points would disagree.
 */
static __always_inline __u64 iblt_packet_id(struct xdp_md *ctx, const struct dp_parsed *p)
{
	__u64 id = p->ipid & 0xffff;
	__u32 l4 = p->l4_off;
	int v6 = p->key.len == FLOW_KEY_LEN6;
	/* Read nothing past the IP packet when it ends inside the frame:
	 * Ethernet padding and trailers are not the packet's. */
	__u32 lim = dp_frame_len(ctx);
	__u32 ip_end = iblt_ip_end(ctx, p, v6, lim);
	if (ip_end != 0 && ip_end < lim)
		lim = ip_end;
	if (l4 == 0)
		return id | iblt_fragment_id(ctx, p, v6, lim);
	__u8 proto = v6 ? p->key.bytes[FLOW_KEY_LEN6 - 1] : p->key.bytes[FLOW_KEY_LEN4 - 1];
	if (proto == IPPROTO_TCP) { /* ports(4) seq(4) ack(4) offset, flags(2) window(2) */
		id |= (__u64)iblt_xor16(ctx, l4 + 8, 4, lim) << 16;
		id |= (__u64)iblt_read(ctx, l4 + 4, 4, lim) << 32;
		if (v6)
			id ^= iblt_tcp_options_id(ctx, l4, lim);
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		id |= (__u64)iblt_read(ctx, l4 + 2, 2, lim) << 16;
		id |= (__u64)iblt_read(ctx, l4 + 4, 4, lim) << 32;
	} else if (proto == IPPROTO_UDP) { /* ports(4) length(2) checksum(2) payload */
		if (ip_end != 0 && ip_end <= dp_frame_len(ctx) && ip_end >= l4 + 12) {
			id |= (__u64)iblt_xor16(ctx, l4 + 8, 2, lim) << 16;
			id |= (__u64)iblt_read(ctx, ip_end - 4, 4, lim) << 32;
		}
	} else if (proto == IPPROTO_ESP) { /* SPI(4) sequence(4) */
		id |= (__u64)iblt_read(ctx, l4 + 2, 2, lim) << 16;
		id |= (__u64)iblt_read(ctx, l4 + 4, 4, lim) << 32;
	} else if (proto == IPPROTO_AH) { /* next(1) len(1) reserved(2) SPI(4) sequence(4) */
		id |= (__u64)iblt_read(ctx, l4 + 6, 2, lim) << 16;
		id |= (__u64)iblt_read(ctx, l4 + 8, 4, lim) << 32;
	} else if (proto == IPPROTO_SCTP) { /* ports(4) vtag(4) CRC32c(4), chunk type, flags(2) length(2) value */
		id |= (__u64)iblt_xor16(ctx, l4 + 12, 2, lim) << 16;
		id |= (__u64)iblt_read(ctx, l4 + 16, 4, lim) << 32;
	} else if (proto == IPPROTO_GRE) {
		id |= iblt_gre_id(ctx, l4, lim);
	}
	return id;
}

/* iblt_insert adds the packet (key words kw, an IPv4 key if v4; hash h,
 * checksum cs, length len) to its cell of each sub-table of the table that
 * starts at cell base. shared is iblt_shared as a compile-time constant:
 * xdp_iblt calls it in each branch on iblt_shared, so each copy is
 * compiled for its map alone, with registers allocated for it. */
static __always_inline void iblt_insert(__u32 base, __u64 h, __u64 cs, __u64 len, const __u64 *kw,
					int v4, const int shared)
{
	/* Compile-time bound, runtime exit at iblt_k (pruned by the verifier,
	 * which knows the constant). A cell (per CPU: a chunk) past
	 * max_entries fails the lookup, which is counted. */
	for (__u32 i = 0; i < IBLT_MAX_K; i++) {
		if (i >= iblt_k)
			break;
		__u32 idx = base + i * iblt_sub + dp_index(h, i, iblt_sub);
		if (shared) {
			struct iblt_cell *c = bpf_map_lookup_elem(&iblt_shared_cells, &idx);
			if (!c) {
				iblt_count(IBLT_STAT_MISSING_CELL);
				continue;
			}
			__sync_fetch_and_add(&c->count, 1);
			__sync_fetch_and_add(&c->value_sum, len);
			__sync_fetch_and_xor(&c->hash_sum, cs);
			__sync_fetch_and_xor(&c->key_sum[0], dp_le64(kw[0]));
			__sync_fetch_and_xor(&c->key_sum[1], dp_le64(kw[1]));
			/* An IPv4 key's words 2 and 3 (bytes 16-31) are padding,
			 * always zero: XOR with them is no change, so the two
			 * locked operations are skipped. */
			if (!v4) {
				__sync_fetch_and_xor(&c->key_sum[2], dp_le64(kw[2]));
				__sync_fetch_and_xor(&c->key_sum[3], dp_le64(kw[3]));
			}
			__sync_fetch_and_xor(&c->key_sum[4], dp_le64(kw[4]));
			__sync_fetch_and_xor(&c->key_sum[5], dp_le64(kw[5]));
		} else {
			__u32 chunk = idx / IBLT_CHUNK;
			struct iblt_chunk *ch = bpf_map_lookup_elem(&iblt_cells, &chunk);
			if (!ch) {
				iblt_count(IBLT_STAT_MISSING_CELL);
				continue;
			}
			struct iblt_cell *c = &ch->cell[idx % IBLT_CHUNK];
			c->count += 1;
			c->value_sum += len;
			c->hash_sum ^= cs;
#pragma unroll
			for (int w = 0; w < IBLT_KEY_WORDS; w++)
				c->key_sum[w] ^= dp_le64(kw[w]);
		}
	}
}

SEC("xdp")
int xdp_iblt(struct xdp_md *ctx)
{
	struct dp_parsed p;
	int outcome = dp_parse_packet(ctx, &p);
	iblt_count(outcome);
	if (outcome != DP_PARSE_OK)
		return XDP_PASS;

	struct iblt_pkt_key key;
	/* Bytes 37-39 of the parsed key are its zero padding: copying 40 bytes
	 * fills flow[], flow_len and pad[] with zeros before flow_len is set. */
	__builtin_memcpy(&key, p.key.bytes, 40);
	key.flow_len = p.key.len;
	key.id = dp_le64(iblt_packet_id(ctx, &p));

	/* The key_sum words are the key's bytes read as little-endian words,
	 * as iblt.Table holds them and the loader reads the cells back as
	 * numbers: dp_le64 swaps each word on a big-endian kernel and is
	 * nothing on a little-endian one. */
	const __u64 *kw = (const __u64 *)&key;
	__u64 h = dp_xxh64((const __u8 *)&key, sizeof(key), iblt_seed);
	__u64 cs = dp_xxh64((const __u8 *)&key, sizeof(key), iblt_check_seed);
	/* The frame length as dp_frame_len computes it, but 64 bits wide from
	 * the start: dp_frame_len's 32-bit result, widened here, made clang
	 * spill it in a way the verifier refuses ("invalid size of register
	 * spill"). */
	__u64 len = (__u64)((long)ctx->data_end - (long)ctx->data);
	int v4 = key.flow_len == FLOW_KEY_LEN4;

	/* The epoch is read once: every cell of the packet is in one table.
	 * The loader's Flip waits for the runs that read the old epoch to end
	 * before it reads that table. (The lookup never fails: one entry,
	 * key 0.) */
	__u32 zero = 0;
	__u32 *ep = bpf_map_lookup_elem(&iblt_epoch, &zero);
	if (!ep) {
		iblt_count(IBLT_STAT_MISSING_CELL);
		return XDP_PASS;
	}
	__u32 base = (*ep & 1) * iblt_stride;
	if (iblt_shared)
		iblt_insert(base, h, cs, len, kw, v4, 1);
	else
		iblt_insert(base, h, cs, len, kw, v4, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
