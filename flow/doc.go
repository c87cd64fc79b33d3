// Package flow holds the contract that every structure of this module and
// every reference kernel share: the flow [Key] and its canonical bytes, the
// seeded hash [Hash64] (xxHash64), the index derivations [Index] and
// [BitIndex] that turn one hash into k table or bit-array indexes, and an
// allocation-free parser from frames to keys ([Parse], [ParseIP]) that
// accepts and rejects exactly what the C parser in
// internal/bpf/include/parsing.h does.
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
//     protocol as the key's protocol, and the offset in bytes in
//     [Info.FragOffset].
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
//
// # Index derivation
//
// Structures that need k indexes per key in k separate tables or regions
// (count-min rows, IBLT and FlowRadar sub-tables) derive them all from the
// key's one 64-bit hash h with [Index]:
//
//	index_i = Reduce(Mix(h, i), m)        for i = 0, 1, ..., k-1
//
// Mix(h, i) is the (i+1)-th output of a splitmix64 generator whose state
// starts at h: the state h + (i+1)*0x9E3779B97F4A7C15 through the splitmix64
// finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014). Every index goes through its own full mixing
// step, so two keys that collide in one index are no likelier than any
// other pair to collide in another. An arithmetic progression
// h1 + i*h2 does not have that property: two keys with equal (h1, h2)
// modulo the table size share every cell, which in partitioned tables
// (IBLT, FlowRadar) makes some sets undecodable whatever the table size.
//
// Reduce maps the high 32 bits of x into [0, m) by multiplication
// (Lemire, "Fast random integer generation in an interval", 2019), which
// costs one multiply, avoids the modulo's bias toward small indexes and is
// computed identically by the kernels (dp_reduce() and dp_index() in
// hash.h). m is at most 2^32 - 1, so a structure holds at most 2^32 - 1
// cells per row.
//
// A blocked Bloom filter (bloom.Blocked) uses neither derivation for its
// bits: its block is Reduce(h, blocks) and its k bits in the block are the
// 9-bit fields of Mix(h, 0), Mix(h, 1), ..., seven per mix.
//
// # Bit-array derivation
//
// A structure whose k indexes all address one array, so that a collision
// costs accuracy but never decodability (a classic or counting Bloom
// filter), takes them with [BitIndex], by triple hashing (Dillinger and
// Manolios, "Bloom filters in probabilistic verification",
// FMCAD 2004), from three 32-bit values:
//
//	a, b = h>>32, h mod 2^32;  c = Mix(h, 0)>>32
//	g_i = a + i*b + i(i-1)/2 * c    (mod 2^32)
//	index_i = (g_i * m) >> 32       for i = 0, 1, ..., k-1
//
// g_i is scaled into [0, m) as by Reduce. A loop keeps g and the step
// d = b + i*c, and advances them with two additions per index
// (g += d; d += c). With the quadratic term, two indexes of a key coincide
// with probability 1/m whatever a and b are, as independent indexes do;
// plain double hashing (a + i*b, Kirsch and Mitzenmacher, ESA 2006) lacks
// that when b/2^32 is near a fraction with a small denominator, and
// measurably raises the false-positive rate of small filters (by half at
// 0.1% and 50 keys, against 3% with triple hashing). Two keys share all k
// bits only when a, b and c all nearly agree. It costs two additions and
// a multiplication per index and one splitmix64 step per key, where the
// index derivation costs a splitmix64 step per index; in the kernels this
// makes a classic Bloom lookup about a third cheaper.
//
// A polynomial in i is what partitioned tables must not use (see Index):
// there, keys whose (a, b, c) agree modulo the table size share every
// cell. A Bloom filter has no such failure: such a pair costs one false
// positive.
package flow
