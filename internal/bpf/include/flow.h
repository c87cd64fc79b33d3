/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow key shared with package flow (flow/key.go): the canonical bytes
 * of the 5-tuple, addresses and ports in network byte order.
 *   IPv4: src(4) dst(4) sport(2) dport(2) proto(1)    13 bytes
 *   IPv6: src(16) dst(16) sport(2) dport(2) proto(1)  37 bytes
 * In maps the key is this fixed 48-byte struct, zero padded, so two equal
 * flows are equal as map keys.
 */
#ifndef DATAPLANE_FLOW_H
#define DATAPLANE_FLOW_H

#include "types.h"
#include "compiler.h"
#include "hash.h"

#define FLOW_KEY_LEN4 13 /* flow.KeyLen4 */
#define FLOW_KEY_LEN6 37 /* flow.KeyLen6 */

struct flow_key {
	__u8 bytes[40]; /* canonical bytes, zero padded */
	__u8 len;	/* FLOW_KEY_LEN4 or FLOW_KEY_LEN6 */
	__u8 pad[7];
} __attribute__((aligned(8)));

/* dp_flow_hash is (*flow.Key).Hash: xxHash64 of the canonical bytes. */
static __always_inline __u64 dp_flow_hash(const struct flow_key *k, __u64 seed)
{
	if (k->len == FLOW_KEY_LEN6)
		return dp_xxh64(k->bytes, FLOW_KEY_LEN6, seed);
	return dp_xxh64(k->bytes, FLOW_KEY_LEN4, seed);
}

#endif
