package flow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Parser limits; a frame that needs more is malformed.
const (
	MaxVLANTags   = 8 // 802.1Q, 802.1ad and 0x9100 tags skipped before the EtherType
	MaxExtHeaders = 8 // IPv6 extension headers walked before the upper-layer header
)

// EtherTypes the parser knows.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeVLAN   = 0x8100 // 802.1Q
	etherTypeQinQ   = 0x88A8 // 802.1ad
	etherTypeQinQv1 = 0x9100 // pre-standard Q-in-Q
	etherTypeMin    = 0x0600 // values below are 802.3 length fields
)

// IPv6 extension headers walked by the parser.
const (
	protoHopByHop = 0
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
)

// Fragment tells whether an IP packet is a fragment and which one.
type Fragment uint8

const (
	NotFragment   Fragment = iota // a whole datagram (an IPv6 atomic fragment counts as whole)
	FirstFragment                 // offset 0, more fragments follow: carries the transport header
	LaterFragment                 // non-zero offset: no transport header, zero ports
)

// String returns "none", "first" or "later", and "fragment-N" for any
// other value N.
func (f Fragment) String() string {
	switch f {
	case NotFragment:
		return "none"
	case FirstFragment:
		return "first"
	case LaterFragment:
		return "later"
	}
	return "fragment-" + strconv.Itoa(int(f))
}

// Info is what [Parse] and [ParseIP] learn about a packet. It is a small
// value (52 bytes) meant to be copied; on error both return the zero Info.
type Info struct {
	Key        Key
	L3Offset   uint16   // offset of the IP header in the frame
	L4Offset   uint16   // offset of the upper-layer header; 0 for later fragments
	Fragment   Fragment // whether the IP packet is a fragment
	VLANTags   uint8    // number of VLAN tags skipped (0 for ParseIP)
	IPID       uint32   // IPv4 identification; IPv6: the fragment header's identification, else 0
	FragOffset uint16   // a later fragment's offset in its datagram, in bytes (a multiple of 8); 0 for other packets
}

// Sentinel errors: every error of [Parse] and [ParseIP] matches exactly one
// of them with [errors.Is]. The kernels count the same three outcomes (see
// [Outcome]).
var (
	ErrTruncated = errors.New("flow: truncated")
	ErrNotIP     = errors.New("flow: not IP")
	ErrMalformed = errors.New("flow: malformed")
)

// parseError is a specific, pre-allocated parse error. Its message says
// what was wrong and what is accepted; Unwrap gives its sentinel. Values are
// not printed (except those of small fields, which have one error each) so
// that the parser never allocates.
type parseError struct {
	msg  string
	kind error
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.kind }

func truncated(msg string) *parseError { return &parseError{"flow: truncated " + msg, ErrTruncated} }
func malformed(msg string) *parseError { return &parseError{"flow: malformed " + msg, ErrMalformed} }
func notIP(msg string) *parseError     { return &parseError{"flow: not IP: " + msg, ErrNotIP} }

var (
	errEthernetShort = truncated("Ethernet header: need 14 bytes")
	errVLANShort     = truncated("VLAN tag: need 4 bytes")
	errTooManyVLANs  = malformed("frame: more than 8 VLAN tags")
	errEtherType     = notIP("EtherType is not 0x0800 (IPv4) or 0x86DD (IPv6)")
	errLengthField   = notIP("802.3 length field (below 0x0600) instead of an EtherType")
	errEmptyPacket   = truncated("IP packet: need at least 1 byte")
	errIPv4Short     = truncated("IPv4 header: need 20 bytes")
	errIPv4Options   = truncated("IPv4 header: options (IHL*4 bytes) extend past the frame")
	errIPv4TotalLen  = malformed("IPv4 header: total length below the header length IHL*4")
	errIPv6Short     = truncated("IPv6 header: need 40 bytes")
	errExtShort      = truncated("IPv6 extension header: need its 2-byte next header and length")
	errExtBody       = truncated("IPv6 extension header: its length extends past the packet")
	errFragShort     = truncated("IPv6 fragment header: need 8 bytes")
	errTooManyExt    = malformed("IPv6 header: more than 8 extension headers")
	errTCPShort      = truncated("TCP header: need 20 bytes inside the packet")
	errUDPShort      = truncated("UDP header: need 8 bytes inside the packet")
	errICMPShort     = truncated("ICMP header: need 8 bytes inside the packet")
	errICMPv6Short   = truncated("ICMPv6 header: need 4 bytes inside the packet")
	errIPv4Version   [16]*parseError // EtherType 0x0800 but version != 4
	errIPv6Version   [16]*parseError // EtherType 0x86DD but version != 6
	errIPVersion     [16]*parseError // ParseIP: version neither 4 nor 6
	errIHL           [5]*parseError  // IHL 0..4
	errTCPDataOffset [5]*parseError  // data offset 0..4
)

func init() {
	for v := range 16 {
		errIPv4Version[v] = malformed(fmt.Sprintf("IPv4 header: version %d, want 4", v))
		errIPv6Version[v] = malformed(fmt.Sprintf("IPv6 header: version %d, want 6", v))
		errIPVersion[v] = notIP(fmt.Sprintf("IP version %d, want 4 or 6", v))
	}
	for v := range 5 {
		errIHL[v] = malformed(fmt.Sprintf("IPv4 header: IHL %d below 5", v))
		errTCPDataOffset[v] = malformed(fmt.Sprintf("TCP header: data offset %d below 5", v))
	}
}

// Outcome is the class of a parse result. The numbers are shared with the
// kernels' per-CPU outcome counters: do not change them.
type Outcome uint8

const (
	OutcomeOK        Outcome = 0 // parsed: the key is valid
	OutcomeTruncated Outcome = 1 // bytes ran out: end of frame, or end of the IP packet for headers above IP
	OutcomeNotIP     Outcome = 2 // neither IPv4 nor IPv6 (ARP, MPLS, 802.3 with LLC, other IP versions)
	OutcomeMalformed Outcome = 3 // a field holds a value the rules forbid (version, IHL, total length, data offset, too many tags or extension headers)
)

// NumOutcomes is the number of outcomes, the length of the kernels' counter arrays.
const NumOutcomes = 4

// String returns "ok", "truncated", "not-ip" or "malformed", and
// "outcome-N" for any other value N.
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeTruncated:
		return "truncated"
	case OutcomeNotIP:
		return "not-ip"
	case OutcomeMalformed:
		return "malformed"
	}
	return "outcome-" + strconv.Itoa(int(o))
}

// OutcomeOf returns the outcome of an error returned by [Parse] or
// [ParseIP]: [OutcomeOK] for nil. An error matching none of the sentinels
// counts as malformed.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	kind := err
	if pe, ok := err.(*parseError); ok {
		kind = pe.kind
	}
	switch {
	case kind == ErrTruncated || errors.Is(err, ErrTruncated):
		return OutcomeTruncated
	case kind == ErrNotIP || errors.Is(err, ErrNotIP):
		return OutcomeNotIP
	}
	return OutcomeMalformed
}

// Parse parses an Ethernet frame following the rules of the package
// documentation and returns the flow key and header offsets. On error the
// Info is zero and the error matches exactly one of [ErrTruncated],
// [ErrNotIP] and [ErrMalformed]. Parse never allocates and reads frame only.
//
// Checks run in this order, the first failure deciding the outcome:
// Ethernet length; for each tag, the tag count then the tag's 4 bytes; the
// EtherType; then the IP header as in [ParseIP]. In short, "truncated"
// means bytes ran out (end of frame, or end of the IP packet for headers
// above IP) and "malformed" means a field holds a value the rules forbid.
func Parse(frame []byte) (info Info, err error) {
	// A small wrapper the compiler inlines, so the Info is written in place
	// in the caller's frame instead of being copied back.
	if err = parseFrame(&info, frame); err != nil {
		info = Info{}
	}
	return info, err
}

func parseFrame(info *Info, frame []byte) error {
	if len(frame) < 14 {
		return errEthernetShort
	}
	et := binary.BigEndian.Uint16(frame[12:14])
	off := 14
	tags := 0
	for et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQv1 {
		if tags == MaxVLANTags {
			return errTooManyVLANs
		}
		if len(frame) < off+4 {
			return errVLANShort
		}
		et = binary.BigEndian.Uint16(frame[off+2 : off+4])
		off += 4
		tags++
	}
	info.VLANTags = uint8(tags)
	switch et {
	case etherTypeIPv4:
		return parseIPv4(info, frame, off, true)
	case etherTypeIPv6:
		return parseIPv6(info, frame, off, true)
	}
	if et < etherTypeMin {
		return errLengthField
	}
	return errEtherType
}

// ParseIP parses a raw IP packet (no link-layer header), choosing IPv4 or
// IPv6 by the version in the first nibble; any other version is
// [ErrNotIP]. Otherwise it is [Parse] without the Ethernet part: L3Offset
// is 0 and VLANTags 0.
//
// IPv4 checks, in order: 20 bytes (truncated); version 4, IHL at least 5,
// total length at least IHL*4 (malformed); IHL*4 bytes in the frame
// (truncated). The packet then ends at the total length or the frame's end.
// IPv6 checks: 40 bytes (truncated), version 6 (malformed); the packet ends
// at 40 + payload length (0: the frame's end) or the frame's end. Each
// extension header: the count (a ninth is malformed), then its 2 bytes (8
// for a fragment header), then its whole length inside the packet
// (truncated). A later fragment stops here. The transport check comes last
// and goes by protocol number whatever the IP version: TCP 20 bytes then
// data offset at least 5, UDP 8, ICMP (1) 8, ICMPv6 (58) 4 bytes, all
// inside the packet.
func ParseIP(packet []byte) (info Info, err error) {
	if err = parseRawIP(&info, packet); err != nil {
		info = Info{}
	}
	return info, err
}

func parseRawIP(info *Info, packet []byte) error {
	if len(packet) == 0 {
		return errEmptyPacket
	}
	switch v := packet[0] >> 4; v {
	case 4:
		return parseIPv4(info, packet, 0, false)
	case 6:
		return parseIPv6(info, packet, 0, false)
	default:
		return errIPVersion[v]
	}
}

// parseIPv4 parses the IPv4 packet at b[l3:] into info. The version is
// checked only when checkVersion is set (ParseIP chose the parser by it).
func parseIPv4(info *Info, b []byte, l3 int, checkVersion bool) error {
	if len(b) < l3+20 {
		return errIPv4Short
	}
	h := b[l3 : l3+20]
	vihl := h[0]
	if checkVersion && vihl>>4 != 4 {
		return errIPv4Version[vihl>>4]
	}
	ihl := int(vihl&0x0f) * 4
	if ihl < 20 {
		return errIHL[vihl&0x0f]
	}
	total := int(binary.BigEndian.Uint16(h[2:4]))
	if total < ihl {
		return errIPv4TotalLen
	}
	if len(b)-l3 < ihl {
		return errIPv4Options
	}
	if end := l3 + total; end < len(b) {
		b = b[:end] // Ethernet padding is never parsed
	}
	k := &info.Key
	copy(k.b[0:8], h[12:20])
	proto := h[9]
	k.b[12] = proto
	k.n = KeyLen4
	info.L3Offset = uint16(l3)
	info.IPID = uint32(binary.BigEndian.Uint16(h[4:6]))
	frag := binary.BigEndian.Uint16(h[6:8])
	if frag&0x1fff != 0 {
		info.Fragment = LaterFragment
		info.FragOffset = frag << 3 // 13 bits of 8-byte units: the top three bits shift out
		return nil
	}
	if frag&0x2000 != 0 {
		info.Fragment = FirstFragment
	}
	return parseL4(info, b, l3+ihl, proto, 8)
}

// parseIPv6 parses the IPv6 packet at b[l3:] into info.
func parseIPv6(info *Info, b []byte, l3 int, checkVersion bool) error {
	if len(b) < l3+40 {
		return errIPv6Short
	}
	h := b[l3 : l3+40]
	if checkVersion && h[0]>>4 != 6 {
		return errIPv6Version[h[0]>>4]
	}
	if plen := int(binary.BigEndian.Uint16(h[4:6])); plen != 0 {
		if end := l3 + 40 + plen; end < len(b) {
			b = b[:end]
		}
	}
	k := &info.Key
	copy(k.b[0:32], h[8:40])
	k.n = KeyLen6
	info.L3Offset = uint16(l3)
	nh := h[6]
	off := l3 + 40
	for n := 0; ; n++ {
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoAH:
			if n == MaxExtHeaders {
				return errTooManyExt
			}
			if len(b) < off+2 {
				return errExtShort
			}
			var size int
			if nh == protoAH {
				size = (int(b[off+1]) + 2) * 4 // RFC 4302: length in 4-byte units, minus 2
			} else {
				size = (int(b[off+1]) + 1) * 8 // RFC 8200: length in 8-byte units, minus 1
			}
			if len(b) < off+size {
				return errExtBody
			}
			nh = b[off]
			off += size
			continue
		case protoFragment:
			if n == MaxExtHeaders {
				return errTooManyExt
			}
			if len(b) < off+8 {
				return errFragShort
			}
			f := b[off : off+8]
			nh = f[0]
			info.IPID = binary.BigEndian.Uint32(f[4:8])
			fo := binary.BigEndian.Uint16(f[2:4])
			if fo&0xfff8 != 0 {
				info.Fragment = LaterFragment
				info.FragOffset = fo &^ 7 // 13 bits of 8-byte units over 3 bits of flags: bytes
				k.b[36] = nh
				return nil
			}
			if fo&1 != 0 {
				info.Fragment = FirstFragment // else an atomic fragment (RFC 6946): whole
			}
			off += 8
			continue
		}
		break
	}
	k.b[36] = nh
	return parseL4(info, b, off, nh, 32)
}

// parseL4 checks the upper-layer header at b[l4:] (b ends where the IP
// packet ends) and writes the ports at Key.b[portOff:].
func parseL4(info *Info, b []byte, l4 int, proto uint8, portOff int) error {
	info.L4Offset = uint16(l4)
	switch proto {
	case ProtoTCP:
		if len(b) < l4+20 {
			return errTCPShort
		}
		t := b[l4 : l4+20]
		if doff := t[12] >> 4; doff < 5 {
			return errTCPDataOffset[doff]
		}
		copy(info.Key.b[portOff:portOff+4], t[0:4])
	case ProtoUDP:
		if len(b) < l4+8 {
			return errUDPShort
		}
		copy(info.Key.b[portOff:portOff+4], b[l4:l4+4])
	case ProtoICMP:
		if len(b) < l4+8 {
			return errICMPShort
		}
	case ProtoICMPv6:
		if len(b) < l4+4 {
			return errICMPv6Short
		}
	}
	return nil
}
