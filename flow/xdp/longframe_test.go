//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_LongFrameLen: the event of a frame longer than 65,535 bytes
// gives its whole length. The kernel used to copy the parser's 16-bit
// frame_len (13 for this 65,549-byte frame). Generic XDP on a 64 KiB
// loopback delivers such frames (kerneltest.LoopbackUDP); test runs cannot.
func TestKernel_LongFrameLen(t *testing.T) {
	kerneltest.RequireNetns(t)
	k := loadKernel(t)
	const payload = 65507 // the largest UDP payload over IPv4
	if err := kerneltest.LoopbackUDPVia(k.Attach, make([]byte, payload)); err != nil {
		t.Fatal(err)
	}
	e, err := k.NextEvent(0)
	if err != nil {
		t.Fatalf("no event after the datagram: %v", err)
	}
	want := flow.KeyFrom4([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 40000, 9, flow.ProtoUDP)
	if e.Outcome != flow.OutcomeOK || e.Info.Key != want {
		t.Fatalf("event %+v, want the datagram %v", e, want)
	}
	if frame := 14 + 20 + 8 + payload; e.FrameLen != frame {
		t.Errorf("frame length %d, want %d", e.FrameLen, frame)
	}
}
