// Package pkt builds test frames: Ethernet with optional VLAN tags, IPv4
// (options, flags, fragment offset, identification) or IPv6 (extension
// headers), and TCP, UDP, ICMP or ICMPv6, with every length and checksum
// computed, unless a field asks for a wrong value on purpose.
//
// The short forms read like the packet they make:
//
//	pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", payload)
//	pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", pkt.SYN, nil)
//
// and [Frame] describes anything else, layer by layer:
//
//	pkt.Frame{VLANs: []pkt.VLAN{{ID: 10}}, IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), Flags: pkt.MF},
//		UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: data}.Bytes()
//
// Addresses and "addr:port" strings that do not parse make the builders
// panic, and so does a header length that its field cannot hold (more
// than 40 bytes of IPv4 or TCP options, an extension header over its
// length field's reach): set the field to store a wrong value on purpose.
// An IPv4 packet, UDP datagram or IPv6 payload over 65,535 bytes, which
// only a test of over-long frames builds, stores its length modulo
// 65,536. The builders are meant for tests and literals. Nothing here is
// safe for untrusted input, and nothing needs to be.
package pkt

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IP protocol numbers.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// IPv6 extension header types.
const (
	ExtHopByHop = 0
	ExtRouting  = 43
	ExtFragment = 44
	ExtAH       = 51
	ExtDstOpts  = 60
)

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
	URG = 0x20
)

// IPv4 flags (the 3-bit field of the header).
const (
	MF = 0x1 // more fragments
	DF = 0x2 // don't fragment
)

// Default MAC addresses (locally administered) used when a Frame leaves
// them zero.
var (
	DefaultSrcMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	DefaultDstMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

// Frame describes an Ethernet frame layer by layer. Set at most one of IP4
// and IP6, and at most one of TCP, UDP, ICMP and ICMPv6.
type Frame struct {
	SrcMAC, DstMAC [6]byte // zero: DefaultSrcMAC, DefaultDstMAC
	VLANs          []VLAN  // outermost first
	EtherType      uint16  // zero: 0x0800 or 0x86DD from the IP layer; set it for non-IP frames
	IP4            *IPv4
	IP6            *IPv6
	TCP            *TCP
	UDP            *UDP
	ICMP           *ICMP
	ICMPv6         *ICMPv6
	Payload        []byte // after the upper-layer header (or after the IP header when there is none)
	Pad            int    // bytes of Ethernet padding after the IP packet, outside its length
}

// VLAN is one 802.1Q (or 802.1ad) tag.
type VLAN struct {
	TPID uint16 // zero: 0x8100; 0x88A8 for 802.1ad
	ID   uint16 // 12 bits
	PCP  uint8  // priority, 3 bits
	DEI  bool
}

// IPv4 is an IPv4 header. Zero fields get valid values.
type IPv4 struct {
	Src, Dst    netip.Addr
	TOS         uint8
	ID          uint16
	TTL         uint8  // zero: 64
	Flags       uint8  // MF, DF
	FragOffset  uint16 // in 8-byte units
	Options     []byte // zero-padded to a multiple of 4 bytes
	Protocol    uint8  // zero: from the upper layer
	IHL         uint8  // zero: computed; set it to make a malformed header
	TotalLength uint16 // zero: computed; set it to make a malformed header
	BadChecksum bool   // store a wrong header checksum
}

// IPv6 is an IPv6 header and its extension headers.
type IPv6 struct {
	Src, Dst      netip.Addr
	TrafficClass  uint8
	FlowLabel     uint32 // 20 bits
	HopLimit      uint8  // zero: 64
	Ext           []Ext  // extension headers in order
	Protocol      uint8  // upper-layer protocol when there is no upper layer; zero: 59 (no next header)
	PayloadLength int    // zero: computed; -1: store 0 (jumbogram style); other: stored as is
}

// Ext is an IPv6 extension header. For a fragment header set FragOffset
// (8-byte units), More and ID; for the others Data, the bytes after the
// next-header and length bytes, is zero-padded to a multiple of 8 bytes
// with them (AH too, as IPv6 requires); for a routing header its first two
// bytes are the routing type and segments left. The builder does not read
// a routing header: upper-layer checksums sum [IPv6.Dst], which RFC 8200
// section 8.1 wants only when no segment is left (otherwise the final
// destination, the routing header's last address).
type Ext struct {
	Type       uint8 // ExtHopByHop, ExtRouting, ExtFragment, ExtAH, ExtDstOpts
	Data       []byte
	FragOffset uint16
	More       bool
	ID         uint32
}

// TCP is a TCP header.
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8
	Window           uint16 // zero: 65535
	Options          []byte // zero-padded to a multiple of 4 bytes
	DataOffset       uint8  // zero: computed; set it to make a malformed header
	BadChecksum      bool
}

// UDP is a UDP header.
type UDP struct {
	SrcPort, DstPort uint16
	NoChecksum       bool   // store 0 (IPv4 only means "no checksum")
	Length           uint16 // zero: computed
	BadChecksum      bool
}

// ICMP is an ICMPv4 header; Rest is the second 32-bit word (identifier and
// sequence number for echo).
type ICMP struct {
	Type, Code  uint8
	Rest        [4]byte
	BadChecksum bool
}

// ICMPv6 is an ICMPv6 header; Rest is the second 32-bit word.
type ICMPv6 struct {
	Type, Code  uint8
	Rest        [4]byte
	BadChecksum bool
}

// Bytes returns the frame.
func (f Frame) Bytes() []byte { return f.AppendTo(nil) }

// AppendTo appends the frame to dst and returns the extended slice.
func (f Frame) AppendTo(dst []byte) []byte {
	if f.IP4 != nil && f.IP6 != nil {
		panic("pkt: a frame has one IP layer, got IPv4 and IPv6")
	}
	src, dstMAC := f.SrcMAC, f.DstMAC
	if src == ([6]byte{}) {
		src = DefaultSrcMAC
	}
	if dstMAC == ([6]byte{}) {
		dstMAC = DefaultDstMAC
	}
	dst = append(dst, dstMAC[:]...)
	dst = append(dst, src[:]...)
	for _, v := range f.VLANs {
		tpid := v.TPID
		if tpid == 0 {
			tpid = 0x8100
		}
		tci := v.ID&0x0fff | uint16(v.PCP&7)<<13
		if v.DEI {
			tci |= 1 << 12
		}
		dst = binary.BigEndian.AppendUint16(dst, tpid)
		dst = binary.BigEndian.AppendUint16(dst, tci)
	}
	et := f.EtherType
	if et == 0 {
		switch {
		case f.IP4 != nil:
			et = 0x0800
		case f.IP6 != nil:
			et = 0x86DD
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, et)
	switch {
	case f.IP4 != nil:
		dst = f.appendIPv4(dst)
	case f.IP6 != nil:
		dst = f.appendIPv6(dst)
	default:
		dst = f.appendL4(dst, nil)
	}
	dst = append(dst, make([]byte, f.Pad)...)
	return dst
}

// proto returns the upper-layer protocol number, or 0 when none is set.
func (f *Frame) proto() uint8 {
	switch {
	case f.TCP != nil:
		return ProtoTCP
	case f.UDP != nil:
		return ProtoUDP
	case f.ICMP != nil:
		return ProtoICMP
	case f.ICMPv6 != nil:
		return ProtoICMPv6
	}
	return 0
}

func (f *Frame) appendIPv4(dst []byte) []byte {
	h := f.IP4
	if !h.Src.Is4() || !h.Dst.Is4() {
		panic(fmt.Sprintf("pkt: IPv4 header needs IPv4 addresses, got %v and %v", h.Src, h.Dst))
	}
	opts := pad(h.Options, 4)
	ihl := h.IHL
	if ihl == 0 {
		if len(opts) > 40 {
			panic(fmt.Sprintf("pkt: %d bytes of IPv4 options do not fit the header (at most 40); set IHL to make a malformed header", len(opts)))
		}
		ihl = uint8(5 + len(opts)/4)
	}
	ttl := h.TTL
	if ttl == 0 {
		ttl = 64
	}
	proto := h.Protocol
	if proto == 0 {
		proto = f.proto()
	}
	l3 := len(dst)
	dst = append(dst, 0x40|ihl&0x0f, h.TOS, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, h.ID)
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.Flags&7)<<13|h.FragOffset&0x1fff)
	dst = append(dst, ttl, proto, 0, 0)
	s, d := h.Src.As4(), h.Dst.As4()
	dst = append(dst, s[:]...)
	dst = append(dst, d[:]...)
	dst = append(dst, opts...)
	hdrEnd := len(dst)
	var pseudo uint32
	pseudo = sum(pseudo, s[:])
	pseudo = sum(pseudo, d[:])
	dst = f.appendL4(dst, func(l4len int) uint32 {
		return pseudo + uint32(proto) + uint32(l4len)
	})
	total := h.TotalLength
	if total == 0 {
		total = uint16(len(dst) - l3)
	}
	binary.BigEndian.PutUint16(dst[l3+2:], total)
	c := ^fold(sum(0, dst[l3:hdrEnd]))
	if h.BadChecksum {
		c = ^c
	}
	binary.BigEndian.PutUint16(dst[l3+10:], c)
	return dst
}

func (f *Frame) appendIPv6(dst []byte) []byte {
	h := f.IP6
	if !h.Src.Is6() || !h.Dst.Is6() {
		panic(fmt.Sprintf("pkt: IPv6 header needs IPv6 addresses, got %v and %v", h.Src, h.Dst))
	}
	hop := h.HopLimit
	if hop == 0 {
		hop = 64
	}
	proto := f.proto()
	if proto == 0 {
		proto = h.Protocol
		if proto == 0 {
			proto = 59
		}
	}
	first := proto
	if len(h.Ext) > 0 {
		first = h.Ext[0].Type
	}
	l3 := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel&0xfffff)
	dst = append(dst, 0, 0, first, hop)
	s, d := h.Src.As16(), h.Dst.As16()
	dst = append(dst, s[:]...)
	dst = append(dst, d[:]...)
	for i, e := range h.Ext {
		next := proto
		if i+1 < len(h.Ext) {
			next = h.Ext[i+1].Type
		}
		switch e.Type {
		case ExtFragment:
			m := uint16(0)
			if e.More {
				m = 1
			}
			dst = append(dst, next, 0)
			dst = binary.BigEndian.AppendUint16(dst, e.FragOffset<<3|m)
			dst = binary.BigEndian.AppendUint32(dst, e.ID)
		default:
			// Every other header, AH included, is a multiple of 8 bytes
			// in IPv6 (RFC 8200; RFC 4302 section 2.2 for AH), counted
			// in 8-byte units less one, or for AH in 4-byte units less two.
			body := e.Data
			if n := (len(body) + 2) % 8; n != 0 {
				body = append(append([]byte(nil), body...), make([]byte, 8-n)...)
			}
			units := (len(body)+2)/8 - 1
			if e.Type == ExtAH {
				units = (len(body)+2)/4 - 2
			}
			if units > 0xff {
				panic(fmt.Sprintf("pkt: an IPv6 extension header (type %d) of %d bytes does not fit its length field", e.Type, len(body)+2))
			}
			dst = append(dst, next, uint8(units))
			dst = append(dst, body...)
		}
	}
	var pseudo uint32
	pseudo = sum(pseudo, s[:])
	pseudo = sum(pseudo, d[:])
	dst = f.appendL4(dst, func(l4len int) uint32 {
		return pseudo + uint32(l4len>>16) + uint32(l4len&0xffff) + uint32(proto)
	})
	plen := h.PayloadLength
	switch plen {
	case 0:
		plen = len(dst) - l3 - 40
	case -1:
		plen = 0
	}
	binary.BigEndian.PutUint16(dst[l3+4:], uint16(plen))
	return dst
}

// appendL4 appends the upper-layer header and the payload. pseudo returns
// the pseudo-header sum for an upper-layer length (nil without IP).
func (f *Frame) appendL4(dst []byte, pseudo func(int) uint32) []byte {
	l4 := len(dst)
	csum := -1 // offset of the checksum field from l4
	bad := false
	usePseudo := true
	switch {
	case f.TCP != nil:
		t := f.TCP
		opts := pad(t.Options, 4)
		doff := t.DataOffset
		if doff == 0 {
			if len(opts) > 40 {
				panic(fmt.Sprintf("pkt: %d bytes of TCP options do not fit the header (at most 40); set DataOffset to make a malformed header", len(opts)))
			}
			doff = uint8(5 + len(opts)/4)
		}
		win := t.Window
		if win == 0 {
			win = 65535
		}
		dst = binary.BigEndian.AppendUint16(dst, t.SrcPort)
		dst = binary.BigEndian.AppendUint16(dst, t.DstPort)
		dst = binary.BigEndian.AppendUint32(dst, t.Seq)
		dst = binary.BigEndian.AppendUint32(dst, t.Ack)
		dst = append(dst, doff<<4, t.Flags)
		dst = binary.BigEndian.AppendUint16(dst, win)
		dst = append(dst, 0, 0, 0, 0) // checksum, urgent pointer
		dst = append(dst, opts...)
		csum, bad = 16, t.BadChecksum
	case f.UDP != nil:
		u := f.UDP
		dst = binary.BigEndian.AppendUint16(dst, u.SrcPort)
		dst = binary.BigEndian.AppendUint16(dst, u.DstPort)
		ulen := u.Length
		if ulen == 0 {
			ulen = uint16(8 + len(f.Payload))
		}
		dst = binary.BigEndian.AppendUint16(dst, ulen)
		dst = append(dst, 0, 0)
		if !u.NoChecksum {
			csum, bad = 6, u.BadChecksum
		}
	case f.ICMP != nil:
		dst = append(dst, f.ICMP.Type, f.ICMP.Code, 0, 0)
		dst = append(dst, f.ICMP.Rest[:]...)
		csum, bad, usePseudo = 2, f.ICMP.BadChecksum, false
	case f.ICMPv6 != nil:
		dst = append(dst, f.ICMPv6.Type, f.ICMPv6.Code, 0, 0)
		dst = append(dst, f.ICMPv6.Rest[:]...)
		csum, bad = 2, f.ICMPv6.BadChecksum
	}
	dst = append(dst, f.Payload...)
	if csum >= 0 {
		var s uint32
		if usePseudo && pseudo != nil {
			s = pseudo(len(dst) - l4)
		}
		c := ^fold(sum(s, dst[l4:]))
		if f.UDP != nil && c == 0 {
			c = 0xffff // RFC 768: a computed zero is sent as all ones
		}
		if bad {
			c ^= 0x5a5a
		}
		binary.BigEndian.PutUint16(dst[l4+csum:], c)
	}
	return dst
}

// sum adds b as big-endian 16-bit words (a last odd byte padded with zero)
// to s, without folding.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds a 32-bit sum into a 16-bit one's complement sum.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// Checksum returns the Internet checksum (RFC 1071) of b: the one's
// complement of the one's complement sum of its 16-bit words.
func Checksum(b []byte) uint16 { return ^fold(sum(0, b)) }

// pad returns b zero-padded to a multiple of n bytes.
func pad(b []byte, n int) []byte {
	if len(b)%n == 0 {
		return b
	}
	return append(append([]byte(nil), b...), make([]byte, n-len(b)%n)...)
}

// Addr parses an IP address, panicking when it does not parse.
func Addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// AddrPort parses "addr:port" ("[v6]:port" for IPv6), panicking when it
// does not parse.
func AddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// UDP4 returns an Ethernet/IPv4/UDP frame from src to dst ("addr:port").
func UDP4(src, dst string, payload []byte) []byte { return udp(src, dst, payload) }

// UDP6 returns an Ethernet/IPv6/UDP frame from src to dst ("[addr]:port").
func UDP6(src, dst string, payload []byte) []byte { return udp(src, dst, payload) }

// TCP4 returns an Ethernet/IPv4/TCP frame with the given flags.
func TCP4(src, dst string, flags uint8, payload []byte) []byte { return tcp(src, dst, flags, payload) }

// TCP6 returns an Ethernet/IPv6/TCP frame with the given flags.
func TCP6(src, dst string, flags uint8, payload []byte) []byte { return tcp(src, dst, flags, payload) }

// ICMP4 returns an Ethernet/IPv4/ICMP frame (an echo request is type 8,
// code 0).
func ICMP4(src, dst string, typ, code uint8, payload []byte) []byte {
	return Frame{IP4: &IPv4{Src: Addr(src), Dst: Addr(dst)}, ICMP: &ICMP{Type: typ, Code: code}, Payload: payload}.Bytes()
}

// ICMP6 returns an Ethernet/IPv6/ICMPv6 frame (an echo request is type
// 128, code 0).
func ICMP6(src, dst string, typ, code uint8, payload []byte) []byte {
	return Frame{IP6: &IPv6{Src: Addr(src), Dst: Addr(dst)}, ICMPv6: &ICMPv6{Type: typ, Code: code}, Payload: payload}.Bytes()
}

func udp(src, dst string, payload []byte) []byte {
	s, d := AddrPort(src), AddrPort(dst)
	f := Frame{UDP: &UDP{SrcPort: s.Port(), DstPort: d.Port()}, Payload: payload}
	f.setIP(s.Addr(), d.Addr())
	return f.Bytes()
}

func tcp(src, dst string, flags uint8, payload []byte) []byte {
	s, d := AddrPort(src), AddrPort(dst)
	f := Frame{TCP: &TCP{SrcPort: s.Port(), DstPort: d.Port(), Flags: flags}, Payload: payload}
	f.setIP(s.Addr(), d.Addr())
	return f.Bytes()
}

func (f *Frame) setIP(s, d netip.Addr) {
	if s.Is4() {
		f.IP4 = &IPv4{Src: s, Dst: d}
	} else {
		f.IP6 = &IPv6{Src: s, Dst: d}
	}
}
