//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_DetectorDropReportAfterRingFull: a report of a dropped flow
// lost to a full ring buffer is not remembered either (the crossing's is
// covered by TestKernel_DetectorReportsAfterRingFull), so the flow's next
// dropped packet reports it. Threshold 1 and a one-page ring holding about
// cap reports; 3*cap flows, each in a report slot of its own. Round 1,
// each flow's first packet: about cap crossings reported, the rest lost.
// Round 2, second packets, all dropped: the 2*cap flows not yet reported
// try again, and about half of those reports are lost too. Round 3: the
// flows whose drop report was lost are reported now. In all, every flow is
// reported exactly once, and round 2 lost some reports.
func TestKernel_DetectorDropReportAfterRingFull(t *testing.T) {
	k, frame, ringCap := ringFullDetector(t)
	var frames [][]byte
	slots := map[uint32]bool{}
	for sp := uint16(1000); len(frames) < 3*ringCap; sp++ {
		f := frame(sp)
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		s := flow.Index(info.Key.Hash(testSeed), cms.MaxDepth, cms.ReportSlots)
		if !slots[s] { // a slot of its own: no flow takes another's
			slots[s] = true
			frames = append(frames, f)
		}
	}
	reports := map[flow.Key]int{}
	var lost []uint64
	for round, want := range []uint32{2, 1, 1} { // pass (crossing), then drops
		before, _ := k.Stats()
		for i, f := range frames {
			if v, _ := kerneltest.Run(t, k.Program(), f); v != want {
				t.Fatalf("round %d, flow %d: verdict %d, want %d", round+1, i, v, want)
			}
		}
		ev, err := k.Events()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev {
			reports[e.Key]++
		}
		after, _ := k.Stats()
		lost = append(lost, after.EventsLost-before.EventsLost)
		if after.SatMissed != 0 {
			t.Fatalf("round %d: SatMissed %d in detector mode, which has no shared counters", round+1, after.SatMissed)
		}
	}
	if lost[0] == 0 || lost[1] == 0 || lost[2] != 0 {
		t.Fatalf("reports lost per round %v: want some in rounds 1 and 2, none in 3", lost)
	}
	for i, f := range frames {
		info, _ := flow.Parse(f)
		if n := reports[info.Key]; n != 1 {
			t.Errorf("flow %d reported %d times, want once", i, n)
		}
	}
}
