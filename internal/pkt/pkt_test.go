package pkt_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// reserialize decodes a frame with gopacket (up to the transport layer,
// the rest kept as payload) and serializes it again with gopacket computing
// every length and checksum: a frame whose lengths and checksums are right
// comes back byte for byte, padded to Ethernet's 60-byte minimum.
func reserialize(t *testing.T, frame []byte) []byte {
	t.Helper()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	// A decoding error past the transport layer (port 53 payload that is
	// not DNS) does not matter: the loop stops at the transport layer.
	var ls []gopacket.SerializableLayer
	var net gopacket.NetworkLayer
	last := false
	for _, l := range p.Layers() {
		if last {
			break
		}
		switch l := l.(type) {
		case *layers.IPv4:
			net = l
		case *layers.IPv6:
			net = l
		case *layers.TCP:
			l.SetNetworkLayerForChecksum(net)
			last = true
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(net)
			last = true
		case *layers.ICMPv6:
			l.SetNetworkLayerForChecksum(net)
			last = true
		case *layers.ICMPv4:
			last = true
		}
		s, ok := l.(gopacket.SerializableLayer)
		if !ok {
			t.Fatalf("gopacket cannot serialize layer %v", l.LayerType())
		}
		ls = append(ls, s)
		if last {
			ls = append(ls, gopacket.Payload(l.LayerPayload()))
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuilders_MatchGopacket(t *testing.T) {
	payload := []byte("hello, dataplane")
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		// 10.0.0.1:5353 > 10.0.0.2:53 UDP, 16 bytes
		{"udp4", pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", payload)},
		// odd payload length: the checksum pads with a zero byte
		{"udp4 odd", pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", payload[:5])},
		// [2001:db8::1]:40000 > [2001:db8::2]:443 UDP
		{"udp6", pkt.UDP6("[2001:db8::1]:40000", "[2001:db8::2]:443", payload)},
		// 192.0.2.1:1234 > 198.51.100.7:80 TCP SYN
		{"tcp4 syn", pkt.TCP4("192.0.2.1:1234", "198.51.100.7:80", pkt.SYN, nil)},
		{"tcp6 psh-ack", pkt.TCP6("[fe80::1]:22", "[fe80::2]:50000", pkt.PSH|pkt.ACK, payload)},
		// 10.1.1.1 > 10.1.1.2 ICMP echo request
		{"icmp4 echo", pkt.ICMP4("10.1.1.1", "10.1.1.2", 8, 0, payload)},
		// 2001:db8::a > 2001:db8::b ICMPv6 echo request
		{"icmp6 echo", pkt.ICMP6("2001:db8::a", "2001:db8::b", 128, 0, payload)},
		// two VLAN tags (802.1ad outer, 802.1Q inner) over IPv4/TCP with options
		{"qinq tcp options", pkt.Frame{
			VLANs: []pkt.VLAN{{TPID: 0x88A8, ID: 100, PCP: 3}, {ID: 20, DEI: true}},
			IP4:   &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), ID: 777, TOS: 0x10, Flags: pkt.DF},
			TCP: &pkt.TCP{SrcPort: 1000, DstPort: 2000, Seq: 1, Ack: 2, Flags: pkt.ACK,
				Options: []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2}}, // MSS 1460, NOP, NOP, SACK permitted
			Payload: payload,
		}.Bytes()},
		// IPv4 options: NOP NOP NOP EOL
		{"ip4 options", pkt.Frame{
			IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), Options: []byte{1, 1, 1, 0}},
			UDP: &pkt.UDP{SrcPort: 7, DstPort: 9}, Payload: payload,
		}.Bytes()},
		// IPv6 hop-by-hop (PadN) and destination options before UDP
		{"ip6 ext", pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
				Ext: []pkt.Ext{{Type: pkt.ExtHopByHop, Data: []byte{1, 4, 0, 0, 0, 0}}, {Type: pkt.ExtDstOpts, Data: []byte{1, 4, 0, 0, 0, 0}}}},
			UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: payload,
		}.Bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.frame
			if len(want) < 60 {
				want = append(bytes.Clone(want), make([]byte, 60-len(want))...)
			}
			if got := reserialize(t, tc.frame); !bytes.Equal(got, want) {
				t.Errorf("gopacket computes\n% x\nthe builder made\n% x", got, tc.frame)
			}
		})
	}
}

func TestFrame_Fields(t *testing.T) {
	// 10.0.0.1 > 10.0.0.2 first fragment (MF, offset 0, ID 0x1234) of UDP
	b := pkt.Frame{
		IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), ID: 0x1234, Flags: pkt.MF, FragOffset: 0, TTL: 9},
		UDP: &pkt.UDP{SrcPort: 5, DstPort: 6}, Payload: make([]byte, 100), Pad: 6,
	}.Bytes()
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip.Id != 0x1234 || ip.Flags != layers.IPv4MoreFragments || ip.FragOffset != 0 || ip.TTL != 9 || ip.Length != 128 {
		t.Errorf("IPv4 header: id %x flags %v offset %d ttl %d length %d", ip.Id, ip.Flags, ip.FragOffset, ip.TTL, ip.Length)
	}
	if len(b) != 14+128+6 {
		t.Errorf("frame of %d bytes, want %d (padding outside the IP length)", len(b), 14+128+6)
	}
	// A later fragment: offset 185 (1480 bytes).
	b = pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), FragOffset: 185, Protocol: pkt.ProtoUDP}, Payload: make([]byte, 20)}.Bytes()
	if off := binary.BigEndian.Uint16(b[14+6:]) & 0x1fff; off != 185 || b[14+9] != pkt.ProtoUDP {
		t.Errorf("later fragment: offset %d protocol %d", off, b[14+9])
	}
	if pkt.Checksum(b[14:34]) != 0 {
		t.Error("IPv4 header checksum does not verify")
	}
	// IPv6 fragment header: offset 100 (800 bytes), more fragments, ID 42.
	b = pkt.Frame{
		IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
			Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 100, More: true, ID: 42}}},
		UDP: &pkt.UDP{SrcPort: 1, DstPort: 2},
	}.Bytes()
	p = gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	fr, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
	if !ok || fr.FragmentOffset != 100 || !fr.MoreFragments || fr.Identification != 42 || fr.NextHeader != layers.IPProtocolUDP {
		t.Errorf("fragment header: %+v", fr)
	}
	if ip6 := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ip6.Length != 16 || ip6.NextHeader != layers.IPProtocolIPv6Fragment {
		t.Errorf("IPv6 payload length %d next header %v", ip6.Length, ip6.NextHeader)
	}
	// UDP checksum over the pseudo-header (next header: UDP, not fragment).
	u := b[14+40+8:]
	var ph []byte
	ph = append(ph, b[14+8:14+40]...)
	ph = binary.BigEndian.AppendUint32(ph, uint32(len(u)))
	ph = append(ph, 0, 0, 0, pkt.ProtoUDP)
	if pkt.Checksum(append(ph, u...)) != 0 {
		t.Error("UDP checksum behind a fragment header does not verify")
	}
	// Malformed on purpose.
	b = pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), IHL: 4, TotalLength: 3, BadChecksum: true},
		TCP: &pkt.TCP{DataOffset: 2, BadChecksum: true}}.Bytes()
	if b[14]&0x0f != 4 || binary.BigEndian.Uint16(b[16:]) != 3 || pkt.Checksum(b[14:34]) == 0 || b[34+12]>>4 != 2 {
		t.Errorf("malformed overrides not applied: % x", b)
	}
	// VLAN tag bits.
	b = pkt.Frame{VLANs: []pkt.VLAN{{ID: 0xabc, PCP: 5, DEI: true}}, EtherType: 0x0806, Payload: []byte{1}}.Bytes()
	if tci := binary.BigEndian.Uint16(b[14:]); tci != 5<<13|1<<12|0xabc || binary.BigEndian.Uint16(b[16:]) != 0x0806 || len(b) != 19 {
		t.Errorf("VLAN frame % x", b)
	}
}

func TestFrame_PanicsOnBadAddresses(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an IPv6 address in an IPv4 header did not panic")
		}
	}()
	pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("::1"), Dst: pkt.Addr("10.0.0.1")}}.Bytes()
}

// TestIPv6AH: an IPv6 authentication header is a multiple of 8 bytes, and
// its length field counts 4-byte units less two (RFC 4302 section 2.2), so
// the header after it starts where the length says: flow.Parse, which
// walks AH by its length field, finds the UDP ports. The builder once
// wrote a header 2 bytes longer than its length field said.
func TestIPv6AH(t *testing.T) {
	for _, n := range []int{10, 14, 22} { // reserved(2), SPI, sequence and 2, 6 or 14 bytes of ICV
		data := make([]byte, n)
		binary.BigEndian.PutUint32(data[2:], 0x1234) // SPI
		binary.BigEndian.PutUint32(data[6:], 7)      // sequence
		f := pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
				Ext: []pkt.Ext{{Type: pkt.ExtAH, Data: data}}},
			UDP: &pkt.UDP{SrcPort: 1111, DstPort: 2222}, Payload: []byte("ah"),
		}.Bytes()
		ah := f[14+40:]
		size := (int(ah[1]) + 2) * 4
		if size%8 != 0 || size < 2+n {
			t.Errorf("%d data bytes: AH of %d bytes by its length field, want a multiple of 8 holding them", n, size)
			continue
		}
		info, err := flow.Parse(f)
		if err != nil || info.Key.SrcPort() != 1111 || info.Key.DstPort() != 2222 || info.Key.Proto() != flow.ProtoUDP {
			t.Errorf("%d data bytes: parsed %v, %v; want UDP 1111 > 2222 after the AH", n, info.Key, err)
		}
	}
}

// onesSum is an independent RFC 1071 sum: the big-endian 16-bit words of
// the byte slices (each one's odd last byte padded with zero), with the
// carries folded back in.
func onesSum(parts ...[]byte) uint16 {
	var s uint64
	for _, b := range parts {
		for i := 0; i < len(b); i += 2 {
			w := uint64(b[i]) << 8
			if i+1 < len(b) {
				w |= uint64(b[i+1])
			}
			s += w
		}
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// pseudo returns the pseudo-header of RFC 768 / RFC 8200 section 8.1 for
// an upper-layer packet of n bytes: addresses, the length as 32 bits, and
// the protocol (IPv4 stores its length as 16 bits, which sums the same).
func pseudo(src, dst netip.Addr, proto uint8, n int) []byte {
	b := append(src.AsSlice(), dst.AsSlice()...)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return append(b, 0, 0, 0, proto)
}

func TestChecksum_RFC1071(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want uint16
	}{
		// RFC 1071 section 3: the words sum to 0x2ddf0, 0xddf2 folded.
		{[]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, ^uint16(0xddf2)},
		// 0xffff + 0xffff + 0x0001 = 0x1ffff: the first fold gives
		// 0x10000, which needs a second fold to 0x0001.
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x01}, 0xfffe},
		// An odd byte is the high byte of a word.
		{[]byte{0x01}, ^uint16(0x0100)},
		{nil, 0xffff},
	} {
		if got := pkt.Checksum(c.b); got != c.want {
			t.Errorf("Checksum(% x) = %#04x, want %#04x", c.b, got, c.want)
		}
	}
}

func TestFrame_Ethernet(t *testing.T) {
	b := pkt.Frame{VLANs: []pkt.VLAN{{ID: 5}, {TPID: 0x88A8, ID: 6}}, EtherType: 0x88B5}.Bytes()
	if !bytes.Equal(b[:6], pkt.DefaultDstMAC[:]) || !bytes.Equal(b[6:12], pkt.DefaultSrcMAC[:]) {
		t.Errorf("default MACs: dst % x src % x", b[:6], b[6:12])
	}
	if tpid := binary.BigEndian.Uint16(b[12:]); tpid != 0x8100 {
		t.Errorf("default TPID %#04x, want 0x8100", tpid)
	}
	if tpid := binary.BigEndian.Uint16(b[16:]); tpid != 0x88A8 {
		t.Errorf("second TPID %#04x, want 0x88a8", tpid)
	}
	src, dst := [6]byte{0x0a, 1, 2, 3, 4, 5}, [6]byte{0x0e, 6, 7, 8, 9, 10}
	b = pkt.Frame{SrcMAC: src, DstMAC: dst, EtherType: 0x88B5}.Bytes()
	if !bytes.Equal(b[:6], dst[:]) || !bytes.Equal(b[6:12], src[:]) || len(b) != 14 {
		t.Errorf("explicit MACs: % x", b)
	}
	// Without an IP layer the transport header follows the EtherType.
	b = pkt.Frame{EtherType: 0x88B5, UDP: &pkt.UDP{SrcPort: 7, DstPort: 9}, Payload: []byte{1, 2}}.Bytes()
	if len(b) != 14+8+2 || binary.BigEndian.Uint16(b[14:]) != 7 || binary.BigEndian.Uint16(b[16:]) != 9 || binary.BigEndian.Uint16(b[18:]) != 10 {
		t.Errorf("UDP without IP: % x", b)
	}
}

func TestFrame_IPv4Fields(t *testing.T) {
	src, dst := pkt.Addr("192.0.2.1"), pkt.Addr("198.51.100.2")
	payload := []byte("fields")
	b := pkt.Frame{
		IP4: &pkt.IPv4{Src: src, Dst: dst, TOS: 0xb8, ID: 0xbeef, Flags: pkt.DF, FragOffset: 0x1abc, Options: []byte{1, 1, 1}},
		TCP: &pkt.TCP{SrcPort: 1000, DstPort: 2000, Seq: 0x01020304, Ack: 0x0a0b0c0d, Flags: pkt.URG | pkt.ACK | pkt.FIN,
			Options: []byte{1, 1, 1}},
		Payload: payload,
	}.Bytes()
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ok {
		t.Fatalf("no IPv4 layer in % x", b)
	}
	// Three option bytes are padded with one zero (end of options list).
	if ip.TOS != 0xb8 || ip.Id != 0xbeef || ip.Flags != layers.IPv4DontFragment || ip.FragOffset != 0x1abc ||
		ip.TTL != 64 || ip.IHL != 6 || ip.Protocol != layers.IPProtocolTCP || ip.Length != 24+24+6 ||
		!ip.SrcIP.Equal(src.AsSlice()) || !ip.DstIP.Equal(dst.AsSlice()) {
		t.Errorf("IPv4 header: %+v", ip)
	}
	if !bytes.Equal(b[14+20:14+24], []byte{1, 1, 1, 0}) || onesSum(b[14:14+24]) != 0xffff {
		t.Errorf("IPv4 options or checksum: % x", b[14:14+24])
	}
	tcp := b[14+24:]
	if binary.BigEndian.Uint16(tcp[0:]) != 1000 || binary.BigEndian.Uint16(tcp[2:]) != 2000 ||
		binary.BigEndian.Uint32(tcp[4:]) != 0x01020304 || binary.BigEndian.Uint32(tcp[8:]) != 0x0a0b0c0d ||
		tcp[12]>>4 != 6 || tcp[13] != pkt.URG|pkt.ACK|pkt.FIN || binary.BigEndian.Uint16(tcp[14:]) != 65535 ||
		!bytes.Equal(tcp[20:24], []byte{1, 1, 1, 0}) || !bytes.Equal(tcp[24:], payload) {
		t.Errorf("TCP header: % x", tcp)
	}
	if onesSum(pseudo(src, dst, pkt.ProtoTCP, len(tcp)), tcp) != 0xffff {
		t.Error("TCP checksum does not verify")
	}
	// 40 option bytes: the largest header, IHL 15.
	b = pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst, Options: make([]byte, 40)}}.Bytes()
	if b[14] != 0x4f {
		t.Errorf("version and IHL %#02x with 40 option bytes, want 0x4f", b[14])
	}
	// An explicit window is stored as is.
	b = pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst}, TCP: &pkt.TCP{Window: 1234}}.Bytes()
	if w := binary.BigEndian.Uint16(b[14+20+14:]); w != 1234 {
		t.Errorf("window %d, want 1234", w)
	}
	// An explicit UDP length is stored as is.
	b = pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst}, UDP: &pkt.UDP{Length: 99}}.Bytes()
	if l := binary.BigEndian.Uint16(b[14+20+4:]); l != 99 {
		t.Errorf("UDP length %d, want 99", l)
	}
}

func TestFrame_IPv6Fields(t *testing.T) {
	src, dst := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8:ffff::2")
	b := pkt.Frame{
		IP6: &pkt.IPv6{Src: src, Dst: dst, TrafficClass: 0xa5, FlowLabel: 0xabcde,
			Ext: []pkt.Ext{
				{Type: pkt.ExtHopByHop, Data: []byte{1, 0}},            // PadN of 2 bytes, padded to 8
				{Type: pkt.ExtRouting, Data: []byte{4, 0, 0, 0, 0, 0}}, // type 4, 0 segments left
				{Type: pkt.ExtFragment, FragOffset: 5, ID: 0x12345678}, // a last fragment
			}},
		UDP: &pkt.UDP{SrcPort: 53, DstPort: 5353}, Payload: []byte("x"),
	}.Bytes()
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if !ok {
		t.Fatalf("no IPv6 layer in % x", b)
	}
	if ip.Version != 6 || ip.TrafficClass != 0xa5 || ip.FlowLabel != 0xabcde || ip.HopLimit != 64 ||
		ip.NextHeader != layers.IPProtocolIPv6HopByHop || ip.Length != 8+8+8+8+1 ||
		!ip.SrcIP.Equal(src.AsSlice()) || !ip.DstIP.Equal(dst.AsSlice()) {
		t.Errorf("IPv6 header: %+v", ip)
	}
	ext := b[14+40:]
	want := []byte{
		pkt.ExtRouting, 0, 1, 0, 0, 0, 0, 0, // hop-by-hop: 8 bytes, length 0
		pkt.ExtFragment, 0, 4, 0, 0, 0, 0, 0, // routing: 8 bytes
		pkt.ProtoUDP, 0, 0, 5 << 3, 0x12, 0x34, 0x56, 0x78, // fragment: offset 5, M clear
	}
	if !bytes.Equal(ext[:24], want) {
		t.Errorf("extension headers\n% x\nwant\n% x", ext[:24], want)
	}
	udp := ext[24:]
	if binary.BigEndian.Uint16(udp) != 53 || binary.BigEndian.Uint16(udp[2:]) != 5353 ||
		onesSum(pseudo(src, dst, pkt.ProtoUDP, len(udp)), udp) != 0xffff {
		t.Errorf("UDP after the extension headers: % x", udp)
	}
	// Explicit hop limit; no upper layer: Protocol, else 59.
	b = pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst, HopLimit: 7, Protocol: pkt.ProtoTCP}, Payload: []byte{1}}.Bytes()
	if b[14+7] != 7 || b[14+6] != pkt.ProtoTCP {
		t.Errorf("hop limit %d, next header %d; want 7, 6", b[14+7], b[14+6])
	}
	b = pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst}}.Bytes()
	if b[14+6] != 59 {
		t.Errorf("next header %d without an upper layer, want 59", b[14+6])
	}
	// Payload length: explicit, and -1 for 0.
	b = pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst, PayloadLength: 1234}}.Bytes()
	if l := binary.BigEndian.Uint16(b[14+4:]); l != 1234 {
		t.Errorf("payload length %d, want 1234", l)
	}
}

// TestFrame_Jumbogram: an upper-layer length over 65535 enters the IPv6
// pseudo-header as 32 bits (RFC 2675 section 4).
func TestFrame_Jumbogram(t *testing.T) {
	src, dst := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8::2")
	payload := make([]byte, 70000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	b := pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst, PayloadLength: -1}, TCP: &pkt.TCP{SrcPort: 1, DstPort: 2}, Payload: payload}.Bytes()
	if l := binary.BigEndian.Uint16(b[14+4:]); l != 0 {
		t.Errorf("payload length %d, want 0", l)
	}
	tcp := b[14+40:]
	if onesSum(pseudo(src, dst, pkt.ProtoTCP, len(tcp)), tcp) != 0xffff {
		t.Error("TCP checksum of a jumbogram does not verify")
	}
}

func TestFrame_ICMP(t *testing.T) {
	src4, dst4 := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	b := pkt.Frame{IP4: &pkt.IPv4{Src: src4, Dst: dst4}, ICMP: &pkt.ICMP{Type: 3, Code: 4, Rest: [4]byte{1, 2, 3, 4}}, Payload: []byte("ab")}.Bytes()
	m := b[14+20:]
	if m[0] != 3 || m[1] != 4 || !bytes.Equal(m[4:8], []byte{1, 2, 3, 4}) || onesSum(m) != 0xffff {
		t.Errorf("ICMP message % x", m)
	}
	src6, dst6 := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8::2")
	b = pkt.Frame{IP6: &pkt.IPv6{Src: src6, Dst: dst6}, ICMPv6: &pkt.ICMPv6{Type: 1, Code: 3, Rest: [4]byte{5, 6, 7, 8}}, Payload: []byte("ab")}.Bytes()
	m = b[14+40:]
	if m[0] != 1 || m[1] != 3 || !bytes.Equal(m[4:8], []byte{5, 6, 7, 8}) || onesSum(pseudo(src6, dst6, pkt.ProtoICMPv6, len(m)), m) != 0xffff {
		t.Errorf("ICMPv6 message % x", m)
	}
}

// TestFrame_BadChecksum: BadChecksum makes each checksum fail to verify.
func TestFrame_BadChecksum(t *testing.T) {
	src4, dst4 := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	src6, dst6 := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8::2")
	ip4 := &pkt.IPv4{Src: src4, Dst: dst4}
	ip6 := &pkt.IPv6{Src: src6, Dst: dst6}
	payload := []byte("payload")
	for _, c := range []struct {
		name  string
		frame pkt.Frame
		sum   func(l4 []byte) uint16
	}{
		{"tcp", pkt.Frame{IP4: ip4, TCP: &pkt.TCP{BadChecksum: true}, Payload: payload},
			func(l4 []byte) uint16 { return onesSum(pseudo(src4, dst4, pkt.ProtoTCP, len(l4)), l4) }},
		{"udp", pkt.Frame{IP4: ip4, UDP: &pkt.UDP{BadChecksum: true}, Payload: payload},
			func(l4 []byte) uint16 { return onesSum(pseudo(src4, dst4, pkt.ProtoUDP, len(l4)), l4) }},
		{"icmp", pkt.Frame{IP4: ip4, ICMP: &pkt.ICMP{Type: 8, BadChecksum: true}, Payload: payload},
			func(l4 []byte) uint16 { return onesSum(l4) }},
		{"icmpv6", pkt.Frame{IP6: ip6, ICMPv6: &pkt.ICMPv6{Type: 128, BadChecksum: true}, Payload: payload},
			func(l4 []byte) uint16 { return onesSum(pseudo(src6, dst6, pkt.ProtoICMPv6, len(l4)), l4) }},
	} {
		l4 := c.frame.Bytes()[14+20:]
		if c.frame.IP6 != nil {
			l4 = c.frame.Bytes()[14+40:]
		}
		if c.sum(l4) == 0xffff {
			t.Errorf("%s: a bad checksum verifies: % x", c.name, l4)
		}
	}
}

// TestFrame_ZeroChecksum: a UDP checksum that computes to zero is sent as
// 0xffff (RFC 768), since zero means "no checksum"; a TCP one stays zero.
func TestFrame_ZeroChecksum(t *testing.T) {
	src, dst := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	for _, c := range []struct {
		name      string
		frame     func(payload []byte) pkt.Frame
		proto     uint8
		off, want int // checksum offset in the segment and the value to find there
	}{
		{"udp", func(p []byte) pkt.Frame {
			return pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: p}
		}, pkt.ProtoUDP, 6, 0xffff},
		{"tcp", func(p []byte) pkt.Frame {
			return pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst}, TCP: &pkt.TCP{SrcPort: 1, DstPort: 2}, Payload: p}
		}, pkt.ProtoTCP, 16, 0},
	} {
		// Choose the last payload word so that the sum of everything but
		// the checksum is 0xffff: the checksum then computes to zero.
		payload := []byte{9, 8, 7, 6, 0, 0}
		seg := bytes.Clone(c.frame(payload).Bytes()[14+20:])
		seg[c.off], seg[c.off+1] = 0, 0
		binary.BigEndian.PutUint16(payload[4:], ^onesSum(pseudo(src, dst, c.proto, len(seg)), seg))
		seg = c.frame(payload).Bytes()[14+20:]
		if got := binary.BigEndian.Uint16(seg[c.off:]); int(got) != c.want {
			t.Errorf("%s: checksum field %#04x, want %#04x", c.name, got, c.want)
		}
		if onesSum(pseudo(src, dst, c.proto, len(seg)), seg) != 0xffff {
			t.Errorf("%s: checksum does not verify", c.name)
		}
	}
}

func TestShortForms(t *testing.T) {
	all := uint8(pkt.FIN | pkt.SYN | pkt.RST | pkt.PSH | pkt.ACK | pkt.URG)
	for _, c := range []struct {
		name     string
		frame    []byte
		src, dst string // "addr:port", or an address for ICMP
		flags    uint8
		typeCode [2]uint8
	}{
		{"udp4", pkt.UDP4("10.0.0.1:1111", "10.0.0.2:2222", nil), "10.0.0.1:1111", "10.0.0.2:2222", 0, [2]uint8{}},
		{"udp6", pkt.UDP6("[2001:db8::1]:1111", "[2001:db8::2]:2222", nil), "[2001:db8::1]:1111", "[2001:db8::2]:2222", 0, [2]uint8{}},
		{"tcp4", pkt.TCP4("10.0.0.1:1111", "10.0.0.2:2222", all, nil), "10.0.0.1:1111", "10.0.0.2:2222", all, [2]uint8{}},
		{"tcp6", pkt.TCP6("[2001:db8::1]:1111", "[2001:db8::2]:2222", all, nil), "[2001:db8::1]:1111", "[2001:db8::2]:2222", all, [2]uint8{}},
		{"icmp4", pkt.ICMP4("10.0.0.1", "10.0.0.2", 3, 1, nil), "10.0.0.1", "10.0.0.2", 0, [2]uint8{3, 1}},
		{"icmp6", pkt.ICMP6("2001:db8::1", "2001:db8::2", 1, 4, nil), "2001:db8::1", "2001:db8::2", 0, [2]uint8{1, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var src, dst netip.AddrPort
			if c.typeCode == [2]uint8{} {
				src, dst = pkt.AddrPort(c.src), pkt.AddrPort(c.dst)
			} else {
				src, dst = netip.AddrPortFrom(pkt.Addr(c.src), 0), netip.AddrPortFrom(pkt.Addr(c.dst), 0)
			}
			b, l3 := c.frame[14:], 20
			var gotSrc, gotDst netip.Addr
			var hop uint8
			if src.Addr().Is4() {
				gotSrc, gotDst, hop = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), b[8]
			} else {
				gotSrc, gotDst, hop, l3 = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), b[7], 40
			}
			if gotSrc != src.Addr() || gotDst != dst.Addr() || hop != 64 {
				t.Errorf("addresses %v > %v hop limit %d, want %v > %v 64", gotSrc, gotDst, hop, src.Addr(), dst.Addr())
			}
			l4 := b[l3:]
			if c.typeCode != ([2]uint8{}) {
				if l4[0] != c.typeCode[0] || l4[1] != c.typeCode[1] {
					t.Errorf("type %d code %d, want %d %d", l4[0], l4[1], c.typeCode[0], c.typeCode[1])
				}
				return
			}
			if sp, dp := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]); sp != src.Port() || dp != dst.Port() {
				t.Errorf("ports %d > %d, want %d > %d", sp, dp, src.Port(), dst.Port())
			}
			if c.flags != 0 && l4[13] != c.flags {
				t.Errorf("TCP flags %#02x, want %#02x", l4[13], c.flags)
			}
		})
	}
}

func TestFrame_PanicsOnBadLayers(t *testing.T) {
	v4, v6 := pkt.Addr("10.0.0.1"), pkt.Addr("2001:db8::1")
	for _, c := range []struct {
		name string
		f    pkt.Frame
	}{
		{"IPv6 destination in IPv4", pkt.Frame{IP4: &pkt.IPv4{Src: v4, Dst: v6}}},
		{"IPv4 destination in IPv6", pkt.Frame{IP6: &pkt.IPv6{Src: v6, Dst: v4}}},
		{"IPv4 source in IPv6", pkt.Frame{IP6: &pkt.IPv6{Src: v4, Dst: v6}}},
		{"IPv4 and IPv6", pkt.Frame{IP4: &pkt.IPv4{Src: v4, Dst: v4}, IP6: &pkt.IPv6{Src: v6, Dst: v6}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", c.name)
				}
			}()
			c.f.Bytes()
		}()
	}
}

// TestFrame_PanicsOnLengthOverflow: a computed header length that its
// field cannot hold panics instead of wrapping: 44 bytes of IPv4 options
// made IHL 16, stored as 0, and an extension header of 2,056 bytes a
// length field of 0, so the next header was read 2,048 bytes early.
// Setting the field builds the frame. Packet lengths over 65,535 still
// wrap: the long-frame tests build 80,000-byte frames.
func TestFrame_PanicsOnLengthOverflow(t *testing.T) {
	v4 := func() *pkt.IPv4 { return &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2")} }
	v6 := func() *pkt.IPv6 { return &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2")} }
	big := make([]byte, 70000)
	for _, c := range []struct {
		name, want string
		f          pkt.Frame
	}{
		{"IPv4 options", "IPv4 options", pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), Options: make([]byte, 41)}}},
		{"TCP options", "TCP options", pkt.Frame{IP4: v4(), TCP: &pkt.TCP{Options: make([]byte, 44)}}},
		{"IPv6 extension header", "extension header", pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
			Ext: []pkt.Ext{{Type: pkt.ExtDstOpts, Data: make([]byte, 2048)}}}}},
		{"IPv6 AH", "extension header", pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
			Ext: []pkt.Ext{{Type: pkt.ExtAH, Data: make([]byte, 1024)}}}}}, // 1032 bytes with padding: 256 units
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Errorf("%s: panic %v, want one naming %q", c.name, r, c.want)
				}
			}()
			b := c.f.Bytes()
			t.Errorf("%s: built % x", c.name, b[:min(len(b), 80)])
		}()
	}
	// The largest that fit, and overrides of the field, build.
	pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), Options: make([]byte, 44), IHL: 15}, TCP: &pkt.TCP{Options: make([]byte, 40)}}.Bytes()
	b := pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", big)
	if l := binary.BigEndian.Uint16(b[14+2:]); int(l) != (20+8+len(big))%65536 {
		t.Errorf("IPv4 total length %d of a 70,028-byte packet, want it modulo 65536", l)
	}
	b = pkt.Frame{IP6: v6(), Payload: big}.Bytes()
	if l := binary.BigEndian.Uint16(b[14+4:]); int(l) != len(big)%65536 {
		t.Errorf("IPv6 payload length %d of a 70,000-byte payload, want it modulo 65536", l)
	}
	b = pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
		Ext: []pkt.Ext{{Type: pkt.ExtDstOpts, Data: make([]byte, 2046)}, {Type: pkt.ExtAH, Data: make([]byte, 1022)}}}}.Bytes()
	if b[14+41] != 255 || b[14+40+2048+1] != 254 { // AH: 1024 bytes, a multiple of 8 (RFC 4302), in 4-byte units less two
		t.Errorf("largest extension headers: length fields %d and %d, want 255 and 254", b[14+41], b[14+40+2048+1])
	}
}
