//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// FuzzKernelDigest is TestKernel_OddFrames as a coverage-guided fuzz test:
// for any frame, the kernel's digest of that one frame must equal the Go
// digest (Digest) cell for cell, so the kernel's choice of packet
// identifier (iblt_packet_id) reads the same fields as PacketID, and a
// frame that does not parse inserts nothing on either side. The fuzzer is
// guided by the coverage of the Go side (flow.Parse and PacketID). Frames
// shorter than an Ethernet header are not XDP input; longer ones than
// kerneltest.MaxFrame are compared as the kernel sees them, cut. Without
// BPF privileges it skips like every kernel test.
func FuzzKernelDigest(f *testing.F) {
	for _, c := range packetIDCases() {
		f.Add(c.frame)
	}
	f.Add(pkt.UDP6("[2001:db8::1]:53", "[2001:db8::2]:53", []byte{1, 2, 3, 4}))
	o := Options{Cells: 3, Hashes: 3, Seed: 0x5eed}
	k := loadKernel(f, o)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < kerneltest.MinFrame {
			return
		}
		frame = kerneltest.Clip(frame)
		if got, want := digestOne(t, k, o, frame); !got.Equal(want) {
			info, perr := flow.Parse(frame)
			t.Fatalf("frame % x: kernel digest differs from Go (parse: %v, Go packet id %#x)", frame, perr, PacketID(frame, info))
		}
	})
}
