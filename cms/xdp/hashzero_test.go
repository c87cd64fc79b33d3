//go:build linux

package xdp

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// xxh64Seed returns the seed under which flow.Hash64 of the 13 bytes b
// (an IPv4 key) is h: Hash64's steps for 13 bytes undone from h, each
// being invertible (xor-shifts, rotations, multiplications by odd
// numbers).
func xxh64Seed(b []byte, h uint64) uint64 {
	const (
		p1 uint64 = 11400714785074694791
		p2 uint64 = 14029467366897019727
		p3 uint64 = 1609587929392839161
		p4 uint64 = 9650029242287828579
		p5 uint64 = 2870177450012600261
	)
	inv := func(p uint64) uint64 { // p*x = 1 mod 2^64, Newton's iteration
		x := p
		for range 6 {
			x *= 2 - p*x
		}
		return x
	}
	unshift := func(y uint64, s uint) uint64 { // undoes x ^= x >> s
		x := y
		for range 64 / s {
			x = y ^ x>>s
		}
		return x
	}
	h = unshift(h, 32)
	h *= inv(p3)
	h = unshift(h, 29)
	h *= inv(p2)
	h = unshift(h, 33)
	h = bits.RotateLeft64(h*inv(p1), -11) ^ uint64(b[12])*p5
	h = bits.RotateLeft64((h-p3)*inv(p2), -23) ^ uint64(binary.LittleEndian.Uint32(b[8:]))*p1
	h = bits.RotateLeft64((h-p4)*inv(p1), -27) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b)*p2, 31)*p1
	return h - 13 - p5
}

// reportRow is CMS_REPORT_ROW (cms's reportRow): the index of flow.Index
// that picks a flow's report slot.
const reportRow = 32

// TestKernel_DetectorReportsHashZero is cms's TestDetector_FilterReportHashZero
// in the kernel: a flow whose hash is 0 (the seed is chosen for it) and is
// dropped on its first packet, its counter filled by another flow, is
// reported, once. An empty report slot holds hash 0: a kernel that
// ignored the slot's used flag took that for a report already sent and
// never reported the flow.
func TestKernel_DetectorReportsHashZero(t *testing.T) {
	kerneltest.PinCPU(t)
	zero := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5353, 53, flow.ProtoUDP)
	seed := xxh64Seed(zero.Bytes(), 0)
	if h := zero.Hash(seed); h != 0 {
		t.Fatalf("seed %#x: hash %#x, want 0", seed, h)
	}
	p := cms.Params{Width: 1, Depth: 2, Seed: seed} // one counter a row: flows share them
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 1})
	d, _ := cms.NewDetector(p, 1)
	zf := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("x"))
	var other []byte
	for port := 1; other == nil; port++ { // a flow whose report slot is not hash 0's
		o := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 2}, uint16(port), 53, flow.ProtoUDP)
		if flow.Index(o.Hash(seed), reportRow, cms.ReportSlots) != flow.Index(0, reportRow, cms.ReportSlots) {
			other = pkt.UDP4(fmt.Sprintf("10.0.0.3:%d", port), "10.0.0.2:53", []byte("x"))
		}
	}
	var want []cms.Report
	for i, f := range [][]byte{other, zf, zf} {
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		drop, r := d.FilterReport(info.Key.Bytes())
		if r != cms.ReportNone {
			want = append(want, r)
		}
		v, _ := kerneltest.Run(t, k.Program(), f)
		if wantV := map[bool]uint32{false: 2, true: 1}[drop]; v != wantV {
			t.Fatalf("packet %d: kernel verdict %d, Go model %d", i, v, wantV)
		}
	}
	ev, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want, []cms.Report{cms.ReportCrossed, cms.ReportDropped}) || len(ev) != 2 ||
		ev[0].Report != cms.ReportCrossed || ev[1].Report != cms.ReportDropped || ev[1].Key != zero || ev[1].Hash != 0 {
		t.Fatalf("events %+v (Go model %v), want the other flow crossing, then the drop of %v (hash 0)", ev, want, zero)
	}
}
