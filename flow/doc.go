// Package flow holds the contract that every structure of this module and
// every reference kernel share: the flow [Key] and its canonical bytes, the
// seeded hash [Hash64] (xxHash64), the index derivation [Index] that turns
// one hash into k table indexes, and an allocation-free parser from frames
// to keys ([Parse], [ParseIP]) that accepts and rejects exactly what the C
// parser in internal/bpf/include/parsing.h does.
//
// # Parsing rules
//
// Go and the kernels follow these rules to the letter; the kernel tests
// replay every packet of the shared captures through both and allow no
// mismatch.
//
//   - Ethernet: at least 14 bytes. Up to [MaxVLANTags] (8) 802.1Q, 802.1ad
//     or 0x9100 tags are skipped (a ninth is malformed). EtherType 0x0800
//     is IPv4 and 0x86DD IPv6; anything else (ARP, MPLS, 802.3 length
//     fields with LLC) is not IP.
//   - IPv4: version 4, IHL at least 5, total length at least the header
//     length, and the whole header (options included) present. The packet
//     ends at the total length or at the end of the frame, whichever comes
//     first; Ethernet padding is never parsed. A non-zero fragment offset
//     makes a later fragment: no transport header, zero ports, the IP
//     protocol as the key's protocol.
//   - IPv6: version 6 and the 40-byte header present. The packet ends at the
//     payload length (zero means "to the end of the frame") or the end of the
//     frame. Up to [MaxExtHeaders] (8) extension headers are walked:
//     hop-by-hop (0), routing (43), destination options (60), fragment (44)
//     and authentication (51); a ninth is malformed. A fragment header with a
//     non-zero offset makes a later fragment as for IPv4, whose protocol is
//     the fragment header's next header as it stands (it may be one of
//     these). Otherwise the key's protocol is the first header that is not
//     one of these.
//   - Transport: TCP needs its 20-byte header (data offset at least 5), UDP
//     its 8 bytes, ICMP 8 bytes and ICMPv6 4 bytes, all inside the packet.
//     TCP and UDP give the ports; every other protocol has zero ports.
//   - Outer headers only: tunnels (IP-in-IP, GRE, VXLAN, ...) are keyed by
//     their outer header.
//
// A frame that breaks a rule gets an error matching exactly one of
// [ErrTruncated], [ErrNotIP] and [ErrMalformed] with [errors.Is]; the
// kernels count the same three outcomes.
package flow
