// Package xdp is the reference kernel of package iblt: an XDP packet
// digest for loss detection. Every packet the parser accepts is inserted
// into an invertible Bloom lookup table held in a BPF map, in exactly the
// layout of [iblt.Table], keyed by [PacketKey] (the flow key and a
// per-packet identifier, 48 bytes) with the frame length as value; every
// packet is passed (XDP_PASS). Two digests of the same traffic taken at
// two points are read back with [Kernel.Flip] (or [Kernel.Table] from a
// quiet kernel), and [Lost] subtracts them and lists the packets seen
// upstream but not downstream.
//
// The per-packet identifier ([PacketID]) is 64 bits: the IPv4
// identification (IPv6 has none outside a fragment header: the low bits of
// the fragment identification, else 0) and fields of the transport header
// that change from packet to packet: the TCP sequence number and, folded
// into 16 bits, the acknowledgment number, flags and window, and over IPv6
// the TCP options (SACK blocks and timestamps, which tell duplicate ACKs
// apart; not a SYN's, whose MSS a router may clamp); the ICMP
// checksum, echo identifier and sequence; the first four and the last four
// bytes of a UDP payload (DNS IDs, RTP sequence numbers; tag bytes of
// encrypted payloads); the ESP and AH sequence number and SPI; the SCTP
// first chunk's header and first four value bytes (a DATA chunk's TSN);
// the GRE sequence number, checksum or key, and without a sequence number,
// fields of the inner packet; for later fragments of a datagram (no
// transport header), the fragment offset and the fragment's last four
// bytes. Other protocols (OSPF, PIM, VRRP, ...) have only the IP
// identification: over IPv6, and over IPv4 from stacks that send ID 0,
// every packet of such a flow gets the same identifier. Every field is
// read as a big-endian number: a UDP payload ending in the bytes 00 00 00
// 15 gives ID>>32 == 0x15.
//
// No TCP or UDP checksum and no SCTP CRC32c enters the identifier:
// checksum offload makes them differ between observation points. A host
// that offloads checksums sends them partial (the pseudo-header sum, the
// same for every packet of a flow) or, for SCTP, zero, and XDP on a veth
// sees that, while a point past the NIC or the stack that filled them in
// sees the complete value; an identifier holding them made every packet
// differ between two such digests, and listing failed. An identifier must
// use only fields that no offload rewrites. (ICMP checksums are computed
// in software and are read; see [PacketID] for the inner packets of GRE
// tunnels.) Nor does anything past the end of the IP packet, by its
// length field: Ethernet pads frames to 60 bytes, some devices with
// bytes other than zeros, and each hop pads anew.
//
// XDP sees only the packets an interface receives: a digest attached to
// the sending host's own end of a veth pair sees the replies, not the
// packets the host sends. Each observation point must be an ingress point
// on the path: the receiving end of a veth pair (the host's end for a
// container's traffic), a router's or a middlebox's input interface, the
// receiver's interface.
//
// Packets with equal flow and identifier are twins: they cancel in pairs
// in the key sum. Losing one twin of a group still lists it; losing two or
// more of one group leaves the listing incomplete (an error wrapping
// [iblt.ErrDecodeIncomplete]), and [Lost] cannot name them or their flow.
// With loss only, the packets listed beside that error are exact; when
// the downstream point also saw extra packets, a twin residue can make an
// extra packet be listed as lost with a wrong byte count.
//
// On the shared captures most twins are IP packets repeated byte for
// byte, which no identifier can tell apart: 0 to 52 packets per main
// capture, and in the robustness set 1,433 of 2,996 in ipv4-fragments-mixed
// (it repeats its datagrams), 14 in icmpv6-mix and 9 or fewer elsewhere.
// The other twins are retransmissions that repeat every field read: 12
// ICMPv6 errors in icmpv6-mix that differ only in the packet they quote,
// with equal checksums (26 of 49 with the repeats); DHCPv6 Solicits resent
// with one transaction ID, differing only in their elapsed time (32 more
// in ustc-tfc2016-tinba-malware, 37 of 21,912 with the repeats, and 7 more
// in ndpi-gnutella-p2p, 59); TCP segments resent longer or shorter with
// the same sequence and acknowledgment numbers (10 more in ndpi-alexa-app,
// 40, and 1 more in pcapplusplus-tls2-browsing-ipv6, 10); 6 SCTP
// HEARTBEATs in ipv4-fragments-mixed (1,439 with the repeats), whose first
// chunk value bytes are a parameter header. ESP, GRE and fragmented flows
// have no twins beyond repeats: none in ipv6-esp, gre-in-gre,
// ipv4-fragments-dns and ipv4-fragmented-tcp, 2 of 40 in gre-sample
// (reading only the IP identification there made 120 of 121, 314 of 628,
// 389 of 495, 4 of 5 and 40 of 40 packets twins, and 1,808 in
// ipv4-fragments-mixed). Over IPv6, which has no identification, the
// middle fragments of one datagram (equal in length and, for a datagram
// of zeros, in their last bytes) differ in their offset, and the
// duplicate ACKs that a loss brings about in their SACK blocks or
// timestamps; duplicate ACKs with neither option are twins.
//
// Continuous monitoring: the kernel holds two digests, epochs 0 and 1, and
// writes one. [Kernel.Flip] ends the epoch under traffic and returns its
// table whole: it clears the other epoch, switches the kernel to it, waits
// for the packets that read the old epoch to be written, and reads the old
// epoch. Call Flip at both points each period, at the same time (from two
// goroutines: a Flip takes an RCU grace period, milliseconds to tens of
// them), and pass the two tables to [Lost]. [Kernel.FlipInto] reads the
// ended epoch into a table the caller keeps, and [LostInto] lists into a
// [Loss] the caller keeps, both allocating nothing. Packets
// in flight between the points when the two points flip are in one period's
// table at one point and the next period's at the other. When the
// downstream point flips first (or at the same instant), they are listed as
// lost in the first period and as extra in the next; when the upstream
// point flips first, as extra first and lost next. So a period's listing is
// final only once the next period is known: a packet listed as lost in
// period n and as extra in period n+1 (or the other way round) was in
// flight, not lost. Since the tables are linear, Lost over the
// [iblt.Table.Merge] of periods n and n+1 at each point cancels the packets
// in flight at the flip between them, though not those in flight at the
// window's first and last flips. Size the digests for the lost packets of a
// period plus those in flight at its two flips, and twice that to list
// merged pairs. The statistics ([Kernel.Stats]) are not per epoch: they
// count from the Load or the last [Kernel.Reset], and a period's counts are
// the difference of two readings. With [Options.PinPath] the maps are
// pinned on a BPF file system, and the collector that flips can be a
// process of its own, or one that restarts, taking up the digests, the
// epoch and the statistics as they are.
//
// Maps: iblt_cells, a per-CPU array of cells (default: no atomics, no
// cache-line sharing; the loader adds the CPUs' copies of each cell as
// [iblt.Table.Merge] adds tables, which is exact because the table is
// linear), 64 cells an element (a batch lookup or update costs the kernel
// about as much per element whatever its size, so reading or clearing an
// epoch takes a 64th of the elements it would one cell an element);
// iblt_shared_cells, one table for all CPUs updated with atomic add and
// XOR, one cell an element, when [Options.Shared] is set
// (memory-mappable: the loader reads and clears it through a mapping).
// The cell map in use holds the tables of both epochs: epoch e's cell c
// is cell e*S + c, where S is [Options.Cells] (shared) or Cells rounded up
// to a multiple of 64 (per CPU, so that each epoch starts an element:
// cell n is cell n%64 of element n/64); the other cell map has one
// element. iblt_epoch, one element, the epoch written, which each packet
// reads once (an inlined array lookup and an add); iblt_stats, per-CPU
// packet counts by parse outcome. Sizes and seeds are load-time constants
// set from [Options].
//
// Loading needs Linux 5.18 or newer (the shared parser's global function
// and bpf_xdp_load_bytes) and BPF privileges: root, or CAP_BPF,
// CAP_PERFMON (without it the verifier refuses the parser's packet-pointer
// arithmetic) and CAP_NET_ADMIN (without it the kernel loads no XDP
// program, and it is also what attaching to an interface takes).
// Elsewhere [Load] returns an error matching [ebpf.ErrNotSupported].
//
// The kernel agrees with [PacketKey], [Digest] and [iblt.Table] on hosts
// of either byte order: it writes the packet identifier into the key
// little-endian and takes the key's words as little-endian numbers, as Go
// does (CI runs the tests that compare the two on an emulated big-endian
// s390x).
package xdp
