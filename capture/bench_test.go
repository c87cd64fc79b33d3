package capture_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/dataplane-go/dataplane/capture"
)

// benchInputs returns uncompressed pcaps in memory: the HTTP browsing
// capture (807-byte packets on average) and the Tinba capture (106 bytes)
// when the shared captures are available, else 5,000 packets of test data.
func benchInputs(b *testing.B) map[string][]byte {
	in := map[string][]byte{}
	if d := os.Getenv("DATAPLANE_TRAFFIC_DIR"); d != "" {
		for name, file := range map[string]string{
			"http-browsing": "pcapplusplus-example-http-browsing.pcap",
			"tinba":         "ustc-tfc2016-tinba-malware.pcap",
		} {
			if raw, err := os.ReadFile(filepath.Join(d, file)); err == nil {
				in[name] = raw
			}
		}
	}
	if len(in) == 0 {
		var buf bytes.Buffer
		capture.Write(&buf, testPackets(5000, capture.LinkEthernet))
		in["generated"] = buf.Bytes()
	}
	return in
}

// BenchmarkReader reads a pcap from memory with this package (NextInto
// with a reused buffer, and Next) and with gopacket's pcapgo reader
// (ReadPacketData, ZeroCopyReadPacketData), reporting ns/packet.
func BenchmarkReader(b *testing.B) {
	for name, raw := range benchInputs(b) {
		benchmarkReader(b, name, raw)
	}
}

func benchmarkReader(b *testing.B, name string, raw []byte) {
	run := func(b *testing.B, read func(rd io.Reader) int) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		pkts := 0
		for b.Loop() {
			pkts += read(bytes.NewReader(raw))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/packet")
	}
	b.Run("capture="+name+"/impl=dataplane-nextinto", func(b *testing.B) {
		buf := make([]byte, 0, 2048)
		run(b, func(rd io.Reader) int {
			r, err := capture.NewReader(rd)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				p, err := r.NextInto(buf)
				if err != nil {
					return n
				}
				buf = p.Data
				n++
			}
		})
	})
	b.Run("capture="+name+"/impl=dataplane-next", func(b *testing.B) {
		run(b, func(rd io.Reader) int {
			r, err := capture.NewReader(rd)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				if _, err := r.Next(); err != nil {
					return n
				}
				n++
			}
		})
	})
	b.Run("capture="+name+"/impl=pcapgo-zerocopy", func(b *testing.B) {
		run(b, func(rd io.Reader) int {
			r, err := pcapgo.NewReader(rd)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
					return n
				}
				n++
			}
		})
	})
	b.Run("capture="+name+"/impl=pcapgo", func(b *testing.B) {
		run(b, func(rd io.Reader) int {
			r, err := pcapgo.NewReader(rd)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				if _, _, err := r.ReadPacketData(); err != nil {
					return n
				}
				n++
			}
		})
	})
}

// BenchmarkAmplifier_Packet builds packets of copy 7 of a generated trace
// into a reused buffer: the cost of streaming an amplified trace.
func BenchmarkAmplifier_Packet(b *testing.B) {
	pkts, err := capture.Generate(capture.GenConfig{Flows: 2000, Packets: 20000, IPv6Share: 0.2, UDPShare: 0.15, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	a, err := capture.NewAmplifier(pkts, 8)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range pkts {
			buf = a.Copy(7, i, buf).Data
		}
		n += len(pkts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

// BenchmarkGenerate measures the generator per packet.
func BenchmarkGenerate(b *testing.B) {
	cfg := capture.GenConfig{Flows: 2000, Packets: 20000, IPv6Share: 0.2, UDPShare: 0.15, Seed: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := capture.Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cfg.Packets), "ns/packet")
}
