// Package xdp is the XDP layer-4 load balancer of package maglev, and its
// Go control plane and model.
//
// The kernel (maglev.bpf.c) parses every frame with the shared parser.
// A packet whose flow-key destination matches a VIP (exact address, port
// and protocol; else the address with port 0; else the catch-all VIP:
// each a hash-map lookup, made only when some VIP of that kind exists, as
// a bitmap the loader keeps says) is hashed with xxHash64 of its flow key and the seed ([flow.Key.Hash]); the
// hash picks entry ((h>>32) * M) >> 32 of the VIP's Maglev table, exactly
// [maglev.Table.Pick]; the entry names a backend slot. The packet is then
// encapsulated for the backend: an outer IPv4 header (protocol 4 for an
// IPv4 packet, 41 for IPv6) to an IPv4 backend, or an outer IPv6 header
// (next header 4 or 41, flow label from the flow hash) to an IPv6 backend,
// with the configured MACs, and sent back out with XDP_TX. The backend
// decapsulates and answers the client directly (direct server return).
// Counters per outcome and per backend (packets, bytes) are per CPU.
//
// Outer headers copy the inner DSCP and ECN bits (the IPv4 type of
// service or the IPv6 traffic class: RFC 2003 section 3.1, RFC 6040), so
// a packet keeps its class and its ECN capability on the way to the
// backend. A router on the way marks congestion on the outer header; the
// backend's decapsulator must hand the mark on to the inner packet (RFC
// 6040 section 4.2), as Linux's tunnel devices and the decapsulating XDP
// program of examples/l4lb do.
//
// Outer IPv4 header: DF is copied from an inner IPv4 header (RFC 2003
// section 3.1) and set for an inner IPv6 packet, which routers never
// fragment (RFC 8200 section 5). With DF set the identification is 0 (an
// atomic datagram, RFC 6864); with DF clear it is inner ID + bits 16-31
// of the flow hash (a later fragment's is its datagram's, see Fragments)
// + inner fragment offset * 0x9e37 (mod 2^16): the inner
// sender already varies its ID per packet, the hash spreads the flows
// that share the outer addresses, and the offset term separates the
// fragments of one inner datagram. Kernel and model compute it alike (a
// per-CPU counter could not be checked against the model). An outer IPv6
// header has no DF or ID: IPv6 routers never fragment. The kernel does
// not fragment either (it drops packets above Options.MTU), and a router's
// too-big error for an outer packet goes to the balancer, not the client,
// so set Options.MTU to the path MTU towards the backends.
//
// Outer sources: [LB.SetVIP] refuses backends whose family has no outer
// source in the [Config] ([ErrNoSource]), so call [LB.SetConfig] first,
// and SetConfig refuses to drop a source in use. The kernel drops and
// counts (DropNoSource) any packet it would send from an all-zero source.
//
// Fragments: a later IP fragment (non-zero offset) has no transport
// header, so its flow key has zero ports ([flow.LaterFragment]): alone it
// would miss an exact VIP or hash to another backend than its datagram's
// first fragment, and no backend could reassemble the datagram. A first
// fragment sent to a backend therefore records its ports and protocol in
// an LRU hash map (Options.Frags entries, default [DefaultFrags]), keyed
// by source, destination, protocol and identification (the IPv4 ID, or
// the IPv6 fragment header's; IPv6 keys leave the protocol out, as RFC
// 8200 section 4.5 reassembles by addresses and identification only). A
// later fragment looks its datagram up and, found, is handled as the
// first fragment's 5-tuple: same VIP, hash, backend and connection
// tracking ([Counters].FragHit), unless the VIPs or their tables changed
// between the two fragments: it is balanced as a packet of that 5-tuple
// would be now. Not found (its first fragment was lost,
// went to the stack, arrives later, or was forgotten) it passes to the
// stack ([Counters].PassFragMiss), as does all of a datagram that is no
// VIP's, so the stack reassembles traffic for the host itself. A first
// fragment that is not sent (no VIP's, or dropped; but for a VLAN-tagged
// one, which passes untouched, as every tagged frame does) deletes its
// datagram's entry, so an entry left by an earlier datagram with the same
// identification (IPv4's 16 bits wrap) cannot send its later fragments to
// that datagram's backend; so does a first fragment that does not parse
// (cut inside its transport header, a tiny fragment) and passes, if its
// IPv4 header, or an IPv6 fragment header right after its IPv6 header,
// shows it (an IPv6 fragment header after other extension headers is
// not looked for there). Otherwise the LRU map forgets the oldest
// datagrams when full, so size it for the fragmented datagrams in flight
// at once. (Roughly the oldest: the kernel's LRU keeps each CPU's newest
// entries on a list of that CPU's, evicted only once that CPU inserts
// again, so an entry a CPU added just before it fell idle can outlive
// newer ones.) Only
// fragments pay the lookup; other packets take no extra map access.
// (Maglev itself, section 4.3 of the paper, hashes fragments by 3-tuple
// and redirects them to one Maglev, a hop this balancer does not have.)
// The model's fragment table never forgets ([Model]).
//
// ICMP errors: backends answer clients directly, from the VIP, so a
// router's error about one of their replies reaches the balancer,
// addressed to the VIP: above all "fragmentation needed" and "packet too
// big", which the sending backend needs to lower its path MTU (RFC 1191,
// RFC 8201). An ICMP error (IPv4 types 3, 11 and 12; ICMPv6 types 1 to 4)
// that is not fragmented and quotes a TCP or UDP packet sent from the
// error's own destination is balanced as a packet of the quoted flow in
// the client's direction, if that flow has a VIP: same hash, backend and
// connection tracking, so it reaches the backend that sent the quoted
// packet ([Counters].ICMPQuote). The quoted IP header (IPv4 options
// allowed, not a later fragment; IPv6 with TCP or UDP right after the
// fixed header) and its ports must lie inside the frame and the outer
// packet's stated length. Any other ICMP packet is balanced by its own
// flow key.
//
// Verdicts: XDP_PASS for frames that do not parse, VLAN-tagged frames
// (not balanced), non-VIP traffic and later fragments of unknown
// datagrams; XDP_DROP for a VIP without backend,
// for packets whose outer packet would exceed Options.MTU and for those
// without an outer source address; XDP_TX otherwise. [Model] is the same
// logic in Go, and the tests require kernel and model to send identical
// bytes for every fixture and every packet of the shared captures.
//
// Tables: one BPF array of M u32 per VIP, held in an array of maps. [LB.SetVIP]
// builds the [maglev.Table], writes a fresh inner map and swaps it in with
// one map update, so no packet ever sees a half-written table. Entries
// name backend slots, one per backend of each VIP (a backend serving
// three VIPs has three, up to [MaxMembers] in all, over at most
// [MaxBackends] addresses, whose statistics the slots share). New slots
// are written before the swap; slots of backends that left the VIP are
// freed after it. A slot's 16-bit generation is even while it has a member
// and odd once freed, and changes each time the slot is given out or
// freed. Freeing rewrites the generation only: the slot keeps the address
// of the backend that left, and the loader hands out the slot freed
// longest ago first, so it is rewritten for a new member as late as
// possible.
//
// Updates racing packets: a map update from user space is a plain copy,
// not atomic, so a packet on another CPU may read a slot while it is
// written. The kernel reads its slot once, before any check, and sends to
// the address of that read. A packet that finds a slot being freed sees
// the member that left, whole, with its old or its new generation (only
// one byte of the slot changes), and goes to that member or, if it came
// by connection tracking and sees the new generation, to the VIP's table.
// A packet that reaches a freed slot through the table it read before the
// swap goes to the member that left, and its flow is not tracked to the
// slot. No packet is still on a slot when it is given to a new member:
// before rewriting a slot freed since its last wait, the loader waits for
// the program runs in progress to end (an update of a map of maps from
// user space returns after an RCU grace period), one wait for all the
// slots freed before it. The [Config] is kept twice (maglev_config, two
// entries, and maglev_config_cur, the one in use): [LB.SetConfig] writes
// the entry not in use and then switches, so a packet sends with one whole
// Config, never the old next hop's MAC partly rewritten; before rewriting
// an entry that was in use, it waits as for slots.
//
// Connection tracking (Options.ConnTrack, Maglev section 3.3): an LRU hash
// from flow key to backend slot and generation, filled on a flow's first
// packet and consulted first, keeps established flows on their backend
// across table changes for as long as the backend stays in that VIP's
// table (weight 0 drains it: no new flows, tracked ones stay). A flow
// whose backend left its VIP, even if other VIPs still use it, goes back
// to the VIP's table like any untracked flow; flows of other backends and
// other VIPs stay put. A backend that leaves and comes back is new. A
// tracked flow that a VIP added since (a more specific one) now matches
// is that VIP's: it goes to that VIP's table and is tracked anew.
//
// Requirements: Linux 5.18 or newer (global BPF functions) and BPF
// privileges: root, or CAP_BPF, CAP_PERFMON (without it the verifier
// refuses the parser's packet-pointer arithmetic) and CAP_NET_ADMIN
// (without it the kernel loads no XDP program, and it is also what
// attaching to an interface takes).
// Elsewhere [Load] returns an error matching ebpf.ErrNotSupported. The
// VIPs' tables live in an array of maps, which on 32-bit kernels gives a
// program slot 2i's map when it asks for slot i (Debian 12's 32-bit x86
// kernel does): Load finds out which the kernel does, and there stores
// the tables at every other slot.
package xdp
