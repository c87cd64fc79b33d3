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

#define DP_MAX_VLAN_TAGS 8   /* flow.MaxVLANTags */
#define DP_MAX_EXT_HEADERS 8 /* flow.MaxExtHeaders */

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
	__u8 pad[2];
	__u32 ipid; /* IPv4 identification, or IPv6 fragment identification */
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

/* dp_pull returns a pointer to n bytes at offset off, or NULL when they are
 * not all inside the packet. */
static __always_inline __u8 *dp_pull(const struct dp_cursor *c, __u32 off, __u32 n)
{
	if (off > 0xffff || off + n > c->limit)
		return NULL;
	__u8 *p = c->data + off;
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

/* dp_parse_l4 checks the transport header at off and writes the ports
 * (network order) to the key at port_off. */
static __always_inline int dp_parse_l4(const struct dp_cursor *c, __u32 off, __u8 proto,
				       struct flow_key *k, int port_off)
{
	__u8 *p;

	switch (proto) {
	case IPPROTO_TCP:
		p = dp_pull(c, off, 20);
		if (!p)
			return DP_PARSE_TRUNCATED;
		if ((p[12] >> 4) < 5)
			return DP_PARSE_MALFORMED;
		break;
	case IPPROTO_UDP:
		p = dp_pull(c, off, 8);
		if (!p)
			return DP_PARSE_TRUNCATED;
		break;
	case IPPROTO_ICMP:
		return dp_pull(c, off, 8) ? DP_PARSE_OK : DP_PARSE_TRUNCATED;
	case IPPROTO_ICMPV6:
		return dp_pull(c, off, 4) ? DP_PARSE_OK : DP_PARSE_TRUNCATED;
	default:
		return DP_PARSE_OK;
	}
	/* port_off is 8 or 32: two constant cases keep stack writes fixed. */
	if (port_off == 8)
		__builtin_memcpy(&k->bytes[8], p, 4);
	else
		__builtin_memcpy(&k->bytes[32], p, 4);
	return DP_PARSE_OK;
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
	__builtin_memcpy(&k->bytes[0], ip + 12, 8);
	k->bytes[12] = ip[9];
	k->len = FLOW_KEY_LEN4;
	out->ipid = dp_be16(ip + 4);

	__u16 frag = dp_be16(ip + 6);
	if (frag & 0x1fff) {
		out->fragment = DP_LATER_FRAGMENT;
		return DP_PARSE_OK;
	}
	if (frag & 0x2000)
		out->fragment = DP_FIRST_FRAGMENT;
	out->l4_off = off + hlen;
	return dp_parse_l4(c, off + hlen, ip[9], k, 8);
}

static __always_inline int dp_parse_ipv6(struct dp_cursor *c, __u32 off, struct dp_parsed *out)
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
	__builtin_memcpy(&k->bytes[0], ip + 8, 32);
	k->len = FLOW_KEY_LEN6;

	__u8 nh = ip[6];
	off += 40;
	/* Bounded walk; the verifier checks each of the nine iterations. */
	for (int i = 0; i <= DP_MAX_EXT_HEADERS; i++) {
		if (!dp_is_ext_header(nh))
			break;
		if (i == DP_MAX_EXT_HEADERS)
			return DP_PARSE_MALFORMED;
		if (nh == IPPROTO_FRAGMENT) {
			__u8 *f = dp_pull(c, off, 8);
			if (!f)
				return DP_PARSE_TRUNCATED;
			nh = f[0];
			out->ipid = dp_be32(f + 4);
			off += 8;
			__u16 fo = dp_be16(f + 2);
			if (fo & 0xfff8) {
				k->bytes[36] = nh;
				out->fragment = DP_LATER_FRAGMENT;
				return DP_PARSE_OK;
			}
			if (fo & 1)
				out->fragment = DP_FIRST_FRAGMENT;
			continue;
		}
		__u8 *h = dp_pull(c, off, 2);
		if (!h)
			return DP_PARSE_TRUNCATED;
		__u32 hlen = nh == IPPROTO_AH ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
		if (!dp_pull(c, off, hlen))
			return DP_PARSE_TRUNCATED;
		nh = h[0];
		off += hlen;
	}
	k->bytes[36] = nh;
	out->l4_off = off;
	return dp_parse_l4(c, off, nh, k, 32);
}

/*
 * dp_parse parses the Ethernet frame [data, data_end) into out (zeroed
 * first) and returns an enum dp_outcome. On DP_PARSE_OK, out->key holds the
 * flow; on any other outcome its contents are unspecified.
 */
static __always_inline int dp_parse(void *data, void *data_end, struct dp_parsed *out)
{
	struct dp_cursor c = {
		.data = data,
		.data_end = data_end,
		.limit = (__u32)(data_end - data),
	};

	__builtin_memset(out, 0, sizeof(*out));
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
	if (proto == ETH_P_IP)
		return dp_parse_ipv4(&c, off, out);
	if (proto == ETH_P_IPV6)
		return dp_parse_ipv6(&c, off, out);
	return DP_PARSE_NOT_IP;
}

#endif
