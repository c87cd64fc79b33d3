package bench

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// Parsing benchmark: flow.Parse against gopacket's DecodingLayerParser
// (Ethernet, Dot1Q, IPv4, IPv6, IPv6 extension headers, TCP, UDP, all
// preallocated), both producing a flow.Key, on every frame of the
// captures under DATAPLANE_TRAFFIC_DIR (see fpLoadDir; the robustness/
// fixtures are not traffic). Run:
//
//	cd bench && DATAPLANE_TRAFFIC_DIR=/path/to/captures go test -run '^$' -bench FlowParse -benchtime=2s
//
// Each iteration parses a whole capture; ns/packet is the time per frame.
// Sub-benchmarks are capture=NAME (the file's name without extensions, or
// all: every capture in one) and impl=dataplane (flow.Parse) or
// impl=gopacket. The gopacket sub-benchmark reports x-flow, its time over
// flow.Parse's on the same capture in the same iterations: each iteration
// also runs Parse over the capture, with the benchmark's timer stopped
// (ns/op is gopacket's alone), so both see the same machine load. A ratio
// to the impl=dataplane row would divide every -count sample by that row's
// last one, measured up to -count runs earlier under another load.

type fpCapture struct {
	name   string
	frames [][]byte
}

var (
	fpOnce     sync.Once
	fpCaptures []fpCapture
)

func fpLoad(tb testing.TB) []fpCapture {
	dir := traffic.Dir(tb) // skips without DATAPLANE_TRAFFIC_DIR
	fpOnce.Do(func() { fpCaptures = fpLoadDir(tb, dir) })
	if len(fpCaptures) == 0 {
		tb.Fatalf("no captures in %s", dir)
	}
	return fpCaptures
}

// fpLoadDir returns the frames of every capture under dir, at any depth,
// but the robustness/ fixtures, as the other benchmarks read their
// captures (traffic.Frames: pcap or pcapng, gzip or not; raw IP and
// cooked captures get an Ethernet header). A directory holding only the
// reader's own capture works: the README tells users to run the
// benchmarks on one.
func fpLoadDir(tb testing.TB, dir string) []fpCapture {
	files, err := capture.Files(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var caps []fpCapture
	for _, f := range files {
		if traffic.IsRobustness(dir, f) {
			continue
		}
		name := filepath.Base(f)
		for _, ext := range []string{".gz", ".pcap", ".pcapng"} {
			name = strings.TrimSuffix(name, ext)
		}
		caps = append(caps, fpCapture{name, fpArena(traffic.Frames(tb, f))})
	}
	return caps
}

// fpArena copies frames back to back into one buffer, as in a capture
// file or a packet ring, so the benchmark measures parsing rather than the
// scattered heap.
func fpArena(frames [][]byte) [][]byte {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	arena := make([]byte, 0, size)
	out := make([][]byte, len(frames))
	for i, f := range frames {
		start := len(arena)
		arena = append(arena, f...)
		out[i] = arena[start:len(arena):len(arena)]
	}
	return out
}

// fpGopacket is the peer: a DecodingLayerParser with preallocated layers,
// extracting the same key as flow.Parse for the frames both accept.
type fpGopacket struct {
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

func newFPGopacket() *fpGopacket {
	g := &fpGopacket{decoded: make([]gopacket.LayerType, 0, 16)}
	g.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&g.eth, &g.dot1q, &g.ip4, &g.ip6, &g.ext, &g.tcp, &g.udp)
	g.parser.IgnoreUnsupported = true
	return g
}

func (g *fpGopacket) key(frame []byte) (flow.Key, bool) {
	g.parser.DecodeLayers(frame, &g.decoded) // errors show as missing layers
	var sport, dport uint16
	var proto uint8
	is4, is6 := false, false
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
		return flow.KeyFrom4([4]byte(g.ip4.SrcIP), [4]byte(g.ip4.DstIP), sport, dport, proto), true
	case is6:
		return flow.KeyFrom16([16]byte(g.ip6.SrcIP), [16]byte(g.ip6.DstIP), sport, dport, proto), true
	}
	return flow.Key{}, false
}

// fpSink consumes a little of each key, as a caller hashing it would read
// it, without copying whole keys (a copy right after the parser's narrow
// stores stalls on store forwarding and would be measured for both).
var fpSink int

func BenchmarkFlowParse(b *testing.B) {
	caps := fpLoad(b)
	all := fpCapture{name: "all"}
	for _, c := range caps {
		all.frames = append(all.frames, c.frames...)
	}
	for _, c := range append(caps, all) {
		parse := func() {
			for _, f := range c.frames {
				info, _ := flow.Parse(f)
				fpSink += len(info.Key.Bytes())
			}
		}
		b.Run(subName("capture", subValue(c.name), "impl", "dataplane"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parse()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.frames)), "ns/packet")
		})
		b.Run(subName("capture", subValue(c.name), "impl", "gopacket"), func(b *testing.B) {
			g := newFPGopacket()
			// Same work: both must key the plain TCP/UDP frames alike.
			agree, n := 0, 0
			for _, f := range c.frames {
				info, err := flow.Parse(f)
				if err != nil || info.Fragment != flow.NotFragment || info.Key.Proto() != flow.ProtoTCP && info.Key.Proto() != flow.ProtoUDP {
					continue
				}
				n++
				if k, ok := g.key(f); ok && k == info.Key {
					agree++
				}
			}
			if agree < n*99/100 {
				b.Fatalf("the gopacket keyer agrees with flow.Parse on only %d of %d TCP/UDP frames", agree, n)
			}
			// Parse's pass, the base of x-flow, is out of ns/op. Each pass
			// follows the other parser's pass and one ReadMemStats (of
			// StopTimer or StartTimer), so both find the caches alike.
			var gpT, flowT time.Duration
			parseUntimed := func() {
				b.StopTimer()
				t0 := time.Now()
				parse()
				flowT += time.Since(t0)
				b.StartTimer()
			}
			b.ReportAllocs()
			for b.Loop() {
				parseUntimed()
				t0 := time.Now()
				for _, f := range c.frames {
					k, _ := g.key(f)
					fpSink += len(k.Bytes())
				}
				gpT += time.Since(t0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.frames)), "ns/packet")
			b.ReportMetric(float64(gpT)/float64(flowT), "x-flow")
		})
	}
}
