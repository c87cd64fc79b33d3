package xdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestEncapsulate_BadInput: Encapsulate returns an error naming what is
// wrong, and no frame, on a Config that SetConfig refuses or that lacks
// the backend family's outer source, a zero backend, or a frame it cannot
// read, rather than sending a frame without MACs (nil MACs) or from
// 0.0.0.0, or panicking (an IPv6 Src4, a short frame). A good Config
// still encapsulates: 14 bytes of Ethernet and 20 or 40 of outer IP.
func TestEncapsulate_BadInput(t *testing.T) {
	// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN
	frame := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1")},
		TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}}.Bytes()
	frame6 := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:5::5"), Dst: pkt.Addr("2001:db8:6::1")},
		UDP: &pkt.UDP{SrcPort: 40000, DstPort: 53}}.Bytes()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	good := Config{SrcMAC: mac, DstMAC: mac, Src4: netip.MustParseAddr("192.0.2.1"), Src6: netip.MustParseAddr("2001:db8::1")}
	b4, b6 := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("2001:db8:1::1")
	for _, f := range [][]byte{frame, frame6} {
		for _, b := range []netip.Addr{b4, b6} {
			out, err := Encapsulate(f, 1, b, good, 1500)
			encap := 20
			if b.Is6() {
				encap = 40
			}
			if err != nil || len(out) != len(f)+encap {
				t.Fatalf("good input, backend %v: %d bytes, error %v; want %d", b, len(out), err, len(f)+encap)
			}
		}
	}
	with := func(f func(*Config)) Config { c := good; f(&c); return c }
	// Frames Encapsulate cannot read: each is frame or frame6 cut or
	// changed at one place.
	cut := func(f []byte, n int) []byte { return f[:n] }
	set := func(f []byte, i int, b byte) []byte { g := append([]byte(nil), f...); g[i] = b; return g }
	ipLen := int(binary.BigEndian.Uint16(frame[16:])) // the IPv4 total length
	const badFrame = "untagged Ethernet frame of IPv4 (EtherType 0x0800, at least 34 bytes) or IPv6 (0x86dd, at least 54 bytes)"
	for _, tc := range []struct {
		name    string
		frame   []byte
		c       Config
		backend netip.Addr
		mtu     int
		want    string
		is      error
	}{
		{"zero Config", frame, Config{}, b4, 1500, "MACs must be 6 bytes", nil},
		{"short SrcMAC", frame, with(func(c *Config) { c.SrcMAC = mac[:3] }), b4, 1500, "MACs must be 6 bytes", nil},
		{"IPv6 Src4", frame, with(func(c *Config) { c.Src4 = b6 }), b4, 1500, "Src4 must be", nil},
		{"IPv4 Src6", frame, with(func(c *Config) { c.Src6 = b4 }), b6, 1500, "Src6 must be", nil},
		{"no Src4", frame, with(func(c *Config) { c.Src4 = netip.Addr{} }), b4, 1500, "backend 10.1.0.1 needs Config.Src4", ErrNoSource},
		{"no Src6", frame, with(func(c *Config) { c.Src6 = netip.Addr{} }), b6, 1500, "backend 2001:db8:1::1 needs Config.Src6", ErrNoSource},
		{"zero backend", frame, good, netip.Addr{}, 1500, "backend is the zero netip.Addr", nil},
		{"nil frame", nil, good, b4, 1500, badFrame + ", got 0 bytes of EtherType 0x0000", nil},
		{"Ethernet header only", cut(frame, 14), good, b4, 1500, "got 14 bytes of EtherType 0x0800", nil},
		{"IPv4 header cut", cut(frame, 33), good, b4, 1500, "got 33 bytes", nil},
		{"IPv6 header cut", cut(frame6, 53), good, b4, 1500, "got 53 bytes of EtherType 0x86dd", nil},
		{"IPv4 IHL 4", set(frame, 14, 0x44), good, b4, 1500, badFrame, nil},
		{"IPv6 in an IPv4 EtherType", set(frame6, 12, 0x08), good, b4, 1500, badFrame, nil},
		{"IPv4 in an IPv6 EtherType", set(set(frame, 12, 0x86), 13, 0xdd), good, b4, 1500, badFrame, nil},
		{"VLAN tag", set(frame, 12, 0x81), good, b4, 1500, "EtherType 0x8100", nil},
		{"too big", frame, good, b4, ipLen + 19, "MTU", ErrTooBig},
		{"too big for IPv6 backend", frame, good, b6, ipLen + 39, "MTU", ErrTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Encapsulate(tc.frame, 1, tc.backend, tc.c, tc.mtu)
			if err == nil || out != nil {
				t.Fatalf("%d bytes, error %v; want no frame and an error naming %q", len(out), err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "maglev kernel: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one naming %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
			if tc.is != ErrTooBig && errors.Is(err, ErrTooBig) {
				t.Errorf("error %q matches ErrTooBig", err)
			}
		})
	}
	// The MTU bound is inclusive: exactly mtu bytes of outer packet fit.
	if _, err := Encapsulate(frame, 1, b4, good, ipLen+20); err != nil {
		t.Errorf("outer packet of exactly the MTU: %v", err)
	}
}

// FuzzEncapsulate: on any frame, hash, backend family and MTU,
// Encapsulate either returns an error and no frame, or a frame that
// starts with the Config's MACs, carries the original IP packet and what
// follows it unchanged after an outer header of 20 or 40 bytes, and whose
// outer IP length is within the MTU.
func FuzzEncapsulate(f *testing.F) {
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1")},
		TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}}.Bytes(), uint64(1), false, uint16(1500))
	f.Add(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:5::5"), Dst: pkt.Addr("2001:db8:6::1")},
		UDP: &pkt.UDP{SrcPort: 40000, DstPort: 53}}.Bytes(), uint64(2), true, uint16(1280))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd, 0x60}, uint64(3), true, uint16(9000))
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	peer := net.HardwareAddr{2, 0, 0, 0, 0, 2}
	c := Config{SrcMAC: mac, DstMAC: peer, Src4: netip.MustParseAddr("192.0.2.1"), Src6: netip.MustParseAddr("2001:db8::1")}
	f.Fuzz(func(t *testing.T, frame []byte, hash uint64, six bool, mtu uint16) {
		backend, encap := netip.MustParseAddr("10.1.0.1"), 20
		if six {
			backend, encap = netip.MustParseAddr("2001:db8:1::1"), 40
		}
		out, err := Encapsulate(frame, hash, backend, c, int(mtu))
		if err != nil {
			if out != nil {
				t.Fatalf("error %v with %d bytes of frame", err, len(out))
			}
			return
		}
		if len(out) != len(frame)+encap || !bytes.Equal(out[14+encap:], frame[14:]) {
			t.Fatalf("%d bytes in, %d out, or the IP packet changed:\nin  %x\nout %x", len(frame), len(out), frame, out)
		}
		if !bytes.Equal(out[:6], peer) || !bytes.Equal(out[6:12], mac) {
			t.Fatalf("MACs %x, want %x then %x", out[:12], peer, mac)
		}
		outer := int(binary.BigEndian.Uint16(out[16:])) // IPv4 total length
		if six {
			outer = 40 + int(binary.BigEndian.Uint16(out[18:])) // IPv6 payload length
		}
		if outer > int(mtu) || outer > len(out)-14 {
			t.Fatalf("outer packet of %d bytes, MTU %d, frame of %d", outer, mtu, len(out))
		}
	})
}
