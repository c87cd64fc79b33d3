//go:build linux

package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_LongFrameTrailer: a frame longer than 65,535 bytes, which
// generic XDP on a 64 KiB loopback delivers (kerneltest.LoopbackUDP; test
// runs cannot), is digested as PacketID says: this datagram's last four
// bytes lie past the offsets the kernel can read, so they do not enter
// its identifier (TestPacketID_PastKernelReach holds Go to the same), while
// its first four, near the frame's start, do; and its value is the frame's
// whole length.
func TestKernel_LongFrameTrailer(t *testing.T) {
	kerneltest.RequireNetns(t)
	k := loadKernel(t, Options{Cells: 3 * 16, Hashes: 3, Seed: 0x5eed})
	data := make([]byte, 65507) // the largest UDP payload over IPv4
	binary.BigEndian.PutUint32(data[len(data)-4:], 0xdeadbeef)
	binary.BigEndian.PutUint32(data, 0x12345678)
	if err := kerneltest.LoopbackUDPVia(k.Attach, data); err != nil {
		t.Fatal(err)
	}
	tab, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	ins, del, err := tab.List()
	if err != nil || len(ins) != 1 || len(del) != 0 {
		t.Fatalf("digest of one datagram lists %d inserted, %d deleted (%v)", len(ins), len(del), err)
	}
	key, id, err := ParseKey(ins[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	if want := flow.KeyFrom4([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 40000, 9, flow.ProtoUDP); key != want {
		t.Fatalf("digest holds %v, want %v", key, want)
	}
	if id>>32 != 0 {
		t.Errorf("packet identifier %#x: bits 32-63 %#x, want 0 (the trailer lies past the kernel's reach)", id, id>>32)
	}
	if got := id >> 16 & 0xffff; got != 0x1234^0x5678 {
		t.Errorf("packet identifier %#x: bits 16-31 %#x, want %#x (the payload's first bytes)", id, got, 0x1234^0x5678)
	}
	// The value is the whole frame's length (Ethernet, IPv4, UDP and the
	// payload), past 65,535: not the parser's 16-bit frame_len, which
	// holds it modulo 2^16 (13 here).
	if want := uint64(14 + 20 + 8 + len(data)); ins[0].Value != want {
		t.Errorf("digest value %d, want the frame's length %d", ins[0].Value, want)
	}
}
