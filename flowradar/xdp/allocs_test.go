package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestEncode_NoAllocs guards Encode, the Go model of the kernel, per
// packet: a batch of frames of new and known flows, IPv4 and IPv6, and one
// the parser refuses, is encoded without an allocation.
func TestEncode_NoAllocs(t *testing.T) {
	tab, err := flowradar.NewTable(flowradar.ParamsFor(1000, 1))
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for port := range uint16(8) {
		frames = append(frames,
			// 10.0.0.1:<1000+port> > 10.0.0.2:53 udp "q"
			pkt.UDP4(fmt.Sprintf("10.0.0.1:%d", 1000+port), "10.0.0.2:53", []byte("q")),
			// [2001:db8::1]:<2000+port> > [2001:db8::2]:443 tcp [S]
			pkt.TCP6(fmt.Sprintf("[2001:db8::1]:%d", 2000+port), "[2001:db8::2]:443", 0x02, nil))
	}
	frames = append(frames, make([]byte, 14)) // Ethernet type 0: not IP, refused
	var n uint64
	if a := testing.AllocsPerRun(100, func() {
		o := Encode(tab, frames)
		n += o[flow.OutcomeOK]
	}); a != 0 {
		t.Errorf("Encode of %d frames: %v allocs per call", len(frames), a)
	}
	if want := uint64(101 * (len(frames) - 1)); n != want { // AllocsPerRun calls once more
		t.Errorf("Encode parsed %d frames in 101 calls, want %d", n, want)
	}
}
