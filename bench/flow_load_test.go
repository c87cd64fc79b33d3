package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

// TestFPLoadDir_AnyCaptureDirectory: BenchmarkFlowParse reads whatever
// directory DATAPLANE_TRAFFIC_DIR names, as the README tells users to
// point it at their own capture: no synthetic/ subdirectory, captures
// nested anywhere, link types other than Ethernet (converted as the other
// benchmarks' keys are), the robustness/ fixtures left out. The old loader
// failed on the missing synthetic/ directory and refused a non-Ethernet
// capture.
func TestFPLoadDir_AnyCaptureDirectory(t *testing.T) {
	dir := t.TempDir()
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoUDP)
	// An IPv4 header (no options, checksum left zero) and a UDP header.
	ip := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, flow.ProtoUDP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0, 80, 0, 8, 0, 0}
	eth := append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, ip...)
	sll := append([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00}, ip...)
	write := func(name string, link capture.LinkType, frames ...[]byte) {
		var pkts []capture.Packet
		for _, f := range frames {
			pkts = append(pkts, capture.Packet{Data: f, Link: link})
		}
		if err := capture.WriteFile(filepath.Join(dir, name), pkts); err != nil {
			t.Fatal(err)
		}
	}
	write("mine.pcap", capture.LinkEthernet, eth, eth)
	if err := os.MkdirAll(filepath.Join(dir, "deeper", "robustness"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("deeper", "cooked.pcap"), capture.LinkLinuxSLL, sll)
	write(filepath.Join("deeper", "robustness", "odd.pcap"), capture.LinkEthernet, eth)

	caps := fpLoadDir(t, dir)
	if len(caps) != 2 {
		t.Fatalf("read %d captures, want 2 (mine and cooked): %v", len(caps), caps)
	}
	for _, c := range caps {
		want := map[string]int{"cooked": 1, "mine": 2}[c.name]
		if len(c.frames) != want {
			t.Errorf("capture %q: %d frames, want %d", c.name, len(c.frames), want)
		}
		for _, f := range c.frames {
			if info, err := flow.Parse(f); err != nil || info.Key != k {
				t.Errorf("capture %q: frame %x parses to %v, %v; want %v", c.name, f, info.Key, err, k)
			}
		}
	}
}
