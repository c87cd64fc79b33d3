//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * maglev/xdp: a layer-4 load balancer. A packet to a configured VIP
 * (address, port, protocol) is hashed (xxHash64 of its flow key, as
 * (*flow.Key).Hash), the hash picks an entry of the VIP's Maglev table
 * (entry = table[((h >> 32) * M) >> 32], as maglev.Table.Pick), the entry
 * names a backend slot (a backend as a member of that VIP), and the
 * packet leaves by the interface it came in on (XDP_TX), encapsulated for
 * that backend (outer IPv4, protocol 4 or 41, for an IPv4 backend; outer
 * IPv6, next header 4 or 41, for an IPv6 backend), with the MACs of the
 * configured next hop. The backend
 * decapsulates and answers the client directly (direct server return).
 *
 * Fragments: a later fragment (non-zero offset) has no transport header,
 * so its flow key has zero ports. A first fragment sent to a backend
 * records its ports in maglev_frags; a later fragment of the same
 * datagram takes them back and is balanced as the first one was. A later
 * fragment without an entry passes to the stack. A first fragment not
 * sent, also one that does not parse, deletes its datagram's entry (a
 * VLAN-tagged one passes untouched, as every tagged frame does).
 *
 * Everything else passes to the stack untouched (XDP_PASS).
 */
#include "dataplane.h"

#ifndef MAGLEV_MAX_VIPS
#define MAGLEV_MAX_VIPS 256 /* xdp.MaxVIPs */
#endif
#ifndef MAGLEV_MAX_BACKENDS
#define MAGLEV_MAX_BACKENDS 4096 /* xdp.MaxBackends: distinct addresses */
#endif
#ifndef MAGLEV_MAX_MEMBERS
#define MAGLEV_MAX_MEMBERS 65536 /* xdp.MaxMembers: (VIP, backend) pairs */
#endif
#define MAGLEV_NO_BACKEND 0xffffffffU /* maglev.NoBackend */
_Static_assert(MAGLEV_MAX_VIPS <= 256, "maglev_backend.table keeps a table id in 8 bits");

#define IPV4_HLEN 20
#define IPV6_HLEN 40
/* ETH_HLEN, IPPROTO_IPIP (IPv4 in IP) and IPPROTO_IPV6 (IPv6 in IP) come
 * from types.h. */
#define IPV4_DF 0x40	/* don't fragment, in the flags byte (offset 6) */
/* Odd multiplier of the inner fragment offset in the outer IPv4 ID (see
 * the outer header below): fragments of one inner datagram get IDs far
 * apart instead of consecutive ones. */
#define MAGLEV_ID_FRAG_MUL 0x9e37

/* Load-time constants, set from Go (xdp.Options). */
DP_CONST __u64 maglev_seed = 0;	    /* seed of the flow hash */
DP_CONST __u32 maglev_size = 65537; /* M: entries of every table */
DP_CONST __u32 maglev_conntrack = 0; /* 1: consult and fill maglev_conns */
DP_CONST __u32 maglev_mtu = 1500;    /* largest outer IP packet sent */

/* Per-CPU counters (key: enum maglev_stat; value: packets). */
enum maglev_stat {
	MAGLEV_STAT_PASS_PARSE = 0,	/* not parsed (flow.Parse error) */
	MAGLEV_STAT_PASS_VLAN = 1,	/* VLAN-tagged: not balanced */
	MAGLEV_STAT_PASS_NOT_VIP = 2,	/* no VIP matches */
	MAGLEV_STAT_DROP_NO_TABLE = 3,	/* VIP without a table */
	MAGLEV_STAT_DROP_NO_BACKEND = 4, /* table entry empty or backend gone */
	MAGLEV_STAT_DROP_TOO_BIG = 5,	/* outer packet above maglev_mtu */
	MAGLEV_STAT_DROP_ENCAP = 6,	/* bpf_xdp_adjust_head failed */
	MAGLEV_STAT_TX = 7,		/* encapsulated and sent */
	MAGLEV_STAT_CONN_HIT = 8,	/* backend taken from maglev_conns */
	MAGLEV_STAT_DROP_NO_SOURCE = 9, /* no outer source address configured */
	MAGLEV_STAT_FRAG_HIT = 10,	/* later fragment: ports from maglev_frags */
	MAGLEV_STAT_PASS_FRAG_MISS = 11, /* later fragment not in maglev_frags */
	MAGLEV_STAT_ICMP_QUOTE = 12,	/* ICMP error balanced as the flow it quotes */
	MAGLEV_STAT_MAX = 13,
};

/* A VIP: the destination of the flow key. addr holds 4 bytes (IPv4, rest
 * zero) or 16; port in network order, 0 for every port of addr; the
 * all-zero key matches every packet that no other VIP matches. */
struct maglev_vip {
	__u8 addr[16];
	__u16 port; /* network order */
	__u8 proto;
	__u8 family; /* 4 or 6; 0 only in the catch-all key */
};

/* What a VIP balances over: the index of its table in maglev_tables. */
struct maglev_vip_info {
	__u32 table;
	__u32 flags; /* reserved, 0 */
};

/* A backend slot: one backend as a member of one VIP's table, and where
 * its encapsulated packets go. A backend serving several VIPs has one slot
 * per VIP, so removing it from one VIP frees that VIP's slot only; table
 * names that VIP. family 0 marks a slot never used. gen is even while the
 * slot has a member and odd once the loader has freed it; it changes every
 * time the loader gives the slot to a new member and every time it frees
 * the slot, so a connection-tracking entry (made with an even gen only)
 * stops matching once its member leaves. Freeing a slot rewrites only gen:
 * addr, family, table and stats stay those of the member that left, so a
 * packet that reads the slot while it is freed (a map update from user
 * space is a plain copy, not atomic) never finds a zeroed or half-written
 * address, and a packet that already chose it goes to that member. stats
 * indexes maglev_backend_stats, which has one entry per backend address,
 * shared by the address's slots. */
struct maglev_backend {
	__u8 addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
	__u8 family;   /* 4 or 6; 0: never used */
	__u8 table;    /* the VIP's table (maglev_vip_info.table) */
	__u16 gen;   /* host order; even: has a member, odd: free */
	__u32 stats; /* host order: key of maglev_backend_stats */
};
_Static_assert(sizeof(struct maglev_backend) == 24, "xdp.maglevMaglevBackend");

/* The load balancer's own addresses and MACs (an entry of maglev_config). */
struct maglev_cfg {
	__u8 src_mac[6]; /* source MAC of sent frames (our interface) */
	__u8 dst_mac[6]; /* next hop's MAC */
	__u8 src4[4];	 /* outer IPv4 source */
	__u8 src6[16];	 /* outer IPv6 source */
};

/* Per-backend counters (per CPU): packets and bytes sent to it (outer
 * frame length). */
struct maglev_counters {
	__u64 packets;
	__u64 bytes;
};

const struct maglev_vip *maglev_vip_btf __attribute__((unused));
const struct maglev_vip_info *maglev_vip_info_btf __attribute__((unused));
const struct maglev_backend *maglev_backend_btf __attribute__((unused));
const struct maglev_cfg *maglev_cfg_btf __attribute__((unused));
const struct maglev_counters *maglev_counters_btf __attribute__((unused));
const enum maglev_stat maglev_stat_btf __attribute__((unused));

/* Kinds of VIP, bits of maglev_vip_kinds (maglev/xdp.VIP.kind). */
enum maglev_vip_kind {
	MAGLEV_VIP_EXACT = 1,	  /* address, port and protocol */
	MAGLEV_VIP_ALL_PORTS = 2, /* address and protocol, port 0 */
	MAGLEV_VIP_CATCH_ALL = 4, /* the zero VIP */
};
const enum maglev_vip_kind maglev_vip_kind_btf __attribute__((unused));

/* key: struct maglev_vip; value: struct maglev_vip_info. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLEV_MAX_VIPS);
	__type(key, struct maglev_vip);
	__type(value, struct maglev_vip_info);
} maglev_vips SEC(".maps");

/* One Maglev table per VIP: an array of M host-order u32 backend slots
 * (indexes into maglev_backends, slots of this VIP's members only),
 * maglev.NoBackend for none. User space
 * builds a whole new inner map and swaps it in with one update of this
 * outer array, so a packet sees either the old table or the new one. */
struct maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65537); /* set from Go to maglev_size */
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAGLEV_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct maglev_table);
} maglev_tables SEC(".maps");

/* key: backend slot; value: struct maglev_backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_MAX_MEMBERS);
	__type(key, __u32);
	__type(value, struct maglev_backend);
} maglev_backends SEC(".maps");

/* key: a backend address's stats index (maglev_backend.stats); value:
 * its counters, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLEV_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglev_counters);
} maglev_backend_stats SEC(".maps");

/* key: 0; value: which kinds of VIP entries exist (enum maglev_vip_kind
 * bits), kept by the loader: a superset of the kinds in maglev_vips at all
 * times, so the lookups it skips could only miss. Each skipped hash lookup
 * saves a helper call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} maglev_vip_kinds SEC(".maps");

/* key: 0 or 1; value: struct maglev_cfg. Two entries, of which
 * maglev_config_cur names the one in use: the loader writes the other
 * and then switches, so that a packet reads one whole Config, never part
 * of the old and part of the new (a map update is a plain copy). Before
 * it writes an entry again, the loader waits until no program run that
 * read it can still be going (an RCU grace period; xdp.LB.SetConfig). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct maglev_cfg);
} maglev_config SEC(".maps");

/* key: 0; value: the maglev_config entry in use (0 or 1). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} maglev_config_cur SEC(".maps");

/* Connection tracking (Maglev section 3.3): key: the flow key; value: the
 * backend slot its first packet went to (low 16 bits) and that slot's gen
 * at the time (high 16 bits, always even: a packet sent through a freed
 * slot makes no entry), so the entry stops matching when the slot is
 * freed (the backend left that VIP) and stays so when it is given to
 * another member. The
 * entry is followed only if the slot belongs to the VIP the packet matches
 * now (its table): a flow that a VIP added since now matches is that VIP's,
 * and goes to its backends. LRU: old flows are forgotten first. The size
 * is set from Go. */
_Static_assert(MAGLEV_MAX_MEMBERS <= 0x10000, "conn entries keep the slot in 16 bits");
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u32);
} maglev_conns SEC(".maps");

/* Fragment tracking. key: the flow key of a fragmented datagram with the
 * IP identification in place of the ports (network order; IPv4's 16 bits
 * as the low half) and, for IPv6, protocol 0 (see maglev_frag_key); value:
 * the ports and protocol of its first fragment's flow key, so that its
 * later fragments get that key back and with it the same VIP, hash,
 * backend and connection-tracking entry. Filled by first fragments sent
 * to a backend, deleted by first fragments not sent, read by later
 * fragments; LRU forgets the oldest datagrams first. The size is set from
 * Go. */
struct maglev_frag {
	__u8 ports[4]; /* source and destination port, network order */
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);
	__type(value, struct maglev_frag);
} maglev_frags SEC(".maps");

/* key: enum maglev_stat; value: packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLEV_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} maglev_stats SEC(".maps");

static __always_inline void maglev_count(__u32 stat)
{
	dp_count(&maglev_stats, stat);
}

/* maglev_find_vip looks up the VIP of key k: exact (addr, port, proto),
 * then (addr, 0, proto), then the catch-all, each only if maglev_vip_kinds
 * says VIPs of that kind exist. */
static __always_inline struct maglev_vip_info *maglev_find_vip(const struct flow_key *k)
{
	struct maglev_vip v = {};
	struct maglev_vip_info *info;
	__u32 zero = 0, kinds = MAGLEV_VIP_EXACT | MAGLEV_VIP_ALL_PORTS | MAGLEV_VIP_CATCH_ALL;
	__u32 *kp = bpf_map_lookup_elem(&maglev_vip_kinds, &zero);
	if (kp)
		kinds = *kp;

	if (k->len == FLOW_KEY_LEN6) {
		__builtin_memcpy(v.addr, &k->bytes[16], 16);
		__builtin_memcpy(&v.port, &k->bytes[34], 2);
		v.proto = k->bytes[36];
		v.family = 6;
	} else {
		__builtin_memcpy(v.addr, &k->bytes[4], 4);
		__builtin_memcpy(&v.port, &k->bytes[10], 2);
		v.proto = k->bytes[12];
		v.family = 4;
	}
	if (kinds & MAGLEV_VIP_EXACT) {
		info = bpf_map_lookup_elem(&maglev_vips, &v);
		if (info)
			return info;
	}
	if (kinds & MAGLEV_VIP_ALL_PORTS) {
		v.port = 0;
		info = bpf_map_lookup_elem(&maglev_vips, &v);
		if (info)
			return info;
	}
	if (!(kinds & MAGLEV_VIP_CATCH_ALL))
		return NULL;
	__builtin_memset(&v, 0, sizeof(v));
	return bpf_map_lookup_elem(&maglev_vips, &v);
}

/* maglev_same reports whether the n bytes at a and b are equal (BPF has no
 * memcmp). */
static __always_inline int maglev_same(const __u8 *a, const __u8 *b, const int n)
{
	__u8 d = 0;
#pragma unroll
	for (int i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* maglev_icmp_quote: for an ICMP error (ICMP in IPv4, types 3, 11 and
 * 12; ICMPv6 in IPv6, types 1 to 4) that quotes a TCP or UDP packet sent
 * from the error's own destination (a backend's reply, sent from its
 * VIP), it writes to q the
 * key of that packet's flow as the client sends it: the quoted destination
 * and port as source, the quoted source and port as destination. The quote
 * starts 8 bytes into the ICMP message; its IP header (IPv4 with options,
 * not a later fragment; IPv6 with TCP or UDP right after the fixed header)
 * and the two ports must lie inside the frame and inside the outer
 * packet's stated length. It returns 1 when q was written. xdp.Model does
 * the same (quotedFlow). */
static __always_inline int maglev_icmp_quote(struct xdp_md *ctx, const struct dp_parsed *p, struct flow_key *q)
{
	struct dp_cursor c = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.limit = dp_frame_len(ctx),
	};
	int v6 = p->key.len == FLOW_KEY_LEN6;
	__u8 *ip = dp_pull(&c, ETH_HLEN, v6 ? IPV6_HLEN : IPV4_HLEN);
	__u8 *icmp = dp_pull(&c, p->l4_off, 1);
	if (!ip || !icmp)
		return 0;
	__u8 type = icmp[0];
	if (v6 ? type < 1 || type > 4 : type != 3 && type != 11 && type != 12)
		return 0;
	__u32 end = v6 ? ETH_HLEN + IPV6_HLEN + dp_be16(ip + 4) : ETH_HLEN + dp_be16(ip + 2);
	if ((!v6 || dp_be16(ip + 4) != 0) && end < c.limit)
		c.limit = end;
	__u32 off = p->l4_off + 8;
	if (v6) {
		__u8 *h = dp_pull(&c, off, IPV6_HLEN + 4);
		if (!h || (h[0] >> 4) != 6 || (h[6] != IPPROTO_TCP && h[6] != IPPROTO_UDP))
			return 0;
		/* Sent from the error's destination (outer key bytes 16-31). */
		if (!maglev_same(h + 8, &p->key.bytes[16], 16))
			return 0;
		__builtin_memset(q, 0, sizeof(*q));
		__builtin_memcpy(&q->bytes[0], h + 24, 16);
		__builtin_memcpy(&q->bytes[16], h + 8, 16);
		q->bytes[32] = h[42];
		q->bytes[33] = h[43];
		q->bytes[34] = h[40];
		q->bytes[35] = h[41];
		q->bytes[36] = h[6];
		q->len = FLOW_KEY_LEN6;
		return 1;
	}
	__u8 *h = dp_pull(&c, off, IPV4_HLEN);
	if (!h || (h[0] >> 4) != 4)
		return 0;
	__u32 ihl = (h[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN || (dp_be16(h + 6) & 0x1fff) != 0 ||
	    (h[9] != IPPROTO_TCP && h[9] != IPPROTO_UDP))
		return 0;
	__u8 *ports = dp_pull(&c, off + ihl, 4);
	if (!ports || !maglev_same(h + 12, &p->key.bytes[4], 4))
		return 0;
	__builtin_memset(q, 0, sizeof(*q));
	__builtin_memcpy(&q->bytes[0], h + 16, 4);
	__builtin_memcpy(&q->bytes[4], h + 12, 4);
	q->bytes[8] = ports[2];
	q->bytes[9] = ports[3];
	q->bytes[10] = ports[0];
	q->bytes[11] = ports[1];
	q->bytes[12] = h[9];
	q->len = FLOW_KEY_LEN4;
	return 1;
}

/* maglev_frag_key turns the flow key k of a fragment into its datagram's
 * maglev_frags key: id (host order in, network order out) in place of the
 * ports, and for IPv6 protocol 0. IPv4 reassembles by addresses, protocol
 * and ID (RFC 791), IPv6 by addresses and ID only (RFC 8200 section 4.5):
 * there the key's protocol is the first header after the extension
 * headers, which in the first fragment may lie past headers that later
 * fragments do not repeat (a destination-options header after the
 * fragment header). */
static __always_inline void maglev_frag_key(struct flow_key *k, __u32 id)
{
	__u8 *ports = &k->bytes[8];
	if (k->len == FLOW_KEY_LEN6) {
		ports = &k->bytes[32];
		k->bytes[36] = 0;
	}
	ports[0] = id >> 24;
	ports[1] = id >> 16;
	ports[2] = id >> 8;
	ports[3] = id;
}

/* maglev_forget_cut_first deletes the maglev_frags entry of the datagram
 * of a frame that did not parse but shows a first fragment (MF set, offset
 * 0) in an untagged IPv4 header, or in an IPv6 fragment header right after
 * the IPv6 header: typically a first fragment cut before the end of its
 * transport header. It passes to the stack, so its later fragments must
 * not find an earlier datagram's entry with the same identification, as
 * for any first fragment not sent. xdp.Model does the same. */
static __always_inline void maglev_forget_cut_first(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u8 *ip = eth + ETH_HLEN;
	struct flow_key k = {};

	if ((void *)(ip + IPV4_HLEN) > data_end)
		return;
	if (eth[12] == 0x08 && eth[13] == 0x00) {
		if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5 || (dp_be16(ip + 6) & 0x3fff) != 0x2000)
			return;
		__builtin_memcpy(k.bytes, ip + 12, 8);
		k.bytes[12] = ip[9];
		k.len = FLOW_KEY_LEN4;
		maglev_frag_key(&k, dp_be16(ip + 4));
	} else if (eth[12] == 0x86 && eth[13] == 0xdd) {
		__u8 *fh = ip + IPV6_HLEN;
		if ((void *)(fh + 8) > data_end)
			return;
		if ((ip[0] >> 4) != 6 || ip[6] != 44 || (dp_be16(fh + 2) & 0xfff9) != 1)
			return;
		__builtin_memcpy(k.bytes, ip + 8, 32);
		k.len = FLOW_KEY_LEN6;
		maglev_frag_key(&k, dp_be32(fh + 4));
	} else {
		return;
	}
	bpf_map_delete_elem(&maglev_frags, &k);
}

/* maglev_frag_get copies the ports and protocol of key k to f. */
static __always_inline void maglev_frag_get(const struct flow_key *k, struct maglev_frag *f)
{
	if (k->len == FLOW_KEY_LEN6) {
		__builtin_memcpy(f->ports, &k->bytes[32], 4);
		f->proto = k->bytes[36];
	} else {
		__builtin_memcpy(f->ports, &k->bytes[8], 4);
		f->proto = k->bytes[12];
	}
}

/* maglev_frag_put writes the ports and protocol of f into key k. */
static __always_inline void maglev_frag_put(struct flow_key *k, const struct maglev_frag *f)
{
	if (k->len == FLOW_KEY_LEN6) {
		__builtin_memcpy(&k->bytes[32], f->ports, 4);
		k->bytes[36] = f->proto;
	} else {
		__builtin_memcpy(&k->bytes[8], f->ports, 4);
		k->bytes[12] = f->proto;
	}
}

/* maglev_csum folds the one's-complement sum of a 20-byte IPv4 header
 * whose checksum field is zero; the result is in network order. */
static __always_inline __u16 maglev_csum(const __u16 *w)
{
	__u32 s = 0;
#pragma unroll
	for (int i = 0; i < IPV4_HLEN / 2; i++) /* fixed 10 words: unrolled */
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * Copies into the packet with word loads and stores. Packet and map-value
 * pointers may be unaligned here, which the verifier allows on the
 * architectures with efficient unaligned access (x86-64, arm64); through
 * __builtin_memcpy on byte pointers clang would move one byte at a time
 * (two instructions a byte, about 100 for the headers of one packet).
 */
static __always_inline void maglev_copy6(__u8 *dst, const __u8 *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)(dst + 4) = *(const __u16 *)(src + 4);
}

static __always_inline void maglev_copy16(__u8 *dst, const __u8 *src)
{
	*(__u64 *)dst = *(const __u64 *)src;
	*(__u64 *)(dst + 8) = *(const __u64 *)(src + 8);
}

/* maglev_read_slot copies backend slot b to be. The barrier keeps every
 * load of b before it, so the checks made on be and the address sent to
 * come from one read of the slot, done before the first check: without
 * it clang reads the checked fields first and the address only after the
 * checks pass, and user space may rewrite the slot in between (a map
 * update is a plain copy, not atomic). The copy itself is no atomic read
 * either; see struct maglev_backend for why a slot being freed is safe to
 * read anyway. */
static __always_inline void maglev_read_slot(struct maglev_backend *be, const struct maglev_backend *b)
{
	*be = *b;
	asm volatile("" ::: "memory");
}

/* maglev_send balances the parsed packet p (its key already that of its
 * datagram for a later fragment): it finds the VIP and the backend,
 * encapsulates and returns XDP_TX, or returns the verdict of the first
 * check that fails. p->key is left as it was. */
static __always_inline int maglev_send(struct xdp_md *ctx, const struct dp_parsed *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct maglev_vip_info *vip = maglev_find_vip(&p->key);
	if (!vip) {
		maglev_count(MAGLEV_STAT_PASS_NOT_VIP);
		return XDP_PASS;
	}
	__u32 table_id = vip->table;
	__u64 hash = dp_flow_hash(&p->key, maglev_seed);

	/* The backend: from connection tracking, else from the table. Its
	 * slot is copied once, right after the lookup, and every check and
	 * the address sent to use that copy (maglev_read_slot). */
	__u32 slot = MAGLEV_NO_BACKEND;
	/* Zeroed, though every path that reads it writes it first: clang
	 * below -O2 otherwise spills the uninitialised copy, which the
	 * verifier refuses. */
	struct maglev_backend be __attribute__((aligned(8))) = {}; /* word copies of addr */
	int tracked = 0;
	if (maglev_conntrack) {
		__u32 *s = bpf_map_lookup_elem(&maglev_conns, &p->key);
		if (s) {
			__u32 conn = *s;
			slot = conn & 0xffff;
			struct maglev_backend *b = bpf_map_lookup_elem(&maglev_backends, &slot);
			if (b) {
				maglev_read_slot(&be, b);
				/* A free slot's odd gen matches no entry. */
				if (be.family != 0 && be.gen == (__u16)(conn >> 16) &&
				    be.table == table_id) {
					tracked = 1;
					maglev_count(MAGLEV_STAT_CONN_HIT);
				}
			}
		}
	}
	if (!tracked) {
		void *table = bpf_map_lookup_elem(&maglev_tables, &table_id);
		if (!table) {
			maglev_count(MAGLEV_STAT_DROP_NO_TABLE);
			return XDP_DROP;
		}
		__u32 idx = dp_reduce(hash, maglev_size); /* maglev.Table.Pick */
		__u32 *s = bpf_map_lookup_elem(table, &idx);
		if (!s || *s == MAGLEV_NO_BACKEND) {
			maglev_count(MAGLEV_STAT_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		slot = *s;
		struct maglev_backend *b = bpf_map_lookup_elem(&maglev_backends, &slot);
		if (!b) {
			maglev_count(MAGLEV_STAT_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		maglev_read_slot(&be, b);
		if (be.family == 0) {
			maglev_count(MAGLEV_STAT_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		/* A slot freed since this packet read the table (odd gen) still
		 * holds the member that left: the packet goes there, but its
		 * flow is not tracked to it. */
		if (maglev_conntrack && !(be.gen & 1)) {
			__u32 conn = slot | (__u32)be.gen << 16;
			bpf_map_update_elem(&maglev_conns, &p->key, &conn, BPF_ANY);
		}
	}

	__u32 zero = 0;
	__u32 *cur = bpf_map_lookup_elem(&maglev_config_cur, &zero);
	__u32 entry = cur ? *cur & 1 : 0;
	struct maglev_cfg *cfg = bpf_map_lookup_elem(&maglev_config, &entry);
	if (!cfg) { /* never: both entries exist */
		maglev_count(MAGLEV_STAT_DROP_ENCAP);
		return XDP_DROP;
	}
	/* An all-zero outer source means none is configured for the
	 * backend's family: drop rather than send from 0.0.0.0 or ::. The
	 * loader refuses such a VIP (xdp.ErrNoSource); this guards the maps
	 * against other writers, for three or four instructions. */
	int outer6 = be.family == 6;
	if (outer6 ? (*(const __u64 *)cfg->src6 | *(const __u64 *)(cfg->src6 + 8)) == 0
		   : *(const __u32 *)cfg->src4 == 0) {
		maglev_count(MAGLEV_STAT_DROP_NO_SOURCE);
		return XDP_DROP;
	}

	/* The inner packet: from the IP header to its stated end, or to the
	 * end of the frame if that comes first (flow/doc.go); Ethernet padding
	 * after it is left in place. */
	__u32 avail = (__u32)(data_end - data) - ETH_HLEN;
	__u32 inner_len;
	__u8 inner_proto;
	__u8 *ip = data + ETH_HLEN;
	/* Outer IPv4 DF and identification (RFC 2003 section 3.1: DF copied
	 * from the inner header). Inner DF set: outer DF set, ID 0 (an
	 * atomic datagram, RFC 6864). Inner DF clear: outer DF clear, ID =
	 * inner ID + bits 16-31 of the flow hash (a later fragment's is its
	 * datagram's, from maglev_frags) + inner fragment offset *
	 * MAGLEV_ID_FRAG_MUL (mod 2^16): the inner sender already keeps its
	 * IDs unique per source and destination, the hash offsets flows from
	 * one another, and the offset term tells fragments of one inner
	 * datagram apart. Inner IPv6: DF set, ID 0, as IPv6 is never
	 * fragmented on the way (RFC 8200 section 5). */
	__u8 outer_df = IPV4_DF;
	__u16 outer_id = 0;
	/* The inner DSCP and ECN bits (IPv4 type of service, IPv6 traffic
	 * class) go to the outer header: RFC 2003 section 3.1 copies the type
	 * of service, RFC 6040 the ECN field, so the packet keeps its class
	 * and its ECN capability on the way to the backend. */
	__u8 tos;
	/* The parser has seen the whole IP header, so the two checks below
	 * never fail; the verifier needs them, and they count nothing. The
	 * same holds for the checks after bpf_xdp_adjust_head, which grew
	 * the frame by encap bytes. */
	if (p->key.len == FLOW_KEY_LEN6) {
		if ((void *)(ip + IPV6_HLEN) > data_end)
			return XDP_PASS;
		inner_len = IPV6_HLEN + dp_be16(ip + 4);
		if (dp_be16(ip + 4) == 0)
			inner_len = avail;
		inner_proto = IPPROTO_IPV6;
		tos = (__u8)(ip[0] << 4) | (ip[1] >> 4);
	} else {
		if ((void *)(ip + IPV4_HLEN) > data_end)
			return XDP_PASS;
		inner_len = dp_be16(ip + 2);
		inner_proto = IPPROTO_IPIP;
		tos = ip[1];
		if (!(ip[6] & IPV4_DF)) {
			__u16 frag = ((__u16)(ip[6] & 0x1f) << 8) | ip[7];
			outer_df = 0;
			outer_id = dp_be16(ip + 4) + (__u16)(hash >> 16) + frag * MAGLEV_ID_FRAG_MUL;
		}
	}
	if (inner_len > avail)
		inner_len = avail;

	__u32 encap = outer6 ? IPV6_HLEN : IPV4_HLEN;
	if (inner_len + encap > maglev_mtu) {
		maglev_count(MAGLEV_STAT_DROP_TOO_BIG);
		return XDP_DROP;
	}

	/* be is on the stack and cfg points into a map, so both stay valid
	 * when the packet moves; only packet pointers must be loaded again. */
	if (bpf_xdp_adjust_head(ctx, -(int)encap)) {
		maglev_count(MAGLEV_STAT_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	if ((void *)(eth + ETH_HLEN + IPV6_HLEN) > data_end && outer6)
		return XDP_DROP;
	if ((void *)(eth + ETH_HLEN + IPV4_HLEN) > data_end)
		return XDP_DROP;

	maglev_copy6(eth, cfg->dst_mac);
	maglev_copy6(eth + 6, cfg->src_mac);
	__u8 *o = eth + ETH_HLEN;
	if (outer6) {
		if ((void *)(o + IPV6_HLEN) > data_end)
			return XDP_DROP;
		eth[12] = 0x86;
		eth[13] = 0xdd;
		/* Version 6, the inner traffic class, flow label = low 20 bits
		 * of the flow hash, so routers' ECMP keeps a flow on one path. */
		__u32 fl = (__u32)hash & 0xfffff;
		o[0] = 0x60 | (tos >> 4);
		o[1] = (__u8)(tos << 4) | ((fl >> 16) & 0x0f);
		o[2] = (fl >> 8) & 0xff;
		o[3] = fl & 0xff;
		o[4] = inner_len >> 8;
		o[5] = inner_len & 0xff;
		o[6] = inner_proto;
		o[7] = 64; /* hop limit */
		maglev_copy16(o + 8, cfg->src6);
		maglev_copy16(o + 24, be.addr);
	} else {
		eth[12] = 0x08;
		eth[13] = 0x00;
		__u32 tot = inner_len + IPV4_HLEN;
		__u16 h[IPV4_HLEN / 2] __attribute__((aligned(8)));
		__u8 *hb = (__u8 *)h;
		hb[0] = 0x45;
		hb[1] = tos;
		hb[2] = tot >> 8;
		hb[3] = tot & 0xff;
		hb[4] = outer_id >> 8;
		hb[5] = outer_id & 0xff;
		hb[6] = outer_df; /* fragment offset 0 */
		hb[7] = 0;
		hb[8] = 64; /* TTL */
		hb[9] = inner_proto;
		hb[10] = 0;
		hb[11] = 0;
		*(__u32 *)(hb + 12) = *(const __u32 *)cfg->src4;
		*(__u32 *)(hb + 16) = *(const __u32 *)be.addr;
		h[5] = maglev_csum(h);
		maglev_copy16(o, hb);
		*(__u32 *)(o + 16) = *(const __u32 *)(hb + 16);
	}

	__u32 stat = be.stats;
	struct maglev_counters *st = bpf_map_lookup_elem(&maglev_backend_stats, &stat);
	if (st) {
		st->packets += 1;
		st->bytes += (__u64)(data_end - data);
	}
	maglev_count(MAGLEV_STAT_TX);
	return XDP_TX;
}

SEC("xdp")
int xdp_maglev(struct xdp_md *ctx)
{
	struct dp_parsed p = {};

	if (dp_parse_packet(ctx, &p) != DP_PARSE_OK) { /* global function: verified once */
		maglev_forget_cut_first(ctx);
		maglev_count(MAGLEV_STAT_PASS_PARSE);
		return XDP_PASS;
	}
	if (p.vlan_tags != 0 || p.l3_off != ETH_HLEN) {
		maglev_count(MAGLEV_STAT_PASS_VLAN);
		return XDP_PASS;
	}
	/* A later fragment: its datagram's ports from the first fragment, or
	 * to the stack. Only fragments pay this lookup. */
	if (p.fragment == DP_LATER_FRAGMENT) {
		maglev_frag_key(&p.key, p.ipid);
		struct maglev_frag *fr = bpf_map_lookup_elem(&maglev_frags, &p.key);
		if (!fr) {
			maglev_count(MAGLEV_STAT_PASS_FRAG_MISS);
			return XDP_PASS;
		}
		maglev_frag_put(&p.key, fr);
		maglev_count(MAGLEV_STAT_FRAG_HIT);
	}
	/* An ICMP error about a packet of a VIP's flow goes where that flow
	 * goes (a too-big error, above all: the backend sent the packet and
	 * must lower its path MTU), balanced by the flow's key; other ICMP
	 * packets, by their own. Only unfragmented ICMP pays this. */
	int icmp = p.key.len == FLOW_KEY_LEN6 ? p.key.bytes[36] == IPPROTO_ICMPV6 : p.key.bytes[12] == IPPROTO_ICMP;
	if (icmp && p.fragment == DP_NOT_FRAGMENT) {
		struct flow_key q;
		if (maglev_icmp_quote(ctx, &p, &q) && maglev_find_vip(&q)) {
			p.key = q;
			maglev_count(MAGLEV_STAT_ICMP_QUOTE);
		}
	}
	int verdict = maglev_send(ctx, &p);
	/* A first fragment sent: its later fragments follow it. Not sent (no
	 * VIP's, or dropped): its datagram's entry goes, so that the entry of
	 * an earlier datagram with the same identification (16 bits in IPv4:
	 * it wraps) cannot send the later fragments to that datagram's
	 * backend; they pass to the stack as unknown. Only first fragments
	 * pay this update or delete. */
	if (p.fragment == DP_FIRST_FRAGMENT) {
		struct maglev_frag fr = {};
		maglev_frag_get(&p.key, &fr);
		maglev_frag_key(&p.key, p.ipid);
		if (verdict == XDP_TX)
			bpf_map_update_elem(&maglev_frags, &p.key, &fr, BPF_ANY);
		else
			bpf_map_delete_elem(&maglev_frags, &p.key);
	}
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
