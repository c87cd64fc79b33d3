//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * examples/l4lb decap: what an ipip device does on a backend, for kernels
 * built without one. A frame carrying IPv4 or IPv6 inside IPv4 (protocol 4
 * or 41) or inside IPv6 (next header 4 or 41, no extension header) loses
 * its outer header and goes up the stack as the inner packet; anything
 * else passes untouched. An outer IPv4 fragment (MF set or a non-zero
 * offset) also passes untouched: an ipip device decapsulates only after
 * reassembly, and stripping a fragment's header would hand the stack a cut
 * inner packet or, for a later fragment, payload bytes read as a header.
 *
 * It needs only the kernel's UAPI headers and libbpf's bpf_helpers.h. Here
 * gen.go adds -Iinclude for the three asm/ headers they reach (see
 * include/asm); elsewhere, -I/usr/include/$(uname -m)-linux-gnu does.
 */
#include <linux/bpf.h>       /* struct xdp_md, XDP_PASS, XDP_DROP */
#include <linux/if_ether.h>  /* ETH_HLEN */
#include <bpf/bpf_helpers.h> /* SEC, bpf_xdp_adjust_head (libbpf-dev) */

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u8 macs[12];
	__u32 hl;
	__u8 nh;

	if ((void *)(eth + ETH_HLEN + 40) > data_end)
		return XDP_PASS; /* too short to hold an outer and an inner header */
	__u8 *ip = eth + ETH_HLEN;
	if (eth[12] == 0x08 && eth[13] == 0x00) {
		if (ip[0] != 0x45)
			return XDP_PASS; /* options: not ours */
		if ((ip[6] & 0x3f) || ip[7])
			return XDP_PASS; /* a fragment: the stack reassembles */
		nh = ip[9];
		hl = 20;
	} else if (eth[12] == 0x86 && eth[13] == 0xdd) {
		if ((ip[0] >> 4) != 6)
			return XDP_PASS; /* not IPv6: the stack drops it */
		nh = ip[6];
		hl = 40;
	} else {
		return XDP_PASS;
	}
	if (nh != 4 && nh != 41)
		return XDP_PASS;
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
