package flow

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// benchFrames is a synthetic mix: the common shapes of real traffic.
func benchFrames() []struct {
	name  string
	frame []byte
} {
	payload := make([]byte, 512)
	return []struct {
		name  string
		frame []byte
	}{
		// eth 0800 | ipv4 tcp | tcp 51000 > 443 doff=8 (timestamps) | 512 bytes
		{"ipv4-tcp", cat(eth(0x0800), ipv4(v4h{flagFrag: df, proto: 6, src: a4, dst: b4}, tcp(51000, 443, 8, payload)))},
		// eth 0800 | ipv4 udp | udp 5353 > 53 | 40 bytes
		{"ipv4-udp", cat(eth(0x0800), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(5353, 53, payload[:40])))},
		// eth 86dd | ipv6 tcp | tcp 51000 > 443 | 512 bytes
		{"ipv6-tcp", cat(eth(0x86dd), ipv6(v6h{next: 6, src: a6, dst: b6}, tcp(51000, 443, 5, payload)))},
		// eth 8100 vid=10 | 0800 | ipv4 udp | udp 1 > 2
		{"vlan-ipv4-udp", cat(eth(0x0800, dot1q(10)), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(1, 2, payload[:64])))},
		// eth 86dd | ipv6 | hop-by-hop | destination options | udp 1 > 2
		{"ipv6-ext-udp", cat(eth(0x86dd), ipv6(v6h{next: 0, src: a6, dst: b6}, ext(60, 0, ext(17, 0, udp(1, 2, payload[:64])))))},
	}
}

// gopacketKeyer is the peer: gopacket's DecodingLayerParser with
// preallocated layers, keyed the same way.
type gopacketKeyer struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	ext     layers.IPv6ExtensionSkipper
	tcp     layers.TCP
	udp     layers.UDP
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newGopacketKeyer() *gopacketKeyer {
	g := &gopacketKeyer{decoded: make([]gopacket.LayerType, 0, 16)}
	g.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&g.eth, &g.dot1q, &g.ip4, &g.ip6, &g.ext, &g.tcp, &g.udp)
	g.parser.IgnoreUnsupported = true
	return g
}

func (g *gopacketKeyer) key(frame []byte) (Key, bool) {
	g.parser.DecodeLayers(frame, &g.decoded)
	var k Key
	var sport, dport uint16
	is4, is6 := false, false
	var proto uint8
	for _, t := range g.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			is4, proto = true, uint8(g.ip4.Protocol)
		case layers.LayerTypeIPv6:
			is6, proto = true, uint8(g.ip6.NextHeader)
			if g.ip6.HopByHop != nil {
				proto = uint8(g.ip6.HopByHop.NextHeader)
			}
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Fragment:
			proto = uint8(g.ext.NextHeader)
		case layers.LayerTypeTCP:
			sport, dport = uint16(g.tcp.SrcPort), uint16(g.tcp.DstPort)
		case layers.LayerTypeUDP:
			sport, dport = uint16(g.udp.SrcPort), uint16(g.udp.DstPort)
		}
	}
	switch {
	case is4:
		k = KeyFrom4([4]byte(g.ip4.SrcIP), [4]byte(g.ip4.DstIP), sport, dport, proto)
	case is6:
		k = KeyFrom16([16]byte(g.ip6.SrcIP), [16]byte(g.ip6.DstIP), sport, dport, proto)
	default:
		return k, false
	}
	return k, true
}

// benchSink consumes a little of each key, as a caller hashing it would
// read it; copying whole keys would add a store-forwarding stall to both
// parsers.
var benchSink int

func BenchmarkParse(b *testing.B) {
	for _, c := range benchFrames() {
		var flowNs float64
		b.Run(c.name+"/parser=flow", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				info, _ := Parse(c.frame)
				benchSink += len(info.Key.Bytes())
			}
			flowNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(flowNs, "ns/packet")
		})
		b.Run(c.name+"/parser=gopacket", func(b *testing.B) {
			g := newGopacketKeyer()
			info, _ := Parse(c.frame)
			if k, _ := g.key(c.frame); k != info.Key {
				b.Fatalf("gopacket keys %v, Parse %v", k, info.Key)
			}
			b.ReportAllocs()
			for b.Loop() {
				k, _ := g.key(c.frame)
				benchSink += len(k.Bytes())
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/packet")
			if flowNs > 0 {
				b.ReportMetric(ns/flowNs, "x-flow") // how many times slower than Parse
			}
		})
	}
}

func BenchmarkParseIP(b *testing.B) {
	// ipv4 tcp | tcp 51000 > 443 | 512 bytes
	pkt := ipv4(v4h{proto: 6, src: a4, dst: b4}, tcp(51000, 443, 5, make([]byte, 512)))
	b.ReportAllocs()
	for b.Loop() {
		info, _ := ParseIP(pkt)
		benchSink += len(info.Key.Bytes())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}
