//go:build linux

package xdp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestKernel_OuterDFAndID: the outer IPv4 header copies the inner DF bit
// (RFC 2003 section 3.1); with DF set its identification is 0, with DF
// clear it is inner ID + uint16(hash>>16) + inner fragment offset *
// 0x9e37, so consecutive packets and the fragments of one inner datagram
// get distinct IDs (the fragments share the datagram's flow hash, as the
// fragment table gives later fragments their first fragment's ports). An inner IPv6 packet counts as DF set. Kernel and
// model send the same bytes, and gopacket finds the checksum right.
func TestKernel_OuterDFAndID(t *testing.T) {
	const seed = 7
	p := load(t, Options{Seed: seed, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1"))
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.9"), 0, flow.ProtoUDP}, backends("10.1.0.2"))
	p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 443, flow.ProtoTCP}, backends("10.1.0.3"))
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}, backends("2001:db8:1::1"))

	tcp := func(id uint16, flags uint8) []byte {
		// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN "GET /", IPv4 ID id, flags
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1"), ID: id, Flags: flags},
			TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}, Payload: []byte("GET /")}.Bytes()
	}
	frag := func(off uint16, more bool) []byte { return udpFragment(0x4242, off, more, 64) }
	type outer struct {
		df bool
		id uint16
	}
	send := func(name string, f []byte) (outer, []byte) {
		t.Helper()
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, mb := p.model.Process(f)
		if v != TX || mv != TX || !bytes.Equal(out, mout) {
			t.Fatalf("%s: kernel %d sent\n%x\nmodel %d sent\n%x", name, v, out, mv, mout)
		}
		if mb.Is6() {
			checkOuter(t, out, mb, len(f)-14)
			return outer{}, out
		}
		innerLen := int(f[16])<<8 | int(f[17])
		if f[12] == 0x86 {
			innerLen = len(f) - 14
		}
		checkOuter(t, out, mb, innerLen) // destination, length and checksum
		ip := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments != 0 {
			t.Fatalf("%s: outer header is a fragment: flags %v offset %d", name, ip.Flags, ip.FragOffset)
		}
		return outer{ip.Flags&layers.IPv4DontFragment != 0, ip.Id}, out
	}
	// derived is the documented ID for an inner IPv4 packet without DF;
	// a later fragment's flow hash is its datagram's, the first fragment's.
	derived := func(f []byte) uint16 {
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Fragment == flow.LaterFragment {
			info, _ = flow.Parse(frag(0, true))
		}
		id := uint16(f[18])<<8 | uint16(f[19])
		off := (uint16(f[20])<<8 | uint16(f[21])) & 0x1fff
		return id + uint16(info.Key.Hash(seed)>>16) + off*0x9e37
	}

	if o, _ := send("inner DF set", tcp(0x1234, pkt.DF)); o != (outer{true, 0}) {
		t.Errorf("inner DF set: outer DF %v ID %#x, want DF set, ID 0", o.df, o.id)
	}
	a, _ := send("inner DF clear", tcp(0x1234, 0))
	if a != (outer{false, derived(tcp(0x1234, 0))}) {
		t.Errorf("inner DF clear, ID 0x1234: outer DF %v ID %#x, want DF clear, ID %#x", a.df, a.id, derived(tcp(0x1234, 0)))
	}
	if b, _ := send("inner DF clear, next ID", tcp(0x1235, 0)); b.df || b.id != a.id+1 {
		t.Errorf("the next packet of the flow: outer DF %v ID %#x, want DF clear, ID %#x", b.df, b.id, a.id+1)
	}
	ids := map[uint16]bool{}
	for _, fr := range []struct {
		off  uint16
		more bool
	}{{0, true}, {9, true}, {18, false}} { // three fragments of one datagram
		f := frag(fr.off, fr.more)
		o, _ := send("fragment", f)
		if o.df || o.id != derived(f) || ids[o.id] {
			t.Errorf("fragment at offset %d: outer DF %v ID %#x, want DF clear and the distinct ID %#x (IDs so far %v)", fr.off, o.df, o.id, derived(f), ids)
		}
		ids[o.id] = true
	}
	// [2001:db8::5]:40000 > [2001:db8::80]:443 TCP SYN, to an IPv4 backend
	if o, _ := send("inner IPv6", pkt.TCP6("[2001:db8::5]:40000", "[2001:db8::80]:443", pkt.SYN, nil)); o != (outer{true, 0}) {
		t.Errorf("inner IPv6: outer DF %v ID %#x, want DF set, ID 0", o.df, o.id)
	}
	// 203.0.113.5:5353 > 198.51.100.1:53 UDP, to an IPv6 backend: IPv6 has
	// no DF or ID; the bytes still match the model's.
	send("IPv4 in IPv6", pkt.UDP4("203.0.113.5:5353", "198.51.100.1:53", []byte("q")))
}

// udpFragment returns a fragment of UDP datagram id from 203.0.113.5 to
// 198.51.100.9 at offset off (8-byte units), MF set if more, with n bytes
// of payload; the first fragment (offset 0) carries the UDP header, ports
// 5353 > 9999.
func udpFragment(id, off uint16, more bool, n int) []byte {
	var flags uint8
	if more {
		flags = pkt.MF
	}
	f := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.9"), ID: id, Flags: flags, FragOffset: off},
		Payload: make([]byte, n)}
	if off == 0 {
		f.UDP = &pkt.UDP{SrcPort: 5353, DstPort: 9999}
	} else {
		f.IP4.Protocol = pkt.ProtoUDP
	}
	return f.Bytes()
}
