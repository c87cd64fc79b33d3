package pkt_test

import (
	"bytes"
	"encoding/binary"
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
