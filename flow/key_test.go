package flow

import (
	"net/netip"
	"testing"
)

// TestKeyFrom_MappedIPv6 checks that KeyFrom gives back the key Parse takes
// from an IPv6 header carrying an IPv4-mapped address next to a plain IPv6
// one: such a pair is one family (IPv6), not a mixed one.
func TestKeyFrom_MappedIPv6(t *testing.T) {
	for _, c := range []struct{ src, dst string }{
		{"::ffff:10.0.0.1", "2001:db8::2"},
		{"2001:db8::1", "::ffff:10.0.0.2"},
	} {
		frame := cat(eth(0x86DD), ipv6(v6h{next: ProtoUDP, src: c.src, dst: c.dst}, udp(4660, 53, nil)))
		info, err := Parse(frame)
		if err != nil || !info.Key.Is6() {
			t.Fatalf("%s > %s: Parse: %v %v", c.src, c.dst, info.Key, err)
		}
		k := info.Key
		back, err := KeyFrom(k.Src(), k.Dst(), k.SrcPort(), k.DstPort(), k.Proto())
		if err != nil || back != k {
			t.Errorf("KeyFrom(%v, %v, ...) = %v, %v; want %v", k.Src(), k.Dst(), back, err, k)
		}
		if m := MustKey(c.src, c.dst, 4660, 53, ProtoUDP); m != k {
			t.Errorf("MustKey(%q, %q, ...) = %v, want %v", c.src, c.dst, m, k)
		}
	}
	// Both IPv4 or mapped: an IPv4 key, as before.
	want := MustKey("10.0.0.1", "10.0.0.2", 1, 2, ProtoTCP)
	for _, p := range [][2]string{{"::ffff:10.0.0.1", "::ffff:10.0.0.2"}, {"10.0.0.1", "::ffff:10.0.0.2"}} {
		k, err := KeyFrom(netip.MustParseAddr(p[0]), netip.MustParseAddr(p[1]), 1, 2, ProtoTCP)
		if err != nil || k != want {
			t.Errorf("KeyFrom(%s, %s) = %v, %v; want %v", p[0], p[1], k, err, want)
		}
	}
	// IPv4 with plain IPv6 is still an error.
	if _, err := KeyFrom(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::2"), 1, 2, ProtoTCP); err == nil {
		t.Error("KeyFrom accepted 10.0.0.1 with 2001:db8::2")
	}
}

// TestParse_LaterFragmentProtocol pins the rule of the package doc: an IPv6
// later fragment takes the fragment header's next header as its protocol
// even when that is an extension header, which the parser cannot walk in a
// later fragment.
func TestParse_LaterFragmentProtocol(t *testing.T) {
	frame := cat(eth(0x86DD), ipv6(v6h{next: protoFragment, src: "2001:db8::1", dst: "2001:db8::2"},
		frag6(protoDstOpts, 1, false, 7, zeros(8))))
	info, err := Parse(frame)
	if err != nil || info.Fragment != LaterFragment || info.Key.Proto() != protoDstOpts || info.Key.SrcPort() != 0 {
		t.Fatalf("Parse: %v %v %v", info.Key, info.Fragment, err)
	}
}

// TestKeyFrom_BothMapped: an IPv6 key whose two addresses are both IPv4
// mapped does not come back from KeyFrom, which keys such a pair as IPv4
// (the form dual-stack sockets report); KeyFrom16 keeps it. The doc of
// KeyFrom names this one exception to its round trip.
func TestKeyFrom_BothMapped(t *testing.T) {
	src, dst := netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.2")
	k := KeyFrom16(src.As16(), dst.As16(), 1, 2, ProtoTCP)
	back, err := KeyFrom(k.Src(), k.Dst(), 1, 2, ProtoTCP)
	if err != nil {
		t.Fatal(err)
	}
	if want := KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, ProtoTCP); back != want || back == k {
		t.Errorf("KeyFrom of %v = %v, want the IPv4 key %v", k, back, want)
	}
	if KeyFrom16(k.Src().As16(), k.Dst().As16(), 1, 2, ProtoTCP) != k {
		t.Error("KeyFrom16 does not give the key back")
	}
}

// TestProtoName: every protocol that has a name, and the numbered form
// for the others (Key.String shows it).
func TestProtoName(t *testing.T) {
	for p, want := range map[uint8]string{
		ProtoICMP: "icmp", 4: "ipip", ProtoTCP: "tcp", ProtoUDP: "udp", 41: "ipv6", 47: "gre",
		50: "esp", 51: "ah", ProtoICMPv6: "icmpv6", 132: "sctp",
		0: "proto-0", 59: "proto-59", 255: "proto-255",
	} {
		if got := ProtoName(p); got != want {
			t.Errorf("ProtoName(%d) = %q, want %q", p, got, want)
		}
	}
}
