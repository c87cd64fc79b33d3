//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * examples/l4lb decap: what an ipip device does on a backend, for
 * kernels built without one. A frame carrying IPv4 or IPv6 inside IPv4
 * (protocol 4 or 41) or inside IPv6 (next header 4 or 41, no extension
 * header), addressed to this backend, loses its outer header and goes
 * up the stack as the inner packet; anything else passes untouched. An
 * outer IPv4 fragment (MF set or a non-zero offset) also passes
 * untouched: an ipip device decapsulates only after reassembly, and
 * stripping a fragment's header would hand the stack a cut inner packet
 * or, for a later fragment, payload bytes read as a header. So does an
 * outer header the stack would drop before any tunnel saw it: an IPv4
 * header whose checksum is wrong (RFC 1122 section 3.2.1.2), or whose
 * total length is below 20 bytes, and an IPv4 or IPv6 header whose
 * length runs past the frame (a cut packet). Bytes of the frame after
 * the outer packet's length (Ethernet padding) are cut off, as the
 * stack cuts them before a tunnel sees the packet: they are not the
 * inner packet's.
 *
 * Only a packet addressed to this backend is decapsulated: the outer
 * destination must be local4 (IPv4) or local6 (IPv6), set from Go before
 * the program loads, one program a backend. Any other passes untouched,
 * for the stack to forward or drop as it would with no program there: an
 * ipip device sees only packets delivered to its host, so stripping the
 * header of a packet addressed elsewhere would hand the stack an inner
 * packet that no tunnel was meant to carry to it. An address left all
 * zero (the unspecified address, which is no packet's destination) takes
 * no packet of its family.
 *
 * The outer header's ECN field reaches the inner packet as RFC 6040
 * section 4.2 says, so that a router's congestion mark between balancer
 * and backend is not lost (the balancer copies the inner ECN field to the
 * outer header, so the flow stays ECN-capable on the way):
 *
 *   outer CE:      inner ECT(0), ECT(1) or CE becomes CE; an inner Not-ECT
 *                  packet is dropped (its sender cannot hear the mark, and
 *                  dropping is what signals congestion to it);
 *   outer ECT(1):  inner ECT(0) becomes ECT(1);
 *   otherwise:     the inner field stays as it is.
 *
 * (RFC 6040's Figure 4 in full.) An inner IPv4 header's checksum is
 * updated for the change (RFC 1624), so a wrong one stays wrong. An inner
 * header too short to read (IPv4: 20 bytes; IPv6: the 2 that hold the
 * traffic class) is decapsulated unmarked, and the stack drops the cut
 * packet.
 *
 * It needs only the kernel's UAPI headers and libbpf's bpf_helpers.h. Here
 * gen.go adds -Iinclude for the three asm/ headers they reach (see
 * include/asm); elsewhere, -I/usr/include/$(uname -m)-linux-gnu does.
 */
#include <linux/bpf.h>       /* struct xdp_md, XDP_PASS, XDP_DROP */
#include <linux/if_ether.h>  /* ETH_HLEN */
#include <bpf/bpf_helpers.h> /* SEC, bpf_xdp_adjust_head and _tail (libbpf-dev) */

/* The backend's addresses, their bytes as in the packet (network byte
 * order) in 32-bit words. volatile const keeps them in .rodata, which the
 * loader freezes: set them on the CollectionSpec (its Variables) before
 * loading. */
volatile const __u32 local4 = 0;
volatile const __u32 local6[4] = {};

/* ECN codepoints (RFC 3168 section 5). */
#define ECN_NOT_ECT 0
#define ECN_ECT1 1
#define ECN_ECT0 2
#define ECN_CE 3

/*
 * ecn_after returns the inner ECN field that leaves, for an inner field
 * ecn arriving under the outer field outer, or -1 to drop the packet (the
 * comment at the top).
 */
static __always_inline int ecn_after(__u8 outer, __u8 ecn)
{
	if (outer == ECN_CE)
		return ecn == ECN_NOT_ECT ? -1 : ECN_CE;
	if (outer == ECN_ECT1 && ecn == ECN_ECT0)
		return ECN_ECT1;
	return ecn;
}

/*
 * ecn_decap4 and ecn_decap6 apply the outer ECN field outer to the inner
 * IPv4 or IPv6 header at in. They return 0 to go on decapsulating, -1 to
 * drop the packet. They are two functions, each testing its own header's
 * length, so that no path through the program tests the inner family
 * twice. One function testing it before the length check and again
 * before the checksum was refused by Linux 6.1's verifier once the family
 * went through the stack between the tests: it followed a path that took
 * both answers, and found the IPv4 checksum's read behind the IPv6 length
 * check.
 */
static __always_inline int ecn_decap4(__u8 outer, __u8 *in, void *data_end)
{
	if (outer != ECN_CE && outer != ECN_ECT1)
		return 0; /* Not-ECT and ECT(0) carry nothing to the inner packet */
	if ((void *)(in + 20) > data_end)
		return 0;
	__u8 ecn = in[1] & 3;
	int to = ecn_after(outer, ecn);
	if (to < 0)
		return -1;
	if (to == ecn)
		return 0;
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word changed. */
	__u32 old = (__u32)in[0] << 8 | in[1];
	in[1] = (in[1] & 0xfc) | to;
	__u32 sum = (~((__u32)in[10] << 8 | in[11]) & 0xffff) + (~old & 0xffff) + ((__u32)in[0] << 8 | in[1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	in[10] = sum >> 8;
	in[11] = sum;
	return 0;
}

static __always_inline int ecn_decap6(__u8 outer, __u8 *in, void *data_end)
{
	if (outer != ECN_CE && outer != ECN_ECT1)
		return 0;
	if ((void *)(in + 2) > data_end)
		return 0;
	__u8 ecn = in[1] >> 4 & 3;
	int to = ecn_after(outer, ecn);
	if (to < 0)
		return -1;
	if (to != ecn)
		in[1] = (in[1] & 0xcf) | to << 4; /* the traffic class's low bits */
	return 0;
}

/* word reads the 4 bytes at p, in the order they are in. */
static __always_inline __u32 word(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, 4);
	return v;
}

/* to_local4 and to_local6 report whether the destination address at dst
 * is this backend's of the family, which must be set (not all zero). */
static __always_inline int to_local4(const __u8 *dst)
{
	__u32 a = local4;

	return a && word(dst) == a;
}

static __always_inline int to_local6(const __u8 *dst)
{
	__u32 a = local6[0], b = local6[1], c = local6[2], d = local6[3];

	return (a | b | c | d) && word(dst) == a && word(dst + 4) == b &&
	       word(dst + 8) == c && word(dst + 12) == d;
}

/* ip4_csum_ok reports whether the 20-byte IPv4 header at ip sums to
 * 0xffff, its checksum included (RFC 1071). */
static __always_inline int ip4_csum_ok(const __u8 *ip)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 20; i += 2)
		sum += (__u32)ip[i] << 8 | ip[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u8 macs[12];
	__u8 *in; /* the inner header */
	__u32 hl, len, have;
	__u8 nh, ecn;

	if ((void *)(eth + ETH_HLEN + 40) > data_end)
		return XDP_PASS; /* too short to hold an outer and an inner header */
	__u8 *ip = eth + ETH_HLEN;
	if (eth[12] == 0x08 && eth[13] == 0x00) {
		if (ip[0] != 0x45)
			return XDP_PASS; /* options: not ours */
		if ((ip[6] & 0x3f) || ip[7])
			return XDP_PASS; /* a fragment: the stack reassembles */
		nh = ip[9];
		if (nh != 4 && nh != 41)
			return XDP_PASS;
		if (!to_local4(ip + 16))
			return XDP_PASS; /* not ours: the stack forwards or drops it */
		if (!ip4_csum_ok(ip))
			return XDP_PASS; /* a bad checksum: the stack drops it */
		len = (__u32)ip[2] << 8 | ip[3];
		if (len < 20)
			return XDP_PASS; /* shorter than its header: the stack drops it */
		hl = 20;
		ecn = ip[1] & 3;
	} else if (eth[12] == 0x86 && eth[13] == 0xdd) {
		if ((ip[0] >> 4) != 6)
			return XDP_PASS; /* not IPv6: the stack drops it */
		nh = ip[6];
		if (nh != 4 && nh != 41)
			return XDP_PASS;
		if (!to_local6(ip + 24))
			return XDP_PASS; /* not ours */
		len = 40 + ((__u32)ip[4] << 8 | ip[5]);
		hl = 40;
		ecn = ip[1] >> 4 & 3;
	} else {
		return XDP_PASS;
	}
	/* Packet pointers subtracted: the verifier allows it with CAP_PERFMON
	 * (or root), which the balancer's kernel needs as well. */
	have = (__u32)(data_end - (void *)ip);
	if (len > have)
		return XDP_PASS; /* cut short: the stack drops it */
	if (len < have) {
		/* Padding after the outer packet: cut it, as the stack would. */
		if (bpf_xdp_adjust_tail(ctx, -(int)(have - len)))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		eth = data;
		if ((void *)(eth + ETH_HLEN) > data_end)
			return XDP_DROP;
	}
	in = eth + ETH_HLEN + hl;
	if (nh == 4 ? ecn_decap4(ecn, in, data_end) : ecn_decap6(ecn, in, data_end))
		return XDP_DROP; /* CE on a packet that is not ECN-capable */
	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, (int)hl))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + ETH_HLEN) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth, macs, 12);
	eth[12] = nh == 4 ? 0x08 : 0x86;
	eth[13] = nh == 4 ? 0x00 : 0xdd;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
