//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_LongFrameBytes: a frame longer than 65535 bytes adds its
// whole length to ByteCount, as the Go encoder's uint32 size does. The
// kernel used to take the length from the parser's 16-bit frame_len and
// add it modulo 2^16 (13 bytes for this 65549-byte frame). Test runs
// cannot carry such a frame (a page at most), so the test sends a
// 65507-byte UDP datagram over the loopback (MTU 65536) of a network
// namespace of its own, with the program attached in generic mode, which
// gives it the whole frame linear (kerneltest.LoopbackUDP).
func TestKernel_LongFrameBytes(t *testing.T) {
	kerneltest.RequireNetns(t)
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.Params{Cells: 64, Hashes: 4, FilterBits: 1024, FilterHashes: 7, Seed: 0x10f}
			k := loadKernel(t, p, perCPU)
			const payload = 65507 // the largest UDP payload over IPv4
			if err := kerneltest.LoopbackUDPVia(k.Attach, make([]byte, payload)); err != nil {
				t.Fatal(err)
			}
			got, err := k.Read(0)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := flowradar.NewTable(p)
			key := flow.KeyFrom4([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 40000, 9, flow.ProtoUDP)
			const frame = 14 + 20 + 8 + payload
			want.Add(&key, frame)
			if !got.Equal(want) {
				var bytes uint64
				for _, c := range got.Cells() {
					bytes += c.ByteCount
				}
				t.Fatalf("one %d-byte frame: the kernel's table differs from the Go encoder's (ByteCount summed over the %d sub-tables %d, want %d)", frame, p.Hashes, bytes, p.Hashes*frame)
			}
		})
	}
}
