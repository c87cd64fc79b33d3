/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The frame parser shared with package flow (flow/parse.go). Both follow
 * the rules in flow/doc.go to the letter and return the same outcome and
 * key for every frame; the kernel tests replay every shared capture
 * through both.
 */
#ifndef DATAPLANE_PARSING_H
#define DATAPLANE_PARSING_H

#include "types.h"
#include "compiler.h"
#include "flow.h"

#ifndef DP_MAX_VLAN_TAGS
#define DP_MAX_VLAN_TAGS 8 /* flow.MaxVLANTags */
#endif
#ifndef DP_MAX_EXT_HEADERS
#define DP_MAX_EXT_HEADERS 8 /* flow.MaxExtHeaders */
#endif

/* Parse outcomes; the numbers are flow.Outcome's. */
enum dp_outcome {
	DP_PARSE_OK = 0,
	DP_PARSE_TRUNCATED = 1,
	DP_PARSE_NOT_IP = 2,
	DP_PARSE_MALFORMED = 3,
	DP_PARSE_OUTCOMES = 4,
};

/* Fragment kinds; the numbers are flow.Fragment's. */
enum dp_fragment {
	DP_NOT_FRAGMENT = 0,
	DP_FIRST_FRAGMENT = 1,
	DP_LATER_FRAGMENT = 2,
};

/* struct dp_parsed is flow.Info. Offsets are from the start of the frame. */
struct dp_parsed {
	struct flow_key key;
	__u16 l3_off;
	__u16 l4_off; /* 0 for later fragments */
	__u8 fragment; /* enum dp_fragment */
	__u8 vlan_tags;
	__u16 frame_len; /* bytes of the frame dp_parse saw (its linear part), modulo 2^16: use dp_frame_len for a length */
	__u32 ipid; /* IPv4 identification, or IPv6 fragment identification */
	__u16 frag_off; /* a later fragment's offset in its datagram, in bytes; 0 otherwise */
} __attribute__((aligned(8)));

/*
 * A cursor over the frame. limit is where the packet ends for the parsing
 * rules (IP total or payload length); data_end is where the buffer ends for
 * the verifier. Every read checks both.
 */
struct dp_cursor {
	void *data;
	void *data_end;
	__u32 limit;
};

/* dp_frame_len is the whole length of the frame's linear part. Counting
 * code takes it from here, not from dp_parsed.frame_len, which keeps 16
 * bits: generic XDP hands over frames past 65,535 bytes (a 64 KiB
 * loopback). */
static __always_inline __u32 dp_frame_len(const struct xdp_md *ctx)
{
	return (__u32)((long)ctx->data_end - (long)ctx->data);
}

/*
 * DP_MAX_OFF bounds offsets for the verifier, which tracks packet ranges
 * only while offset plus length stays below 2^16. The parsing rules never
 * look that deep: at most eight VLAN tags, a 60-byte IPv4 header or at
 * most eight IPv6 extension headers of at most 2,048 bytes each keep the
 * upper-layer header within about 16.5 KB of the frame's start, so the
 * bound never changes a result, even on generic XDP, whose linear part
 * can be a whole 64 KiB datagram.
 */
#define DP_MAX_OFF 0xff00

/*
 * DP_PULL_MASK bounds the offsets dp_pull reads at, 2^15 - 1. Its callers
 * never ask past it (the parser reads directly only within the first 106
 * bytes, maglev's ICMP quote within about 16.6 KB: see DP_MAX_OFF), so it
 * changes no result. dp_pull masks the offset with it (a no-op after its
 * check) so that the verifier sees the bound on the very register added
 * to data: clang may check one reload of a spilled offset and add
 * another, and verifiers before Linux 6.8 (scalar IDs on spill, commit
 * 26b560765e67) do not carry the check over to the stack slot: they see
 * an offset of up to 2^16 and refuse the read ("R2 offset is outside of
 * the packet"). DP_MAX_OFF cannot serve as the mask: it is no power of
 * two less one, and iblt/xdp reads as far as it does.
 */
#define DP_PULL_MASK 0x7fff

/* dp_pull returns a pointer to n bytes at offset off, or NULL when they are
 * not all inside the packet. */
static __always_inline __u8 *dp_pull(const struct dp_cursor *c, __u32 off, __u32 n)
{
	if (off > DP_PULL_MASK || off + n > c->limit)
		return NULL;
	/* Hide the check from clang, which would otherwise drop the mask. */
	asm volatile("" : "+r"(off));
	__u8 *p = c->data + (off & DP_PULL_MASK);
	/* Keep the bounds check on p itself: without this clang may compute
	 * data + (off + n) afresh, a pointer the verifier tracks apart from p,
	 * and then refuses the read through p. */
	asm volatile("" : "+r"(p));
	if ((void *)(p + n) > c->data_end)
		return NULL;
	return p;
}

/* dp_be16 reads a big-endian (network order) 16-bit field; host order out. */
static __always_inline __u16 dp_be16(const __u8 *p)
{
	return ((__u16)p[0] << 8) | p[1];
}

/* dp_be32 reads a big-endian 32-bit field; host order out. */
static __always_inline __u32 dp_be32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

static __always_inline int dp_is_vlan(__u16 ethertype)
{
	return ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD || ethertype == ETH_P_QINQ1;
}

static __always_inline int dp_is_ext_header(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH;
}

/* dp_copy_ports copies the 4 bytes of ports at l4 to the key at dst with
 * one 4-byte load (l4 is unaligned in the packet, which x86-64 and arm64 allow, or an aligned
 * stack buffer; dst is aligned). */
static __always_inline void dp_copy_ports(__u8 *dst, const __u8 *l4)
{
	*(__u32 *)dst = *(const __u32 *)l4;
}

/* dp_ports copies the ports (network order) of a TCP or UDP header to the
 * key: bytes 8..11 for IPv4 keys, 32..35 for IPv6 keys. */
static __always_inline void dp_ports(struct flow_key *k, const __u8 *l4)
{
	if (k->len == FLOW_KEY_LEN4)
		dp_copy_ports(&k->bytes[8], l4);
	else
		dp_copy_ports(&k->bytes[32], l4);
}

/* dp_l4_need is how many bytes of the upper-layer header proto the rules
 * require (flow/doc.go), 0 for protocols whose header is not checked. */
static __always_inline __u32 dp_l4_need(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
		return 8;
	case IPPROTO_ICMPV6:
		return 4;
	}
	return 0;
}

/* dp_l4_check applies the rules to the first dp_l4_need(proto) bytes of the
 * upper-layer header at l4 and fills the ports. */
static __always_inline int dp_l4_check(struct flow_key *k, __u8 proto, const __u8 *l4)
{
	if (proto == IPPROTO_TCP && (l4[12] >> 4) < 5)
		return DP_PARSE_MALFORMED;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		dp_ports(k, l4);
	return DP_PARSE_OK;
}

/* dp_parse_l4 parses the upper-layer header at off with direct packet
 * access (the common path: no IPv6 extension headers). */
static __always_inline int dp_parse_l4(const struct dp_cursor *c, __u32 off, __u8 proto,
				       struct flow_key *k)
{
	__u32 need = dp_l4_need(proto);
	__u8 *p;

	/* One constant-size pull per case keeps the verifier's ranges exact. */
	switch (need) {
	case 0:
		return DP_PARSE_OK;
	case 4:
		p = dp_pull(c, off, 4);
		break;
	case 8:
		p = dp_pull(c, off, 8);
		break;
	default:
		p = dp_pull(c, off, 20);
		break;
	}
	if (!p)
		return DP_PARSE_TRUNCATED;
	return dp_l4_check(k, proto, p);
}

/*
 * dp_load copies n bytes at offset off into buf with bpf_xdp_load_bytes,
 * after checking them against the packet's limit. The IPv6 extension-header
 * walk reads through it: its offsets are plain numbers to the verifier, so
 * the paths through up to eight headers of three kinds merge instead of
 * multiplying (direct packet access there costs the verifier 300k steps).
 */
static __always_inline int dp_load(struct xdp_md *ctx, const struct dp_cursor *c, __u32 off,
				   void *buf, __u32 n)
{
	if (off > DP_MAX_OFF || off + n > c->limit)
		return -1;
	return bpf_xdp_load_bytes(ctx, off, buf, n);
}

/* dp_copy_addrs copies n (8 or 32) bytes of addresses from the packet to
 * the key's start with 8-byte loads. The packet side is usually unaligned
 * (addresses start at frame offset 26 or 22), which the verifier allows on
 * the architectures with efficient unaligned access (x86-64, arm64). The
 * loads go through a plain __u64 pointer on purpose: through a type of
 * alignment 1, clang splits each load into eight byte loads and shifts (30
 * instructions a word). */
static __always_inline void dp_copy_addrs(struct flow_key *k, const __u8 *p, const int n)
{
	__u64 *dst = (__u64 *)k->bytes;
#pragma unroll
	for (int i = 0; i < n / 8; i++)
		dst[i] = ((const __u64 *)p)[i];
}

static __always_inline int dp_parse_ipv4(struct dp_cursor *c, __u32 off, struct dp_parsed *out)
{
	__u8 *ip = dp_pull(c, off, 20);
	if (!ip)
		return DP_PARSE_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return DP_PARSE_MALFORMED;
	__u32 hlen = (ip[0] & 0x0f) * 4;
	if (hlen < 20)
		return DP_PARSE_MALFORMED;
	__u32 total = dp_be16(ip + 2);
	if (total < hlen)
		return DP_PARSE_MALFORMED;
	if (!dp_pull(c, off, hlen))
		return DP_PARSE_TRUNCATED;
	if (off + total < c->limit)
		c->limit = off + total;

	struct flow_key *k = &out->key;
	dp_copy_addrs(k, ip + 12, 8);
	k->bytes[12] = ip[9];
	k->len = FLOW_KEY_LEN4;
	out->ipid = dp_be16(ip + 4);

	__u16 frag = dp_be16(ip + 6);
	if (frag & 0x1fff) {
		out->fragment = DP_LATER_FRAGMENT;
		out->frag_off = frag << 3;
		return DP_PARSE_OK;
	}
	if (frag & 0x2000)
		out->fragment = DP_FIRST_FRAGMENT;
	out->l4_off = off + hlen;
	return dp_parse_l4(c, off + hlen, ip[9], k);
}

/* dp_parse_ipv6_ext walks the extension headers starting at off (next
 * header nh) and parses the upper-layer header after them.
 *
 * The walk is unrolled: as a loop, clang lays it out with the loop head
 * after the body, so the body falls through into the head, and verifiers
 * before Linux 6.7 (commit 10e14e9652bf, "bpf: fix control-flow graph
 * checking in privileged mode"; 6.6.3 has it too) accept a back-edge only
 * on a jump: they refuse every kernel with "back-edge from insn N to N+1". */
static __always_inline int dp_parse_ipv6_ext(struct xdp_md *ctx, const struct dp_cursor *c,
					     __u32 off, __u8 nh, struct dp_parsed *out)
{
	struct flow_key *k = &out->key;
	__u8 h[8]; /* every extension header is at least 8 bytes long */

#pragma unroll
	for (int i = 0; i <= DP_MAX_EXT_HEADERS; i++) {
		if (!dp_is_ext_header(nh))
			break;
		if (i == DP_MAX_EXT_HEADERS)
			return DP_PARSE_MALFORMED;
		if (dp_load(ctx, c, off, h, 8))
			return DP_PARSE_TRUNCATED;
		__u32 hlen = 8;
		if (nh == IPPROTO_AH)
			hlen = ((__u32)h[1] + 2) * 4;
		else if (nh != IPPROTO_FRAGMENT)
			hlen = ((__u32)h[1] + 1) * 8;
		if (off + hlen > c->limit)
			return DP_PARSE_TRUNCATED;
		if (nh == IPPROTO_FRAGMENT) {
			out->ipid = dp_be32(h + 4);
			__u16 fo = dp_be16(h + 2);
			if (fo & 0xfff8) {
				k->bytes[36] = h[0];
				out->fragment = DP_LATER_FRAGMENT;
				out->frag_off = fo & 0xfff8;
				return DP_PARSE_OK;
			}
			if (fo & 1)
				out->fragment = DP_FIRST_FRAGMENT;
		}
		nh = h[0];
		off += hlen;
	}
	k->bytes[36] = nh;
	out->l4_off = off;

	__u8 l4[20] __attribute__((aligned(8))); /* dp_copy_ports reads 4 bytes */
	int err;
	switch (dp_l4_need(nh)) {
	case 0:
		return DP_PARSE_OK;
	case 4:
		err = dp_load(ctx, c, off, l4, 4);
		break;
	case 8:
		err = dp_load(ctx, c, off, l4, 8);
		break;
	default:
		err = dp_load(ctx, c, off, l4, 20);
		break;
	}
	if (err)
		return DP_PARSE_TRUNCATED;
	return dp_l4_check(k, nh, l4);
}

static __always_inline int dp_parse_ipv6(struct xdp_md *ctx, struct dp_cursor *c, __u32 off,
					 struct dp_parsed *out)
{
	__u8 *ip = dp_pull(c, off, 40);
	if (!ip)
		return DP_PARSE_TRUNCATED;
	if ((ip[0] >> 4) != 6)
		return DP_PARSE_MALFORMED;
	__u32 plen = dp_be16(ip + 4);
	if (plen != 0 && off + 40 + plen < c->limit)
		c->limit = off + 40 + plen;

	struct flow_key *k = &out->key;
	dp_copy_addrs(k, ip + 8, 32);
	k->len = FLOW_KEY_LEN6;

	__u8 nh = ip[6];
	off += 40;
	if (dp_is_ext_header(nh))
		return dp_parse_ipv6_ext(ctx, c, off, nh, out);
	k->bytes[36] = nh;
	out->l4_off = off;
	return dp_parse_l4(c, off, nh, k);
}

/*
 * dp_parse parses the Ethernet frame of ctx (its linear part) into out,
 * zeroed first, and returns an enum dp_outcome. On DP_PARSE_OK, out->key
 * holds the flow; on any other outcome out's contents are unspecified.
 *
 * It is a global (not inlined) BPF function: the verifier checks it once,
 * on its own, and every kernel that calls it pays that cost once instead
 * of once per path through its own code. Linux 5.18 or newer (global
 * functions, bpf_xdp_load_bytes). The verifier knows the type of ctx in a
 * global function only from the kernel's own BTF: on a kernel built
 * without it, the Go loaders make dp_parse static at load time
 * (bpfload.ForKernel), and the verifier then checks it at each call.
 */
__attribute__((noinline)) int dp_parse(struct xdp_md *ctx, struct dp_parsed *out)
{
	if (!ctx || !out)
		return DP_PARSE_MALFORMED;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct dp_cursor c = {
		.data = data,
		.data_end = data_end,
		.limit = (__u32)(data_end - data),
	};

	__builtin_memset(out, 0, sizeof(*out));
	out->frame_len = (__u16)c.limit;
	__u8 *eth = dp_pull(&c, 0, ETH_HLEN);
	if (!eth)
		return DP_PARSE_TRUNCATED;
	__u16 proto = dp_be16(eth + 12);
	__u32 off = ETH_HLEN;

	for (int i = 0; i <= DP_MAX_VLAN_TAGS; i++) {
		if (!dp_is_vlan(proto))
			break;
		if (i == DP_MAX_VLAN_TAGS)
			return DP_PARSE_MALFORMED;
		__u8 *tag = dp_pull(&c, off, 4);
		if (!tag)
			return DP_PARSE_TRUNCATED;
		proto = dp_be16(tag + 2);
		off += 4;
		out->vlan_tags++;
	}

	out->l3_off = off;
	/*
	 * Forget which of the nine VLAN paths led here: out is memory the
	 * verifier does not track, so the offset read back is one unknown
	 * number below 2^16 instead of nine constants, and the IP parsers are
	 * checked once instead of nine times (125k steps down to about 15k).
	 * The barrier stops the compiler from reusing the stored value.
	 */
	asm volatile("" ::: "memory");
	off = out->l3_off;
	if (proto == ETH_P_IP)
		return dp_parse_ipv4(&c, off, out);
	if (proto == ETH_P_IPV6)
		return dp_parse_ipv6(ctx, &c, off, out);
	return DP_PARSE_NOT_IP;
}

/*
 * dp_fast_l4 checks the upper-layer header at l4 for the fast path, as
 * dp_l4_need and dp_l4_check do: a TCP (20 bytes), UDP or ICMP (8) or
 * ICMPv6 (4) header must lie inside the frame and inside the room avail
 * that the IP length leaves, and a TCP data offset must be at least 5;
 * other protocols have no header checked. It copies TCP and UDP ports to
 * the key at ports and returns 0, or returns -1 for dp_parse to decide
 * (an IPv6 caller keeps extension headers away from it).
 */
static __always_inline int dp_fast_l4(__u8 *l4, void *data_end, __u8 proto, __u32 avail,
				      __u8 *ports)
{
	/* One constant-size check per protocol keeps the verifier's packet
	 * ranges exact. */
	if (proto == IPPROTO_TCP) {
		if ((void *)(l4 + 20) > data_end || avail < 20 || (l4[12] >> 4) < 5)
			return -1;
		dp_copy_ports(ports, l4);
	} else if (proto == IPPROTO_UDP) {
		if ((void *)(l4 + 8) > data_end || avail < 8)
			return -1;
		dp_copy_ports(ports, l4);
	} else if (proto == IPPROTO_ICMP) {
		if ((void *)(l4 + 8) > data_end || avail < 8)
			return -1;
	} else if (proto == IPPROTO_ICMPV6) {
		if ((void *)(l4 + 4) > data_end || avail < 4)
			return -1;
	}
	return 0;
}

/*
 * dp_parse_fast is the common case of dp_parse, inlined into the calling
 * kernel: an untagged IPv4 packet without options or an IPv6 packet without
 * extension headers, not fragmented, whose upper-layer header (TCP, UDP,
 * ICMP, ICMPv6; none is checked for other protocols) lies whole inside both
 * the frame and the IP length; and an untagged frame of at least 34 bytes
 * that is not IP at all (shorter ones go to dp_parse, with the same result).
 * For such a frame it fills out exactly as dp_parse would and returns
 * dp_parse's outcome (DP_PARSE_OK or DP_PARSE_NOT_IP); for any other frame
 * it returns -1 and leaves the frame to dp_parse, which applies every rule.
 *
 * It saves the call into the global dp_parse (a BPF-to-BPF call is a real
 * call and return in the JIT, about 10 ns where returns go through a
 * speculation-safe thunk) and most of its bounds checks.
 */
static __always_inline int dp_parse_fast(struct xdp_md *ctx, struct dp_parsed *out)
{
	__u8 *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow_key *k = &out->key;

	if ((void *)(data + ETH_HLEN + 20) > data_end) /* no room for any IP header */
		return -1;
	__u16 ethertype = dp_be16(data + 12);
	__builtin_memset(out, 0, sizeof(*out));
	out->frame_len = (__u16)((void *)data_end - (void *)data);
	out->l3_off = ETH_HLEN;

	if (ethertype == ETH_P_IP) {
		__u8 *ip = data + ETH_HLEN;
		if ((void *)(ip + 20) > data_end)
			return -1;
		/* Version 4, IHL 5, neither a fragment offset nor the
		 * more-fragments bit. */
		if (ip[0] != 0x45 || (dp_be16(ip + 6) & 0x3fff))
			return -1;
		__u32 total = dp_be16(ip + 2);
		if (total < 20 ||
		    dp_fast_l4(ip + 20, data_end, ip[9], total - 20, &k->bytes[8]))
			return -1;
		dp_copy_addrs(k, ip + 12, 8);
		k->bytes[12] = ip[9];
		k->len = FLOW_KEY_LEN4;
		out->l4_off = ETH_HLEN + 20;
		out->ipid = dp_be16(ip + 4);
		return DP_PARSE_OK;
	}
	if (ethertype == ETH_P_IPV6) {
		__u8 *ip = data + ETH_HLEN;
		if ((void *)(ip + 40) > data_end)
			return -1;
		/* Version 6, no extension header, and a non-zero payload length
		 * (zero is a jumbogram's). */
		__u32 plen = dp_be16(ip + 4);
		if ((ip[0] >> 4) != 6 || plen == 0 || dp_is_ext_header(ip[6]) ||
		    dp_fast_l4(ip + 40, data_end, ip[6], plen, &k->bytes[32]))
			return -1;
		dp_copy_addrs(k, ip + 8, 32);
		k->bytes[36] = ip[6];
		k->len = FLOW_KEY_LEN6;
		out->l4_off = ETH_HLEN + 40;
		return DP_PARSE_OK;
	}
	/* Neither IP nor a VLAN tag: dp_parse would stop at the EtherType
	 * with out as it is now. */
	if (!dp_is_vlan(ethertype))
		return DP_PARSE_NOT_IP;
	return -1;
}

/*
 * dp_parse_packet is what the kernels call: the inlined fast path for the
 * common frame, the global dp_parse for every other. Same contract as
 * dp_parse.
 */
static __always_inline int dp_parse_packet(struct xdp_md *ctx, struct dp_parsed *out)
{
	int outcome = dp_parse_fast(ctx, out);
	if (outcome >= 0)
		return outcome;
	return dp_parse(ctx, out);
}

#endif
