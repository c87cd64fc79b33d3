//go:build linux

package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_FieldAtReachEdge: a field starting at offset 0xff00
// (DP_MAX_OFF) itself is still within the kernel's reach. A datagram whose
// last four bytes start there, sent over the 64 KiB loopback (test runs
// cannot carry it), has them in bits 32-63 of its identifier, as PacketID
// says (TestPacketID_PastKernelReach).
func TestKernel_FieldAtReachEdge(t *testing.T) {
	kerneltest.RequireNetns(t)
	o := Options{Cells: 3 * 16, Hashes: 3, Seed: 0x5eed}
	k := loadKernel(t, o)
	data := make([]byte, 0xff04-14-20-8) // the frame ends at 0xff04
	binary.BigEndian.PutUint32(data[len(data)-4:], 0xdeadbeef)
	if err := kerneltest.LoopbackUDP(k.Program(), data); err != nil {
		t.Fatal(err)
	}
	got, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	ins, _, err := got.List()
	if err != nil || len(ins) != 1 {
		t.Fatalf("digest of one datagram lists %d inserted (%v)", len(ins), err)
	}
	if _, id, err := ParseKey(ins[0].Key); err != nil || id>>32 != 0xdeadbeef {
		t.Errorf("packet identifier %#x (%v): bits 32-63 want 0xdeadbeef, the four bytes at 0xff00", id, err)
	}
	if ins[0].Value != 0xff04 {
		t.Errorf("digest value %d, want the frame's length %d", ins[0].Value, 0xff04)
	}
}
