package flow_test

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

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

func (g *gopacketKeyer) key(frame []byte) (flow.Key, bool) {
	g.parser.DecodeLayers(frame, &g.decoded)
	var k flow.Key
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
		k = flow.KeyFrom4([4]byte(g.ip4.SrcIP), [4]byte(g.ip4.DstIP), sport, dport, proto)
	case is6:
		k = flow.KeyFrom16([16]byte(g.ip6.SrcIP), [16]byte(g.ip6.DstIP), sport, dport, proto)
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
	for _, c := range flow.BenchFrames() {
		var flowNs float64
		b.Run("frame="+c.Name+"/impl=dataplane", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				info, _ := flow.Parse(c.Frame)
				benchSink += len(info.Key.Bytes())
			}
			flowNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(flowNs, "ns/packet")
		})
		b.Run("frame="+c.Name+"/impl=gopacket", func(b *testing.B) {
			g := newGopacketKeyer()
			info, _ := flow.Parse(c.Frame)
			if k, _ := g.key(c.Frame); k != info.Key {
				b.Fatalf("gopacket keys %v, Parse %v", k, info.Key)
			}
			b.ReportAllocs()
			for b.Loop() {
				k, _ := g.key(c.Frame)
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
	ip := pkt.TCP4("10.0.0.1:51000", "10.0.0.2:443", pkt.ACK, make([]byte, 512))[14:]
	b.ReportAllocs()
	for b.Loop() {
		info, _ := flow.ParseIP(ip)
		benchSink += len(info.Key.Bytes())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}
