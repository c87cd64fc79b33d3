package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// be concatenates big-endian fields: a uint16 or uint32 in network order,
// or bytes as they are.
func be(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic("be: unsupported field")
		}
	}
	return b
}

// ip4 returns an Ethernet frame holding an IPv4 packet 192.0.2.1 >
// 192.0.2.2 with identification id, protocol proto and payload.
func ip4(proto uint8, id uint16, payload []byte) []byte {
	return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2"), ID: id, Protocol: proto}, Payload: payload}.Bytes()
}

// ip6 returns an Ethernet frame holding an IPv6 packet 2001:db8::1 >
// 2001:db8::2 with protocol proto and payload.
func ip6(proto uint8, payload []byte) []byte {
	return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: proto}, Payload: payload}.Bytes()
}

// inner returns the IP packet of a frame, as a tunnel carries it.
func inner(f pkt.Frame) []byte { return f.Bytes()[14:] }

// packetIDCase is a hand-built frame and the identifier its fields make.
type packetIDCase struct {
	name  string
	frame []byte
	want  uint64
}

// packetIDCases covers every protocol PacketID reads; the kernel fixtures
// reuse them.
func packetIDCases() []packetIDCase {
	echo := pkt.Frame{
		// 10.1.0.1 > 10.1.0.2 icmp echo request id 1 seq 42, IPv4 ID 0x4444
		IP4:  &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.1.0.2"), ID: 0x4444},
		ICMP: &pkt.ICMP{Type: 8, Rest: [4]byte{0, 1, 0, 42}}, Payload: []byte("ping"),
	}
	echoOpts := echo
	// the same with 4 bytes of IPv4 options (IHL 6), ID 0 and DF
	echoOpts.IP4 = &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.1.0.2"), Flags: pkt.DF, Options: []byte{1, 1, 1, 1}}
	// 10.1.0.3:1000 > 10.1.0.4:80 tcp seq 0x01020304, IPv4 ID 7
	tcp := pkt.Frame{
		IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.3"), Dst: pkt.Addr("10.1.0.4"), ID: 7},
		TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Flags: pkt.ACK},
	}
	// fd00::1 > fd00::2 icmpv6 echo request id 7 seq 9
	echo6 := pkt.Frame{
		IP6:    &pkt.IPv6{Src: pkt.Addr("fd00::1"), Dst: pkt.Addr("fd00::2")},
		ICMPv6: &pkt.ICMPv6{Type: 128, Rest: [4]byte{0, 7, 0, 9}},
	}
	return []packetIDCase{
		// 10.1.0.3:1000 > 10.1.0.4:80 tcp seq 0x01020304 ack 0x0a0b0c0d
		// win 0x1111 [.], IPv4 ID 7: 0x0a0b ^ 0x0c0d ^ 0x5010 (data offset
		// 5, ACK) ^ 0x1111 in bits 16-31
		{"tcp-ipv4", pkt.Frame{
			IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.3"), Dst: pkt.Addr("10.1.0.4"), ID: 7},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.ACK, Window: 0x1111},
		}.Bytes(), 0x01020304_4707_0007},
		// [2001:db8::1]:1000 > [2001:db8::2]:80 tcp seq 0x01020304 ack
		// 0x0a0b0c0d win 0x1111 [.], options nop, nop, SACK 0x11223344 to
		// 0x55667788 (data offset 8): IPv6 has no ID, so the options' words
		// 0x0101 ^ 0x050a ^ 0x1122 ^ 0x3344 ^ 0x5566 ^ 0x7788 go to bits
		// 0-15; 0x0a0b ^ 0x0c0d ^ 0x8010 ^ 0x1111 in bits 16-31
		{"tcp-ipv6-sack", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.ACK, Window: 0x1111,
				Options: []byte{1, 1, 5, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}},
		}.Bytes(), 0x01020304_9707_0483},
		// the same duplicate ACK with another SACK block, ending 0x55667799:
		// 0x7788 ^ 0x7799 = 0x0011 apart
		{"tcp-ipv6-sack-other", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.ACK, Window: 0x1111,
				Options: []byte{1, 1, 5, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x99}},
		}.Bytes(), 0x01020304_9707_0492},
		// [2001:db8::1]:1000 > [2001:db8::2]:80 tcp seq 0x01020304 ack
		// 0x0a0b0c0d win 0x1111 [S], option MSS 1460 (data offset 6): a
		// SYN's options are not read (a router may clamp the MSS), 0 in bits
		// 0-15; 0x0a0b ^ 0x0c0d ^ 0x6002 ^ 0x1111 in bits 16-31
		{"tcp-ipv6-syn-mss", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.SYN, Window: 0x1111,
				Options: []byte{2, 4, 0x05, 0xb4}},
		}.Bytes(), 0x01020304_7715_0000},
		// the duplicate ACK with the most options TCP allows (data offset
		// 15, 40 bytes): nop, nop, timestamps 1 and 2, nop, nop, SACK of
		// three blocks 0x11223344-0x55667788, 0x99aabbcc-0xddeeff00,
		// 0x01020304-0x05060708: the XOR of the 20 option words, 0x0d1b, in
		// bits 0-15 (without the last word, 0x0708, it would be 0x0a13);
		// 0x0a0b ^ 0x0c0d ^ 0xf010 ^ 0x1111 in bits 16-31
		{"tcp-ipv6-options-40", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.ACK, Window: 0x1111,
				Options: []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
		}.Bytes(), 0x01020304_e707_0d1b},
		// the SACK segment over IPv4, ID 7: the IP identification tells
		// segments apart there, and the options are not read
		{"tcp-ipv4-sack", pkt.Frame{
			IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.3"), Dst: pkt.Addr("10.1.0.4"), ID: 7},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.ACK, Window: 0x1111,
				Options: []byte{1, 1, 5, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}},
		}.Bytes(), 0x01020304_9707_0007},
		// 192.0.2.1:5353 > 192.0.2.2:53 udp, a DNS query id 0xabcd flags
		// 0x0100 whose last four bytes are 00 00 00 15: 0xabcd ^ 0x0100 in
		// bits 16-31, 0x15 in bits 32-63 (fields are big-endian)
		{"udp-ipv4", pkt.Frame{
			IP4: &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2")},
			UDP: &pkt.UDP{SrcPort: 5353, DstPort: 53}, Payload: be(uint16(0xabcd), uint16(0x0100), "query", uint32(0x15)),
		}.Bytes(), 0x00000015_aacd_0000},
		// [2001:db8::1]:5353 > [2001:db8::2]:53 udp, 3 bytes: too short for
		// either field
		{"udp-ipv6-3-bytes", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")},
			UDP: &pkt.UDP{SrcPort: 5353, DstPort: 53}, Payload: []byte("abc"),
		}.Bytes(), 0},
		// 2001:db8::1 > 2001:db8::2 esp spi 0x12345678 seq 7
		{"esp-ipv6", ip6(50, be(uint32(0x12345678), uint32(7), "ciphertext and ICV")), 0x00000007_5678_0000},
		// 192.0.2.1 > 192.0.2.2 esp spi 0xdeadbeef seq 0x01020304, IPv4 ID 0x0102
		{"esp-ipv4", ip4(50, 0x0102, be(uint32(0xdeadbeef), uint32(0x01020304), "ciphertext")), 0x01020304_beef_0102},
		// 192.0.2.1 > 192.0.2.2 ah spi 0xcafe0042 seq 0x100 (next header
		// TCP, 12-byte ICV), IPv4 ID 9: the key's protocol is AH
		{"ah-ipv4", ip4(51, 9, be([]byte{6, 4}, uint16(0), uint32(0xcafe0042), uint32(0x100), "twelve bytes")), 0x00000100_0042_0009},
		// 192.0.2.1:2940 > 192.0.2.2:2940 sctp vtag 0x11223344 crc32c
		// 0xa1b2c3d4, DATA chunk flags 0x03 length 20 TSN 0x01020304,
		// IPv4 ID 0: 0x0003 ^ 0x0014 in bits 16-31, the TSN in 32-63
		{"sctp-ipv4", ip4(132, 0, be(uint16(2940), uint16(2940), uint32(0x11223344), uint32(0xa1b2c3d4),
			[]byte{0, 3}, uint16(20), uint32(0x01020304), uint16(1), uint16(0), uint32(0), "data")), 0x01020304_0017_0000},
		// 2001:db8::1 > 2001:db8::2 sctp, a 4-byte COOKIE ACK chunk only:
		// 0x0b00 ^ 0x0004 in bits 16-31, bytes 16-19 past the frame read as 0
		{"sctp-ipv6-cookie-ack", ip6(132, be(uint16(2940), uint16(2940), uint32(0x11223344), uint32(0xa1b2c3d4), []byte{11, 0, 0, 4})), 0x00000000_0b04_0000},
		// 2001:db8::1 > 2001:db8::2 gre seq 5, proto IPv4 (the echo inside)
		{"gre-seq-ipv6", ip6(47, be(uint16(0x1000), uint16(0x0800), uint32(5), inner(echo))), 0x00000005_0000_0000},
		// 192.0.2.1 > 192.0.2.2 gre checksum 0x1234, key 0x00aa00bb, seq
		// 0x01000000, proto transparent Ethernet, IPv4 ID 0x0a0b
		{"gre-csum-key-seq", ip4(47, 0x0a0b, be(uint16(0xb000), uint16(0x6558), uint16(0x1234), uint16(0), uint32(0x00aa00bb), uint32(0x01000000), "an Ethernet frame")), 0x01000000_1234_0a0b},
		// 192.0.2.1 > 192.0.2.2 gre key 0x11112222 seq 9, proto IPv4, IPv4 ID 0
		{"gre-key-seq", ip4(47, 0, be(uint16(0x3000), uint16(0x0800), uint32(0x11112222), uint32(9), inner(echo))), 0x00000009_2222_0000},
		// 192.0.2.1 > 192.0.2.2 gre (no flags), proto IPv4, the echo inside:
		// inner ID 0x4444, ICMP bytes 6-7 (echo sequence 42)
		{"gre-ipv4-icmp", ip4(47, 0, be(uint16(0), uint16(0x0800), inner(echo))), 0x4444_002a_0000_0000},
		// the same with an inner header of 24 bytes (IHL 6), inner ID 0:
		// bytes 6-7 past the options
		{"gre-ipv4-options", ip4(47, 0, be(uint16(0), uint16(0x0800), inner(echoOpts))), 0x0000_002a_0000_0000},
		// 192.0.2.1 > 192.0.2.2 gre key 0x0000beef, proto IPv4, the TCP
		// segment inside: key bits, inner ID 7, sequence low bits 0x0304,
		// outer IPv4 ID 3
		{"gre-key-ipv4-tcp", ip4(47, 3, be(uint16(0x2000), uint16(0x0800), uint32(0x0000beef), inner(tcp))), 0x0007_0304_beef_0003},
		// 192.0.2.1 > 192.0.2.2 gre checksum 0x5555 (routing bit of RFC
		// 1701 set, which brings the same word), proto IPv6, the ICMPv6
		// echo inside: bytes 4-7 past the inner header
		{"gre-csum-ipv6-icmpv6", ip4(47, 0, be(uint16(0x4000), uint16(0x86dd), uint16(0x5555), uint16(0), inner(echo6))), 0x00070009_5555_0000},
		// 192.0.2.1 > 192.0.2.2 gre (no flags), proto ERSPAN type III:
		// payload bytes 4-7 (its timestamp)
		{"gre-erspan3", ip4(47, 0, be(uint16(0), uint16(0x22eb), uint32(0x200a0000), uint32(0x5e5e5e5e), "mirrored frame")), 0x5e5e5e5e_0000_0000},
		// 192.0.2.1 > 192.0.2.2 gre (no flags), proto IPv4, cut short after
		// 6 inner bytes: the inner ID is read, the ICMP bytes past the
		// frame read as 0
		{"gre-ipv4-truncated", ip4(47, 0, be(uint16(0), uint16(0x0800), inner(echo)[:6])), 0x4444_0000_0000_0000},
		{"ipv4-later-fragment", pkt.Frame{
			// 192.0.2.1 > 192.0.2.2 udp fragment id 0x4242 offset 64 (0x40) more
			IP4:     &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2"), ID: 0x4242, Flags: pkt.MF, FragOffset: 8, Protocol: pkt.ProtoUDP},
			Payload: []byte("abcdefgh12345678"),
		}.Bytes(), 0x35363738_0040_4242},
		{"ipv4-later-fragment-3-bytes", pkt.Frame{
			// 192.0.2.1 > 192.0.2.2 udp fragment id 0x4242 offset 64, 3 data
			// bytes: too short for the tail
			IP4:     &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2"), ID: 0x4242, FragOffset: 8, Protocol: pkt.ProtoUDP},
			Payload: []byte("xyz"),
		}.Bytes(), 0x00000000_0040_4242},
		{"ipv6-later-fragment", pkt.Frame{
			// 2001:db8::1 > 2001:db8::2 udp fragment id 0x00abcdef offset 1232 (0x4d0)
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: pkt.ProtoUDP,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 154, ID: 0x00abcdef}}},
			Payload: []byte("fragment data, wxyz"),
		}.Bytes(), 0x7778797a_04d0_cdef},
		// 192.0.2.1 > 192.0.2.2 proto 89 (OSPF): no field read, IPv4 ID 0x0505
		{"ospf-ipv4", ip4(89, 0x0505, be("hello, neighbour")), 0x0505},
		// 192.0.2.1:5000 > 192.0.2.2:5001 sctp vtag 0x11223344, COOKIE ACK
		// (type 11, length 4), IPv4 ID 1, then 14 bytes past the IP packet
		// (Ethernet padding to 60 bytes, 4 more of a trailer): bits 16-31
		// 0x0b00 ^ 0x0004; bytes 16-19, past the packet, read as 0 (they
		// read the padding, 0xdeadbeef)
		{"sctp-cookie-ack-padded", append(ip4(132, 0x0001, be(uint16(5000), uint16(5001), uint32(0x11223344), uint32(0), []byte{11, 0}, uint16(4))),
			be(uint32(0xdeadbeef), uint32(0xdeadbeef), uint32(0xdeadbeef), uint16(0xdead))...), 0x0b04_0001},
		// 192.0.2.1 > 192.0.2.2 gre (no flags), IPv4 ID 7, carrying a bare
		// inner IPv4 header (ID 0x2222), then 16 bytes of trailer: the
		// inner ID in bits 48-63; bytes 6-7 past the inner header, past the
		// packet, read as 0
		{"gre-bare-inner-trailer", append(ip4(47, 0x0007, be(uint16(0), uint16(0x0800),
			inner(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), ID: 0x2222, Protocol: 6}}))),
			be(uint32(0xdeadbeef), uint32(0xdeadbeef), uint32(0xdeadbeef), uint32(0xdeadbeef))...), 0x2222_0000_0000_0007},
	}
}

// TestPacketID_Protocols checks the identifier of hand-built frames of
// each protocol against the fields written into them.
func TestPacketID_Protocols(t *testing.T) {
	for _, c := range packetIDCases() {
		info, err := flow.Parse(c.frame)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := PacketID(c.frame, info); got != c.want {
			t.Errorf("%s: PacketID = %#016x, want %#016x", c.name, got, c.want)
		}
	}
}

// TestPacketID_AHOverIPv6: over IPv6 the parser walks AH as an extension
// header, so the protocol inside (here TCP) makes the identifier.
func TestPacketID_AHOverIPv6(t *testing.T) {
	// 10.1.0.3:1000 > 10.1.0.4:80 tcp seq 0x01020304: its TCP header
	seg := inner(pkt.Frame{
		IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.3"), Dst: pkt.Addr("10.1.0.4")},
		TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Flags: pkt.ACK},
	})[20:]
	// 2001:db8::1 > 2001:db8::2 ah(spi 0x42, seq 3, 12-byte ICV) then that
	// TCP header (built by hand: 24 bytes of AH, length field 4)
	f := ip6(51, be([]byte{6, 4}, uint16(0), uint32(0x42), uint32(3), "twelve bytes", seg))
	info, err := flow.Parse(f)
	if err != nil || info.Key.Proto() != flow.ProtoTCP {
		t.Fatalf("parse: %v, protocol %d", err, info.Key.Proto())
	}
	// ack 0 ^ 0 ^ 0x5010 (data offset 5, ACK) ^ 0xffff (window)
	if got, want := PacketID(f, info), uint64(0x01020304_afef_0000); got != want {
		t.Errorf("PacketID = %#016x, want %#016x (TCP sequence, and ack, flags and window)", got, want)
	}
}

// TestPacketID_Sequences: packets of one ESP, GRE or SCTP flow that differ
// only in their sequence number (SCTP: a DATA chunk's TSN, with equal
// CRC32c fields, as offload leaves them) get distinct identifiers, over
// IPv6 (no identification field) as over IPv4 with ID 0.
func TestPacketID_Sequences(t *testing.T) {
	flows := map[string]func(n uint32) []byte{
		"esp-ipv6": func(n uint32) []byte { return ip6(50, be(uint32(0x1000), n, "same ciphertext")) },
		"gre-seq-ipv4": func(n uint32) []byte {
			return ip4(47, 0, be(uint16(0x1000), uint16(0x6558), n, "same frame"))
		},
		"sctp-ipv6": func(n uint32) []byte {
			return ip6(132, be(uint16(1), uint16(2), uint32(0x77), uint32(0), []byte{0, 3}, uint16(20), n, uint32(0), uint32(0), "data"))
		},
	}
	for name, mk := range flows {
		seen := map[[KeyLen]byte]uint32{}
		for n := uint32(1); n <= 100; n++ {
			f := mk(n)
			info, err := flow.Parse(f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			k := PacketKey(f, info)
			if m, ok := seen[k]; ok {
				t.Fatalf("%s: packets %d and %d are twins (key %x)", name, m, n, k)
			}
			seen[k] = n
		}
	}
}

// TestPacketID_PastKernelReach: a UDP datagram of 65,507 bytes (a frame of
// 65,549, which generic XDP delivers on a 64 KiB loopback) ends past the
// offsets the kernel can read (DP_MAX_OFF, 0xff00), so its last four bytes
// do not enter the identifier, in Go as in the kernel
// (TestKernel_LongFrameTrailer). PacketID used to read them, and its
// digest of such a frame differed from the kernel's.
func TestPacketID_PastKernelReach(t *testing.T) {
	data := make([]byte, 65507)
	binary.BigEndian.PutUint32(data[len(data)-4:], 0xdeadbeef)
	binary.BigEndian.PutUint32(data, 0x12345678)
	frame := pkt.UDP4("127.0.0.1:40000", "127.0.0.1:9", data)
	info, err := flow.Parse(frame)
	if err != nil {
		t.Fatal(err)
	}
	if id := PacketID(frame, info); id>>32 != 0 || id>>16&0xffff != 0x1234^0x5678 {
		t.Errorf("PacketID %#x: bits 32-63 %#x, want 0 (the trailer lies past 0xff00); bits 16-31 %#x, want %#x (the first payload bytes)", id, id>>32, id>>16&0xffff, 0x1234^0x5678)
	}
	short := pkt.UDP4("127.0.0.1:40000", "127.0.0.1:9", data[len(data)-100:])
	if info, err := flow.Parse(short); err != nil || PacketID(short, info)>>32 != 0xdeadbeef {
		t.Errorf("a short datagram's trailer is no longer read (%v)", err)
	}
	// A field starting at 0xff00 itself is within the kernel's reach: a
	// datagram whose last four bytes start there has them read.
	edge := make([]byte, 0xff04-14-20-8) // after Ethernet, IPv4 and UDP headers
	binary.BigEndian.PutUint32(edge[len(edge)-4:], 0xdeadbeef)
	frame = pkt.UDP4("127.0.0.1:40000", "127.0.0.1:9", edge)
	if len(frame) != 0xff04 {
		t.Fatalf("frame of %d bytes, want %d", len(frame), 0xff04)
	}
	if info, err := flow.Parse(frame); err != nil || PacketID(frame, info)>>32 != 0xdeadbeef {
		t.Errorf("the trailer at offset 0xff00 is not read (%v)", err)
	}
}

// withField returns a copy of frame with the big-endian value v (a uint16
// or uint32) written at offset off.
func withField(frame []byte, off int, v any) []byte {
	f := append([]byte(nil), frame...)
	copy(f[off:], be(v))
	return f
}

// id returns the identifier of a frame that flow.Parse accepts.
func id(tb testing.TB, frame []byte) uint64 {
	tb.Helper()
	info, err := flow.Parse(frame)
	if err != nil {
		tb.Fatal(err)
	}
	return PacketID(frame, info)
}

// TestPacketID_OffloadStable: with checksum offload (CHECKSUM_PARTIAL), XDP
// on a veth sees a TCP or UDP checksum field holding only the pseudo-header
// sum (one value for every packet of a flow) and an SCTP CRC32c of 0, and
// a point further on sees the complete value. A packet must get the same
// identifier at both: the identifier used to hold those fields, and then
// no packet of such a pair of digests matched.
func TestPacketID_OffloadStable(t *testing.T) {
	for _, c := range []struct {
		name  string
		frame []byte
		csum  int // frame offset of the checksum field
		n     int // its length
	}{
		// 10.0.0.1:40000 > 10.0.0.2:443 tcp [.] "x"
		{"tcp-ipv4", pkt.TCP4("10.0.0.1:40000", "10.0.0.2:443", pkt.ACK, []byte("x")), 14 + 20 + 16, 2},
		// [2001:db8::1]:40000 > [2001:db8::2]:443 tcp [P.] "data"
		{"tcp-ipv6", pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", pkt.ACK|pkt.PSH, []byte("data")), 14 + 40 + 16, 2},
		// 10.0.0.1:5353 > 10.0.0.2:53 udp "query"
		{"udp-ipv4", pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("query")), 14 + 20 + 6, 2},
		// [2001:db8::1]:5353 > [2001:db8::2]:53 udp "query"
		{"udp-ipv6", pkt.UDP6("[2001:db8::1]:5353", "[2001:db8::2]:53", []byte("query")), 14 + 40 + 6, 2},
		// 192.0.2.1:2940 > 192.0.2.2:2940 sctp, DATA chunk TSN 7, crc32c 0x5ca1ab1e
		{"sctp-ipv4", ip4(132, 0, be(uint16(2940), uint16(2940), uint32(0x11223344), uint32(0x5ca1ab1e),
			[]byte{0, 3}, uint16(20), uint32(7), uint16(1), uint16(0), uint32(0), "data")), 14 + 20 + 8, 4},
	} {
		want := id(t, c.frame)
		for _, v := range []uint32{0, 0x181b, 0xffff} { // zero (SCTP, partial), a pseudo-header sum, anything
			var f []byte
			if c.n == 2 {
				f = withField(c.frame, c.csum, uint16(v))
			} else {
				f = withField(c.frame, c.csum, v)
			}
			if got := id(t, f); got != want {
				t.Errorf("%s: checksum field %#x: PacketID %#016x, want %#016x as with the complete checksum", c.name, v, got, want)
			}
		}
	}
}

// TestPacketID_BeyondChecksum: packets of one flow whose checksum fields
// are equal (partial, as offload leaves them at a veth) still get distinct
// identifiers when they differ in the fields that replaced the checksum: a
// TCP segment's acknowledgment number (a pure ACK repeats the sequence
// number), or a UDP datagram's first payload bytes (a DNS ID, an RTP
// sequence number) when its last four bytes are equal.
func TestPacketID_BeyondChecksum(t *testing.T) {
	const partial = uint16(0x181b)
	tcp := func(ack uint32) []byte {
		// 10.1.0.3:1000 > 10.1.0.4:80 tcp seq 0x01020304 ack <ack> [.], IPv4 ID 0
		f := pkt.Frame{
			IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.3"), Dst: pkt.Addr("10.1.0.4")},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 80, Seq: 0x01020304, Ack: ack, Flags: pkt.ACK},
		}.Bytes()
		return withField(f, 14+20+16, partial)
	}
	if a, b := id(t, tcp(1000)), id(t, tcp(2448)); a == b {
		t.Errorf("TCP segments with equal sequence numbers and ack 1000, 2448: both PacketID %#016x", a)
	}
	udp := func(dnsID uint16) []byte {
		// 10.0.0.1:5353 > 10.0.0.2:53 udp, DNS query id <dnsID> for the same name
		f := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", be(dnsID, uint16(0x0100), "example.org query", uint32(0x00010001)))
		return withField(f, 14+20+6, partial)
	}
	seen := map[uint64]uint16{}
	for _, q := range []uint16{1, 2, 0x100, 0xbeef, 0xffff} {
		got := id(t, udp(q))
		if p, ok := seen[got]; ok {
			t.Errorf("UDP datagrams differing only in their first payload bytes (DNS IDs %#x, %#x): both PacketID %#016x", p, q, got)
		}
		seen[got] = q
	}
}
