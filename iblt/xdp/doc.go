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
// encrypted payloads). IPv6 packets and IPv4 stacks that send ID 0 are thus
// still told apart. Packets with equal flow and identifier (later fragments
// of one datagram after the first, byte-identical duplicates) are twins:
// they cancel in the key sum, so losing one twin lists it, and losing two
// leaves the listing incomplete (an error), never a wrong packet. On the
// shared captures 0 to 52 packets per capture are twins.
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
