package xdp

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestEncapsulate_BadConfig: Encapsulate panics, naming what is wrong,
// on a Config that SetConfig refuses or that lacks the backend family's
// outer source, rather than sending a frame without MACs (nil MACs) or
// from 0.0.0.0, or panicking inside netip (an IPv6 Src4). A good Config
// still encapsulates: 14 bytes of Ethernet and 20 of outer IPv4.
func TestEncapsulate_BadConfig(t *testing.T) {
	// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN
	frame := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1")},
		TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}}.Bytes()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	good := Config{SrcMAC: mac, DstMAC: mac, Src4: netip.MustParseAddr("192.0.2.1"), Src6: netip.MustParseAddr("2001:db8::1")}
	b4, b6 := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("2001:db8:1::1")
	for _, b := range []netip.Addr{b4, b6} {
		out, ok := Encapsulate(frame, 1, b, good, 1500)
		encap := 20
		if b.Is6() {
			encap = 40
		}
		if !ok || len(out) != len(frame)+encap {
			t.Fatalf("good config, backend %v: %d bytes, ok %v; want %d", b, len(out), ok, len(frame)+encap)
		}
	}
	with := func(f func(*Config)) Config { c := good; f(&c); return c }
	for _, tc := range []struct {
		name    string
		c       Config
		backend netip.Addr
		want    string
	}{
		{"zero Config", Config{}, b4, "MACs must be 6 bytes"},
		{"short SrcMAC", with(func(c *Config) { c.SrcMAC = mac[:3] }), b4, "MACs must be 6 bytes"},
		{"IPv6 Src4", with(func(c *Config) { c.Src4 = b6 }), b4, "Src4 must be"},
		{"IPv4 Src6", with(func(c *Config) { c.Src6 = b4 }), b6, "Src6 must be"},
		{"no Src4", with(func(c *Config) { c.Src4 = netip.Addr{} }), b4, "no outer source address for backend 10.1.0.1"},
		{"no Src6", with(func(c *Config) { c.Src6 = netip.Addr{} }), b6, "no outer source address for backend 2001:db8:1::1"},
		{"zero backend", good, netip.Addr{}, "backend is the zero netip.Addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "xdp.Encapsulate: ") || !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %v, want one naming %q", r, tc.want)
				}
			}()
			out, ok := Encapsulate(frame, 1, tc.backend, tc.c, 1500)
			t.Errorf("no panic: %d bytes, ok %v", len(out), ok)
		})
	}
}
