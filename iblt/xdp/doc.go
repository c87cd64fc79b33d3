// Package xdp is the reference kernel of package iblt: an XDP packet
// digest for loss detection. Every packet the parser accepts is inserted
// into an invertible Bloom lookup table held in a BPF map, in exactly the
// layout of [iblt.Table], keyed by [PacketKey] (the flow key and a
// per-packet identifier, 48 bytes) with the frame length as value; every
// packet is passed (XDP_PASS). Two digests of the same traffic taken at
// two points are read back with [Kernel.Table], and [Lost] subtracts them
// and lists the packets seen upstream but not downstream.
//
// The per-packet identifier ([PacketID]) is 64 bits: the IPv4
// identification (IPv6 has none outside a fragment header: the low bits of
// the fragment identification, else 0), the transport checksum, and a
// protocol field: the TCP sequence number, the ICMP echo identifier and
// sequence, or for UDP the last four bytes of the packet (tag bytes of
// encrypted payloads). Other protocols (ESP, GRE, SCTP, ...) and later
// fragments of a datagram (no transport header) have only the IP
// identification: over IPv6, and over IPv4 from stacks that send ID 0,
// every packet of such a flow gets the same identifier.
//
// Packets with equal flow and identifier are twins: they cancel in pairs
// in the key sum. Losing one twin of a group still lists it; losing two or
// more of one group leaves the listing incomplete (an error wrapping
// [iblt.ErrDecodeIncomplete]), and [Lost] cannot name them or their flow.
// With loss only, the packets listed beside that error are exact; when
// the downstream point also saw extra packets, a twin residue can make an
// extra packet be listed as lost with a wrong byte count. On the shared
// captures, 0 to 52 packets per main capture are twins (byte-identical
// retransmissions, repeated ICMPv6), but in the robustness set whole
// flows are: ipv6-esp 120 of 121 packets (ESP over IPv6), gre-in-gre 314
// of 628 and gre-sample 40 of 40 (GRE), ipv4-fragments-mixed 1,808 of
// 3,000 and ipv4-fragments-dns 389 of 495 (later fragments, and SCTP).
// Two lost packets of such a flow can never be listed.
//
// Maps: iblt_cells, a per-CPU array of cells (default: no atomics, no
// cache-line sharing; the loader merges the CPUs' tables with
// [iblt.Table.Merge], which is exact because the table is linear);
// iblt_shared_cells, one table for all CPUs updated with atomic add and
// XOR, when [Options.Shared] is set; iblt_stats, per-CPU packet counts by
// parse outcome. Sizes and seeds are load-time constants set from
// [Options].
//
// Loading needs Linux with BPF privileges and, for the shared table, atomic
// XOR (Linux 5.12); elsewhere [Load] returns an error matching
// [ebpf.ErrNotSupported].
package xdp
