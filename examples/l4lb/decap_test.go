//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestDecap_OuterFragments: the decap program stands in for an ipip
// device, which reassembles a fragmented outer packet before it strips
// the outer header. The load balancer sends inner packets without DF with
// an outer DF clear too, so a router on the way may fragment the outer
// packet. Each outer fragment must then go to the stack untouched: with
// its outer header stripped, a first fragment would become a cut inner
// packet, and a later fragment would turn bytes of the inner payload into
// a packet header.
func TestDecap_OuterFragments(t *testing.T) {
	objs := decapFor(t)

	// The inner packet, 203.0.113.5:5353 > 10.200.100.1:7000 UDP.
	inner := pkt.UDP4("203.0.113.5:5353", "10.200.100.1:7000", make([]byte, 64))[14:]
	outer := func(flags uint8, off uint16, payload []byte) []byte {
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), ID: 7,
			Flags: flags, FragOffset: off, Protocol: 4}, Payload: payload}.Bytes()
	}

	// A whole outer packet loses its outer header.
	whole := outer(0, 0, inner)
	v, out := kerneltest.Run(t, objs.XdpDecap, whole)
	if v != 2 || !bytes.Equal(out[14:], inner) || !bytes.Equal(out[:12], whole[:12]) {
		t.Fatalf("whole outer packet: verdict %d, frame %x; want XDP_PASS with the inner packet", v, out)
	}

	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"first outer fragment", outer(pkt.MF, 0, inner[:48])},
		// The payload of a later fragment: here bytes that happen to read
		// as an IPv4 header.
		{"later outer fragment", outer(0, 6, inner[48:])},
		{"later outer fragment, IPv4-looking payload", outer(0, 6, inner)},
	} {
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if v != 2 || !bytes.Equal(out, c.frame) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS, untouched\n%x", c.name, v, out, c.frame)
		}
	}
}

// TestDecap_Outer: IPv4 or IPv6 inside IPv4 or inside IPv6 loses its
// outer header and keeps its MAC addresses, under the EtherType of the
// inner packet, whether or not the outer IPv4 header has DF set. Anything
// an ipip device would not take passes untouched: an outer IPv4 header
// with options, an outer fragment whose offset lies in the high bits, a
// protocol other than 4 and 41, an EtherType other than IPv4's and IPv6's,
// a header of another version under IPv6's EtherType (it was stripped as
// if it were IPv6), and a frame too short to hold an outer and an inner
// header.
func TestDecap_Outer(t *testing.T) {
	objs := decapFor(t)

	in4 := pkt.UDP4("203.0.113.5:5353", "10.200.100.1:7000", make([]byte, 64))[14:]
	in6 := pkt.UDP6("[2001:db8::5]:5353", "[2001:db8:100::1]:7000", make([]byte, 64))[14:]
	outer4 := func(ip pkt.IPv4, payload []byte) []byte {
		ip.Src, ip.Dst = pkt.Addr("10.200.2.2"), pkt.Addr("10.200.11.2")
		return pkt.Frame{SrcMAC: [6]byte{2, 0, 0, 0, 0, 0xaa}, DstMAC: [6]byte{2, 0, 0, 0, 0, 0xbb}, IP4: &ip, Payload: payload}.Bytes()
	}
	version := func(frame []byte, v byte) []byte {
		frame[14] = v<<4 | frame[14]&0x0f
		return frame
	}
	outer6 := func(next uint8, payload []byte) []byte {
		return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"), Protocol: next}, Payload: payload}.Bytes()
	}

	for _, c := range []struct {
		name      string
		frame     []byte
		inner     []byte
		etherType uint16
	}{
		{"IPv4 in IPv4", outer4(pkt.IPv4{Protocol: 4}, in4), in4, 0x0800},
		{"IPv4 in IPv4, outer DF set", outer4(pkt.IPv4{Protocol: 4, Flags: pkt.DF}, in4), in4, 0x0800},
		{"IPv6 in IPv4", outer4(pkt.IPv4{Protocol: 41}, in6), in6, 0x86dd},
		{"IPv4 in IPv6", outer6(4, in4), in4, 0x0800},
		{"IPv6 in IPv6", outer6(41, in6), in6, 0x86dd},
	} {
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if v != 2 || len(out) < 14 || !bytes.Equal(out[:12], c.frame[:12]) ||
			binary.BigEndian.Uint16(out[12:14]) != c.etherType || !bytes.Equal(out[14:], c.inner) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS with the MACs, EtherType %#04x and the inner packet\n%x",
				c.name, v, out, c.etherType, c.inner)
		}
	}

	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"outer IPv4 options", outer4(pkt.IPv4{Protocol: 4, Options: []byte{1, 1, 1, 1}}, in4)},
		{"outer fragment at offset 2048 (8-byte units)", outer4(pkt.IPv4{Protocol: 4, FragOffset: 0x800}, in4)},
		{"UDP in IPv4", outer4(pkt.IPv4{Protocol: 17}, in4)},
		{"UDP in IPv6", outer6(17, in4)},
		{"too short for an inner header", outer4(pkt.IPv4{Protocol: 4}, in4[:19])},
		// IP headers under EtherTypes that differ from IPv4's and IPv6's
		// in their second byte only.
		{"EtherType 0x0806", pkt.Frame{EtherType: 0x0806, Payload: outer4(pkt.IPv4{Protocol: 4}, in4)[14:]}.Bytes()},
		{"EtherType 0x86dc", pkt.Frame{EtherType: 0x86dc, Payload: outer6(4, in4)[14:]}.Bytes()},
		// Under IPv6's EtherType, a header of another IP version: the
		// stack drops it before any tunnel could see it.
		{"IPv6 EtherType, version 4", version(outer6(41, in6), 4)},
		{"IPv6 EtherType, version 7", version(outer6(4, in4), 7)},
	} {
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if v != 2 || !bytes.Equal(out, c.frame) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS, untouched\n%x", c.name, v, out, c.frame)
		}
	}
}

// TestDecap_OuterHeaderChecks: an outer header that the stack would drop
// before any tunnel saw it passes untouched, for the stack to drop, as an
// ipip device never sees it: an IPv4 header whose checksum is wrong (RFC
// 1122 section 3.2.1.2; the program used to strip it and hand the inner
// packet up), an IPv4 total length below the header's 20 bytes, and an
// IPv4 total length or IPv6 payload length that runs past the frame (a
// cut packet). Bytes after the outer packet's length (Ethernet padding)
// are cut off, as the stack cuts them: they used to become the inner
// packet's tail.
func TestDecap_OuterHeaderChecks(t *testing.T) {
	objs := decapFor(t)

	in4 := pkt.UDP4("203.0.113.5:5353", "10.200.100.1:7000", make([]byte, 64))[14:]
	outer4 := func(ip pkt.IPv4, payload []byte) []byte {
		ip.Src, ip.Dst, ip.Protocol = pkt.Addr("10.200.2.2"), pkt.Addr("10.200.11.2"), 4
		return pkt.Frame{IP4: &ip, Payload: payload}.Bytes()
	}
	outer6 := func(ip pkt.IPv6, payload []byte) []byte {
		ip.Src, ip.Dst, ip.Protocol = pkt.Addr("2001:db8:2::2"), pkt.Addr("2001:db8:11::2"), 4
		return pkt.Frame{IP6: &ip, Payload: payload}.Bytes()
	}
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"outer IPv4 checksum wrong", outer4(pkt.IPv4{BadChecksum: true}, in4)},
		{"outer IPv4 checksum wrong, outer CE on a Not-ECT inner packet", outer4(pkt.IPv4{BadChecksum: true, TOS: ecnCE}, in4)},
		{"outer IPv4 total length 19", outer4(pkt.IPv4{TotalLength: 19}, in4)},
		{"outer IPv4 total length one past the frame", outer4(pkt.IPv4{TotalLength: uint16(20 + len(in4) + 1)}, in4)},
		{"outer IPv6 payload length one past the frame", outer6(pkt.IPv6{PayloadLength: len(in4) + 1}, in4)},
	} {
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if v != 2 || !bytes.Equal(out, c.frame) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS, untouched\n%x", c.name, v, out, c.frame)
		}
		if mv, mf := decapModel(c.frame); mv != v || !bytes.Equal(mf, out) {
			t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
		}
	}

	// Padding after the outer packet is not the inner packet's.
	pad := []byte{0xde, 0xad, 0xbe, 0xef, 0, 0}
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"IPv4 outer packet with 6 bytes of padding", append(outer4(pkt.IPv4{}, in4), pad...)},
		{"IPv6 outer packet with 6 bytes of padding", append(outer6(pkt.IPv6{}, in4), pad...)},
		// A total length that ends inside the inner header: the frame's
		// bytes after it are still cut, and the stack drops the cut inner
		// packet.
		{"IPv4 outer packet ending 10 bytes into the inner header", outer4(pkt.IPv4{TotalLength: 30}, in4)},
	} {
		n := len(c.frame) - len(pad)
		if c.frame[14]>>4 == 4 {
			n = 14 + (int(c.frame[16])<<8 | int(c.frame[17]))
		}
		hl := 20
		if c.frame[14]>>4 == 6 {
			hl = 40
		}
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if want := c.frame[14+hl : n]; v != 2 || len(out) < 14 || !bytes.Equal(out[14:], want) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS with the inner packet alone\n%x", c.name, v, out, want)
		}
		if mv, mf := decapModel(c.frame); mv != v || !bytes.Equal(mf, out) {
			t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
		}
	}
}

// TestDecap_OuterDestination: the program takes only the packets
// addressed to its backend, as an ipip device sees only packets delivered
// to its host. An outer destination that differs from the backend's
// address (in its first or its last byte), or a family the program has no
// address for, passes untouched, for the stack to forward or drop; the
// model agrees on each. The same inner packet to the backend's address is
// decapsulated, so that the check is what tells them apart.
func TestDecap_OuterDestination(t *testing.T) {
	in4 := pkt.UDP4("203.0.113.5:5353", "10.200.100.1:7000", make([]byte, 64))[14:]
	to4 := func(dst string) []byte {
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr(dst), Protocol: 4}, Payload: in4}.Bytes()
	}
	to6 := func(dst string) []byte {
		return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr(dst), Protocol: 4}, Payload: in4}.Bytes()
	}
	var none4 [4]byte
	var none6 [16]byte
	for _, c := range []struct {
		name     string
		local    []netip.Addr
		l4       [4]byte
		l6       [16]byte
		taken    [][]byte // decapsulated
		passedBy [][]byte // untouched
	}{
		{
			name: "both families", local: []netip.Addr{backend4, backend6}, l4: backend4.As4(), l6: backend6.As16(),
			taken: [][]byte{to4("10.200.11.2"), to6("2001:db8:11::2")},
			passedBy: [][]byte{to4("11.200.11.2"), to4("10.200.11.3"), to4("10.200.12.2"),
				to6("3001:db8:11::2"), to6("2001:db8:11::3"), to6("::ffff:10.200.11.2")},
		},
		{
			name: "IPv4 alone", local: []netip.Addr{backend4}, l4: backend4.As4(), l6: none6,
			taken:    [][]byte{to4("10.200.11.2")},
			passedBy: [][]byte{to6("2001:db8:11::2"), to6("::")},
		},
		{
			name: "IPv6 alone", local: []netip.Addr{backend6}, l4: none4, l6: backend6.As16(),
			taken:    [][]byte{to6("2001:db8:11::2")},
			passedBy: [][]byte{to4("10.200.11.2"), to4("0.0.0.0")},
		},
	} {
		objs := decapAt(t, c.local...)
		for _, frame := range c.taken {
			v, out := kerneltest.Run(t, objs.XdpDecap, frame)
			if v != 2 || len(out) < 14 || !bytes.Equal(out[14:], in4) {
				t.Errorf("%s: %x: verdict %d, frame\n%x\nwant XDP_PASS with the inner packet", c.name, frame[14:], v, out)
			}
			if mv, mf := decapModelFor(frame, c.l4, c.l6); mv != v || !bytes.Equal(mf, out) {
				t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
			}
		}
		for _, frame := range c.passedBy {
			v, out := kerneltest.Run(t, objs.XdpDecap, frame)
			if v != 2 || !bytes.Equal(out, frame) {
				t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS, untouched\n%x", c.name, v, out, frame)
			}
			if mv, mf := decapModelFor(frame, c.l4, c.l6); mv != v || !bytes.Equal(mf, out) {
				t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
			}
		}
	}
}

// TestNewDecap_Addresses: newDecap refuses addresses it cannot take,
// naming the address and what it accepts, before it loads anything (so
// this runs without privileges).
func TestNewDecap_Addresses(t *testing.T) {
	for _, c := range []struct {
		name  string
		local []netip.Addr
		want  string
	}{
		{"zero Addr", []netip.Addr{{}}, `local address "invalid IP": want a backend's IPv4 or IPv6 address`},
		{"0.0.0.0", []netip.Addr{netip.IPv4Unspecified()}, `local address "0.0.0.0": want a backend's IPv4 or IPv6 address, not an unspecified one`},
		{"::", []netip.Addr{netip.IPv6Unspecified()}, `local address "::": want`},
		{"two IPv4", []netip.Addr{backend4, netip.MustParseAddr("10.200.12.2")}, "local address 10.200.12.2: want at most one IPv4 and one IPv6 address"},
		{"two IPv6", []netip.Addr{backend6, backend6}, "local address 2001:db8:11::2: want at most one IPv4 and one IPv6 address"},
	} {
		objs, err := newDecap(c.local...)
		if err == nil {
			objs.Close()
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to say %q", c.name, err, c.want)
		}
	}
}
