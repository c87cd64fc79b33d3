package gopacketkey_test

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flow/gopacketkey"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKey spot-checks the adapter on its own. The differential test of
// package flow (flow/gopacket_test.go) runs it on every table case and
// every captured packet against Parse.
func TestKey(t *testing.T) {
	a4, b4 := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	a6, b6 := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8::2")
	// eth 0800 | ipv4 MF offset=0 udp | udp 5353 > 53 | 32 bytes: gopacket stops at a fragment layer
	first := pkt.Frame{IP4: &pkt.IPv4{Src: a4, Dst: b4, Flags: pkt.MF}, UDP: &pkt.UDP{SrcPort: 5353, DstPort: 53}, Payload: make([]byte, 32)}.Bytes()
	// eth 0800 | ipv4 offset=8 udp | 16 bytes of the datagram's middle: zero ports
	later := pkt.Frame{IP4: &pkt.IPv4{Src: a4, Dst: b4, FragOffset: 1, Protocol: pkt.ProtoUDP}, Payload: make([]byte, 16)}.Bytes()
	// eth 86dd | ipv6 | fragment offset=0 M=1 | udp 1 > 2
	first6 := pkt.Frame{IP6: &pkt.IPv6{Src: a6, Dst: b6, Ext: []pkt.Ext{{Type: pkt.ExtFragment, More: true, ID: 1}}}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()
	// eth 86dd | ipv6 | hop-by-hop | destination options | tcp 443 > 51000
	ext6 := pkt.Frame{IP6: &pkt.IPv6{Src: a6, Dst: b6, Ext: []pkt.Ext{{Type: pkt.ExtHopByHop}, {Type: pkt.ExtDstOpts}}}, TCP: &pkt.TCP{SrcPort: 443, DstPort: 51000}}.Bytes()
	// eth 8100 vid=10 | 0800 | ipv4 icmp echo
	icmp := pkt.Frame{VLANs: []pkt.VLAN{{ID: 10}}, IP4: &pkt.IPv4{Src: a4, Dst: b4}, ICMP: &pkt.ICMP{Type: 8}}.Bytes()
	// eth 0806 (ARP) | 28 bytes
	arp := pkt.Frame{EtherType: 0x0806, Payload: make([]byte, 28)}.Bytes()
	// eth 0800 | ipv4 tcp | 12 bytes of TCP
	short := pkt.Frame{IP4: &pkt.IPv4{Src: a4, Dst: b4, Protocol: pkt.ProtoTCP}, Payload: make([]byte, 12)}.Bytes()
	for _, c := range []struct {
		name  string
		frame []byte
		want  flow.Key
		ok    bool
	}{
		{"first fragment", first, flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP), true},
		{"later fragment", later, flow.MustKey("10.0.0.1", "10.0.0.2", 0, 0, flow.ProtoUDP), true},
		{"ipv6 first fragment", first6, flow.MustKey("2001:db8::1", "2001:db8::2", 1, 2, flow.ProtoUDP), true},
		{"ipv6 extension headers", ext6, flow.MustKey("2001:db8::1", "2001:db8::2", 443, 51000, flow.ProtoTCP), true},
		{"vlan icmp", icmp, flow.MustKey("10.0.0.1", "10.0.0.2", 0, 0, flow.ProtoICMP), true},
		{"arp", arp, flow.Key{}, false},
		{"short tcp", short, flow.Key{}, false},
	} {
		k, ok := gopacketkey.Key(gopacket.NewPacket(c.frame, layers.LayerTypeEthernet, gopacket.Default))
		if k != c.want || ok != c.ok {
			t.Errorf("%s: Key = %v, %v; want %v, %v", c.name, k, ok, c.want, c.ok)
		}
	}
}

// TestKey_Nil: a nil packet, which a receive from a closed
// PacketSource channel gives, has no key; Key used to panic on it.
func TestKey_Nil(t *testing.T) {
	if k, ok := gopacketkey.Key(nil); ok || k != (flow.Key{}) {
		t.Fatalf("Key(nil) = %v, %v; want the zero Key, false", k, ok)
	}
}
