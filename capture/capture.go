package capture

import (
	"encoding/binary"
	"strconv"
	"time"
)

// MaxRecordLen is the largest captured length of one record that a
// [Reader] accepts (256 KiB, libpcap's largest snapshot length). A record
// claiming more is corrupt; below it the record's own length is trusted,
// whatever snapshot length the file header declares.
const MaxRecordLen = 256 << 10

// LinkType is the link-layer header type of a capture (the LINKTYPE_
// values of the tcpdump.org registry, as stored in pcap and pcapng files).
type LinkType uint32

// Link types this package converts to Ethernet (see [Packet.Ethernet]).
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkEthernet  LinkType = 1   // IEEE 802.3 Ethernet
	LinkDLTRaw    LinkType = 12  // raw IPv4 or IPv6 (DLT_RAW as some systems number it)
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, no link-layer header
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1: 16-byte header
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2: 20-byte header
)

// String returns the link type's name, or its number for others.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkDLTRaw, LinkRaw:
		return "raw-ip(" + strconv.Itoa(int(l)) + ")"
	case LinkLinuxSLL:
		return "linux-sll"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux-sll2"
	}
	return "linktype(" + strconv.FormatUint(uint64(l), 10) + ")"
}

// Packet is one captured record.
//
// Data holds the captured bytes (possibly fewer than went on the wire);
// WireLen is the length on the wire, never less than len(Data) (a Reader
// gives math.MaxInt for a length an int cannot hold: 2^31 bytes or more
// on a 32-bit platform). Who owns
// Data is said by the function that returned the Packet: [Reader.Next] and
// [ReadFile] hand it to the caller, [Reader.NextInto] puts it in the
// caller's buffer.
//
// The zero Link is [LinkNull] (BSD loopback), as in the registry, not
// Ethernet: a Packet built by hand needs its Link set. [Writer.WritePacket]
// refuses a LinkNull record that does not start with a loopback header,
// which catches the Ethernet frame whose Link was left out.
type Packet struct {
	Time    time.Time
	Data    []byte
	WireLen int
	Link    LinkType
}

// EtherType values used when synthesizing Ethernet headers.
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86DD
	ethLen    = 14
)

// Ethernet returns the packet as an Ethernet frame. An Ethernet packet is
// returned as is (Data itself, buf untouched), whatever its length: a
// frame shorter than an Ethernet header is left to the parser to refuse.
// Packets of the raw-IP link types, BSD loopback and Linux cooked captures
// (v1 and v2) get a 14-byte Ethernet header with zero MAC addresses and
// the EtherType of the payload (0x0800 or 0x86DD from the IP version, the
// link type itself for LinkIPv4 and LinkIPv6, or the protocol field of the
// cooked header), followed by the payload; the frame is written into buf,
// which is reused when its capacity suffices. It returns false for link
// types it cannot convert, for loopback and cooked packets too short to
// hold their link-layer header, for raw-IP and loopback packets whose IP
// version is neither 4 nor 6, and for cooked packets whose protocol field
// is 0.
//
// A loop converts without allocating by passing back the last frame that
// was written into buf, never an Ethernet packet's result: that is the
// packet's own Data, which the next conversion would overwrite.
//
//	frame, ok := p.Ethernet(buf)
//	if ok && p.Link != capture.LinkEthernet {
//		buf = frame
//	}
func (p *Packet) Ethernet(buf []byte) ([]byte, bool) {
	var etype uint16
	var payload []byte
	d := p.Data
	switch p.Link {
	case LinkEthernet:
		return d, true
	case LinkRaw, LinkDLTRaw:
		payload = d
		etype = ipEtherType(d)
	case LinkIPv4:
		payload, etype = d, etherIPv4
	case LinkIPv6:
		payload, etype = d, etherIPv6
	case LinkNull:
		if len(d) < 4 {
			return nil, false
		}
		payload = d[4:]
		etype = ipEtherType(payload)
	case LinkLinuxSLL:
		if len(d) < 16 {
			return nil, false
		}
		payload = d[16:]
		etype = binary.BigEndian.Uint16(d[14:16])
	case LinkLinuxSLL2:
		if len(d) < 20 {
			return nil, false
		}
		payload = d[20:]
		etype = binary.BigEndian.Uint16(d[0:2])
	default:
		return nil, false
	}
	if etype == 0 {
		return nil, false
	}
	n := ethLen + len(payload)
	if cap(buf) < n {
		buf = make([]byte, n, n+n/4)
	}
	buf = buf[:n]
	clear(buf[:12])
	binary.BigEndian.PutUint16(buf[12:14], etype)
	copy(buf[ethLen:], payload)
	return buf, true
}

// ipEtherType returns the EtherType for an IP packet from its version
// nibble, or 0 when it is neither IPv4 nor IPv6.
func ipEtherType(b []byte) uint16 {
	if len(b) == 0 {
		return 0
	}
	switch b[0] >> 4 {
	case 4:
		return etherIPv4
	case 6:
		return etherIPv6
	}
	return 0
}
