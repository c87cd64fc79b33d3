package flow

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
)

// Canonical key sizes in bytes; see [Key] for the layout.
const (
	KeyLen4   = 13 // IPv4: src(4) dst(4) sport(2) dport(2) proto(1)
	KeyLen6   = 37 // IPv6: src(16) dst(16) sport(2) dport(2) proto(1)
	MaxKeyLen = KeyLen6
)

// IP protocol numbers used by the parser.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// Key is a flow's 5-tuple held in its canonical bytes, the bytes that the
// hash, every structure of this module and every reference kernel see:
//
//	IPv4: src(4) dst(4) sport(2) dport(2) proto(1)    13 bytes
//	IPv6: src(16) dst(16) sport(2) dport(2) proto(1)  37 bytes
//
// Addresses and ports are in network byte order. Protocols without ports
// (ICMP, GRE, ESP, non-first fragments, ...) have zero ports. The layout is
// part of the API: changing it would break every kernel map written with it.
//
// Key is a small comparable value: it can be copied, compared with == and
// used as a map key. The zero Key is not valid (see [Key.IsValid]); its
// canonical bytes are empty. [Key.Bytes] and [Key.Hash], which run on
// every packet, take a pointer rather than a copy of the 38 bytes, so
// they need an addressable Key: k := f(); k.Hash(seed), not f().Hash(seed).
type Key struct {
	b [MaxKeyLen]byte
	n uint8
}

// KeyFrom4 returns the IPv4 key for the given addresses, ports and protocol.
func KeyFrom4(src, dst [4]byte, sport, dport uint16, proto uint8) Key {
	var k Key
	copy(k.b[0:4], src[:])
	copy(k.b[4:8], dst[:])
	binary.BigEndian.PutUint16(k.b[8:], sport)
	binary.BigEndian.PutUint16(k.b[10:], dport)
	k.b[12] = proto
	k.n = KeyLen4
	return k
}

// KeyFrom16 returns the IPv6 key for the given addresses, ports and protocol.
func KeyFrom16(src, dst [16]byte, sport, dport uint16, proto uint8) Key {
	var k Key
	copy(k.b[0:16], src[:])
	copy(k.b[16:32], dst[:])
	binary.BigEndian.PutUint16(k.b[32:], sport)
	binary.BigEndian.PutUint16(k.b[34:], dport)
	k.b[36] = proto
	k.n = KeyLen6
	return k
}

// KeyFrom returns the key for two addresses of the same family. When both
// addresses are IPv4 or IPv4 mapped into IPv6 (::ffff:a.b.c.d), the key is
// an IPv4 key: a dual-stack socket reports IPv4 peers in the mapped form,
// and the wire carries them in IPv4 headers. When either is a plain IPv6
// address, the key is an IPv6 key and a mapped address stays as it is, as
// in an IPv6 header that carries one. So KeyFrom(k.Src(), k.Dst(), ...)
// gives back every key k that [Parse] returns but one kind: an IPv6 packet
// whose two addresses are both mapped, which KeyFrom keys as IPv4 (use
// [KeyFrom16] for it). An IPv6 zone (fe80::1%eth0) is not part of a
// packet's header and is left out of the key. It returns an error when an
// address is invalid or an IPv4 address is paired with an IPv6 one.
func KeyFrom(src, dst netip.Addr, sport, dport uint16, proto uint8) (Key, error) {
	switch {
	case !src.IsValid() || !dst.IsValid():
		return Key{}, fmt.Errorf("flow: key needs two valid addresses, got %v and %v", src, dst)
	case src.Unmap().Is4() && dst.Unmap().Is4():
		return KeyFrom4(src.Unmap().As4(), dst.Unmap().As4(), sport, dport, proto), nil
	case src.Is6() && dst.Is6():
		return KeyFrom16(src.As16(), dst.As16(), sport, dport, proto), nil
	}
	return Key{}, fmt.Errorf("flow: key needs addresses of one family, got %v and %v", src, dst)
}

// MustKey is like [KeyFrom] with the addresses as text (an IP address
// without a port, as [netip.ParseAddr] reads it), but panics on error. It
// is meant for tests and literals.
func MustKey(src, dst string, sport, dport uint16, proto uint8) Key {
	s, err := netip.ParseAddr(src)
	if err != nil {
		panic(fmt.Errorf("flow: MustKey: source address: %w", err))
	}
	d, err := netip.ParseAddr(dst)
	if err != nil {
		panic(fmt.Errorf("flow: MustKey: destination address: %w", err))
	}
	k, err := KeyFrom(s, d, sport, dport, proto)
	if err != nil {
		panic(err)
	}
	return k
}

// KeyFromBytes returns the key whose canonical bytes are b, which must be
// 13 or 37 bytes long. It is the inverse of [Key.Bytes].
func KeyFromBytes(b []byte) (Key, error) {
	var k Key
	if len(b) != KeyLen4 && len(b) != KeyLen6 {
		return k, fmt.Errorf("flow: canonical key must be %d or %d bytes, got %d", KeyLen4, KeyLen6, len(b))
	}
	copy(k.b[:], b)
	k.n = uint8(len(b))
	return k, nil
}

// PaddedLen is the length of a key's fixed-width form, [Key.Padded].
const PaddedLen = 40

// Padded returns k in a fixed width for structures that need one key
// length for IPv4 and IPv6 flows alike (an iblt Table, Encoder or
// Decoder, FlowRadar's FlowXOR): the canonical bytes at offset 0, zeros
// up to offset 39, and the length (13 or 37) at offset 39. The zero Key
// pads to 40 zero bytes. [KeyFromPadded] is the inverse.
func (k Key) Padded() [PaddedLen]byte {
	var p [PaddedLen]byte
	copy(p[:], k.b[:])
	p[PaddedLen-1] = k.n
	return p
}

// KeyFromPadded returns the key whose padded form ([Key.Padded]) is b: 40
// bytes, a length byte of 13 or 37 at offset 39 and zeros between the key
// and it. Anything else is an error saying which rule b breaks, so that
// bytes from a corrupt or foreign source are never taken for a flow.
func KeyFromPadded(b []byte) (Key, error) {
	if len(b) != PaddedLen {
		return Key{}, fmt.Errorf("flow: padded key must be %d bytes, got %d", PaddedLen, len(b))
	}
	n := int(b[PaddedLen-1])
	if n != KeyLen4 && n != KeyLen6 {
		return Key{}, fmt.Errorf("flow: padded key's length byte must be %d or %d, got %d", KeyLen4, KeyLen6, n)
	}
	for i, c := range b[n : PaddedLen-1] {
		if c != 0 {
			return Key{}, fmt.Errorf("flow: padded key of length %d must be zero from byte %d to %d, byte %d is %#02x", n, n, PaddedLen-2, n+i, c)
		}
	}
	return KeyFromBytes(b[:n])
}

// IsValid reports whether k holds a flow (the zero Key does not).
func (k Key) IsValid() bool { return k.n == KeyLen4 || k.n == KeyLen6 }

// Is4 reports whether k is an IPv4 flow.
func (k Key) Is4() bool { return k.n == KeyLen4 }

// Is6 reports whether k is an IPv6 flow.
func (k Key) Is6() bool { return k.n == KeyLen6 }

// Len returns the length of the canonical bytes: 13, 37, or 0 for the zero Key.
func (k Key) Len() int { return int(k.n) }

// Bytes returns the canonical bytes. The slice aliases k: it is valid as
// long as k is, and must not be modified.
func (k *Key) Bytes() []byte { return k.b[:k.n] }

// AppendBytes appends the canonical bytes of k to dst.
func (k Key) AppendBytes(dst []byte) []byte { return append(dst, k.b[:k.n]...) }

// Array returns the canonical bytes zero-padded to 37 bytes, and their
// length. The kernels' struct flow_key (internal/bpf/include/flow.h) holds
// the same bytes in a 48-byte value: 40 bytes zero padded, then the length.
func (k Key) Array() ([MaxKeyLen]byte, int) { return k.b, int(k.n) }

func (k Key) addrLen() int {
	if k.n == KeyLen6 {
		return 16
	}
	return 4
}

// Src returns the source address (the zero Addr for the zero Key).
func (k Key) Src() netip.Addr {
	switch k.n {
	case KeyLen4:
		return netip.AddrFrom4([4]byte(k.b[0:4]))
	case KeyLen6:
		return netip.AddrFrom16([16]byte(k.b[0:16]))
	}
	return netip.Addr{}
}

// Dst returns the destination address (the zero Addr for the zero Key).
func (k Key) Dst() netip.Addr {
	switch k.n {
	case KeyLen4:
		return netip.AddrFrom4([4]byte(k.b[4:8]))
	case KeyLen6:
		return netip.AddrFrom16([16]byte(k.b[16:32]))
	}
	return netip.Addr{}
}

// SrcPort returns the source port (zero for protocols without ports).
func (k Key) SrcPort() uint16 {
	if !k.IsValid() {
		return 0
	}
	return binary.BigEndian.Uint16(k.b[2*k.addrLen():])
}

// DstPort returns the destination port (zero for protocols without ports).
func (k Key) DstPort() uint16 {
	if !k.IsValid() {
		return 0
	}
	return binary.BigEndian.Uint16(k.b[2*k.addrLen()+2:])
}

// Proto returns the IP protocol number (for IPv6, the upper-layer protocol
// after the extension headers; for a later fragment, the fragment header's
// next header as it stands, which may be an extension header).
func (k Key) Proto() uint8 {
	if !k.IsValid() {
		return 0
	}
	return k.b[k.n-1]
}

// SrcAddrPort returns the source address and port.
func (k Key) SrcAddrPort() netip.AddrPort { return netip.AddrPortFrom(k.Src(), k.SrcPort()) }

// DstAddrPort returns the destination address and port.
func (k Key) DstAddrPort() netip.AddrPort { return netip.AddrPortFrom(k.Dst(), k.DstPort()) }

// Reverse returns the key of the opposite direction: addresses and ports
// swapped.
func (k Key) Reverse() Key {
	if !k.IsValid() {
		return k
	}
	a := k.addrLen()
	var r Key
	r.n = k.n
	copy(r.b[0:a], k.b[a:2*a])
	copy(r.b[a:2*a], k.b[0:a])
	copy(r.b[2*a:2*a+2], k.b[2*a+2:2*a+4])
	copy(r.b[2*a+2:2*a+4], k.b[2*a:2*a+2])
	r.b[k.n-1] = k.b[k.n-1]
	return r
}

// Hash returns xxHash64 of the canonical bytes with the given seed: the
// hash every structure of this module and every reference kernel uses.
func (k *Key) Hash(seed uint64) uint64 {
	switch k.n {
	case KeyLen4:
		// Hash64 of 13 bytes, unrolled: one 8-byte round, one 4-byte
		// round, one byte. It is written here rather than in a function
		// of its own, which would be too large for the compiler to
		// inline: every packet of an IPv4 flow saves a call.
		b := &k.b
		h := seed + prime5 + KeyLen4
		h ^= round(0, binary.LittleEndian.Uint64(b[0:8]))
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
		h ^= uint64(binary.LittleEndian.Uint32(b[8:12])) * prime1
		h = bits.RotateLeft64(h, 23)*prime2 + prime3
		h ^= uint64(b[12]) * prime5
		h = bits.RotateLeft64(h, 11) * prime1
		return avalanche(h)
	case KeyLen6:
		return hash37(&k.b, seed)
	}
	return Hash64(k.b[:k.n], seed)
}

// String returns the key in a readable form, such as
// "10.0.0.1:5353 > 10.0.0.2:53 udp" or "[2001:db8::1]:443 > [2001:db8::2]:51000 tcp".
func (k Key) String() string {
	if !k.IsValid() {
		return "invalid flow"
	}
	return k.SrcAddrPort().String() + " > " + k.DstAddrPort().String() + " " + ProtoName(k.Proto())
}

// ProtoName returns a short lowercase name for common IP protocols and
// "proto-N" for any other protocol number N.
func ProtoName(p uint8) string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMPv6:
		return "icmpv6"
	case 4:
		return "ipip"
	case 41:
		return "ipv6"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 132:
		return "sctp"
	}
	return "proto-" + strconv.Itoa(int(p))
}
