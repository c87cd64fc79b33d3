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

// TestKernel_OuterTOS: the outer header carries the inner packet's DSCP
// and ECN bits (the IPv4 type of service, or the IPv6 traffic class),
// copied as RFC 2003 section 3.1 says for the type of service and RFC
// 6040 for ECN, so that priority traffic keeps its class and ECN-capable
// flows stay ECN-capable between the balancer and the backend. All four
// combinations of inner and outer family; kernel and model alike.
func TestKernel_OuterTOS(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1"))
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 81, flow.ProtoTCP}, backends("2001:db8:1::1"))
	p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 80, flow.ProtoTCP}, backends("10.1.0.2"))
	p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 81, flow.ProtoTCP}, backends("2001:db8:1::2"))

	const tos = 0xb9 // DSCP EF (46) and ECN ECT(1)
	v4 := func(port uint16) []byte {
		// 203.0.113.5:40000 > 198.51.100.1:port TCP SYN, TOS 0xb9
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1"), TOS: tos, Flags: pkt.DF},
			TCP: &pkt.TCP{SrcPort: 40000, DstPort: port, Flags: pkt.SYN}}.Bytes()
	}
	v6 := func(port uint16) []byte {
		// [2001:db8::5]:40000 > [2001:db8::80]:port TCP SYN, traffic class 0xb9
		return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::5"), Dst: pkt.Addr("2001:db8::80"), TrafficClass: tos, FlowLabel: 0xfffff},
			TCP: &pkt.TCP{SrcPort: 40000, DstPort: port, Flags: pkt.SYN}}.Bytes()
	}
	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"IPv4 in IPv4", v4(80)}, {"IPv4 in IPv6", v4(81)}, {"IPv6 in IPv4", v6(80)}, {"IPv6 in IPv6", v6(81)},
	} {
		v, out := kerneltest.Run(t, p.lb.Program(), c.frame)
		mv, mout, mb := p.model.Process(c.frame)
		if v != TX || mv != TX || !bytes.Equal(out, mout) {
			t.Fatalf("%s: kernel %d sent\n%x\nmodel %d sent\n%x", c.name, v, out, mv, mout)
		}
		pk := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
		var got uint8
		if mb.Is4() {
			ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			got = ip.TOS
			checkOuter(t, out, mb, int(ip.Length)-20) // the checksum covers the TOS
		} else {
			ip := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
			got = ip.TrafficClass
			info, err := flow.Parse(c.frame)
			if err != nil {
				t.Fatal(err)
			}
			if want := info.Key.Hash(3) & 0xfffff; ip.FlowLabel != uint32(want) {
				t.Errorf("%s: outer flow label %#x, want %#x", c.name, ip.FlowLabel, want)
			}
		}
		if got != tos {
			t.Errorf("%s: outer TOS / traffic class %#02x, want the inner %#02x", c.name, got, tos)
		}
	}
}
