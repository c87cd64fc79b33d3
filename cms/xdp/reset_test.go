//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_Reset: in each mode, Reset zeroes the counters and the
// statistics, so that the sketch read after it is the Go sketch of the
// packets sent since; rows wider than a per-CPU element (cut into chunks)
// and shared counters (memory-mapped) included.
func TestKernel_Reset(t *testing.T) {
	kerneltest.PinCPU(t)
	frame := func(i int) []byte {
		// 10.0.0.i%50:1000 > 10.0.1.1:53, udp
		return pkt.UDP4(fmt.Sprintf("10.0.0.%d:1000", i%50), "10.0.1.1:53", nil)
	}
	for _, tc := range []struct {
		mode  Mode
		width uint32
	}{{ModeShared, 63}, {ModePerCPU, 63}, {ModePerCPU, 2*pcpuChunk + 5}, {ModeDetect, 63}} {
		t.Run(fmt.Sprintf("%s/w=%d", tc.mode, tc.width), func(t *testing.T) {
			p := cms.Params{Width: tc.width, Depth: 3, Seed: testSeed}
			o := Options{Params: p, Mode: tc.mode}
			if tc.mode == ModeDetect {
				o.Threshold = 1 << 20 // nothing drops
			}
			k := load(t, o)
			for i := range 200 {
				kerneltest.Run(t, k.Program(), frame(i))
			}
			if c, _ := k.Counters(); !slices.ContainsFunc(c, func(v uint32) bool { return v != 0 }) {
				t.Fatal("no counter moved: the test proves nothing")
			}
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			if c, err := k.Counters(); err != nil || slices.ContainsFunc(c, func(v uint32) bool { return v != 0 }) {
				t.Fatalf("counters after Reset are not all zero (error %v)", err)
			}
			if st, err := k.Stats(); err != nil || st != (Stats{}) {
				t.Fatalf("stats after Reset: %+v, error %v; want zero", st, err)
			}
			var frames [][]byte
			for i := range 70 {
				frames = append(frames, frame(i))
				kerneltest.Run(t, k.Program(), frame(i))
			}
			compareSketches(t, k, goSketch(p, frames))
		})
	}
}

// TestKernel_DetectorReset: after Reset the detector forgets the flows it
// reported and its counts, as cms.Detector.Reset does: a flow over the
// threshold passes again until it reaches the threshold anew, which it
// reports again; events of the last interval not yet read are kept.
func TestKernel_DetectorReset(t *testing.T) {
	kerneltest.PinCPU(t)
	p := cms.LabParams(4096, testSeed)
	const thr = 5
	k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: thr})
	d, _ := cms.NewDetector(p, thr)
	f := fixtures(t)["ipv4-tcp"]
	info, _ := flow.Parse(f)
	run := func(n int) (passed int) {
		t.Helper()
		for i := range n {
			v, _ := kerneltest.Run(t, k.Program(), f)
			drop, _ := d.Filter(info.Key.Bytes())
			if want := map[bool]uint32{false: 2, true: 1}[drop]; v != want {
				t.Fatalf("packet %d: kernel verdict %d, Go model %d", i, v, want)
			}
			if v == 2 {
				passed++
			}
		}
		return passed
	}
	if got := run(8); got != thr {
		t.Fatalf("first interval: %d packets passed, want %d", got, thr)
	}
	reported := func() (n int) {
		t.Helper()
		var slots []cmsCmsReportedSlot // one per CPU
		for i := range uint32(cms.ReportSlots) {
			if err := k.objs.CmsReported.Lookup(i, &slots); err != nil {
				t.Fatal(err)
			}
			for _, s := range slots {
				if s != (cmsCmsReportedSlot{}) {
					n++
				}
			}
		}
		return n
	}
	if n := reported(); n != 1 {
		t.Fatalf("%d report slots in use after one flow crossed, want 1", n)
	}
	if err := k.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := reported(); n != 0 {
		t.Fatalf("%d report slots in use after Reset, want 0", n)
	}
	d.Reset()
	if got := run(8); got != thr {
		t.Fatalf("after Reset: %d packets passed, want %d", got, thr)
	}
	ev, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[0].Report != cms.ReportCrossed || ev[1].Report != cms.ReportCrossed || ev[1].Key != info.Key || ev[1].Estimate != thr {
		t.Fatalf("events %+v, want two crossings of %v at %d: the first interval's, kept, and the second's", ev, info.Key, thr)
	}
	if st, _ := k.Stats(); st.Dropped != 3 || st.Events != 1 || st.Outcomes[flow.OutcomeOK] != 8 || st.Packets() != 8 {
		t.Fatalf("stats %+v, want those of the second interval: 8 parsed, 3 dropped, 1 event", st)
	}
	compareSketches(t, k, d.Sketch())
}

// Stats.Packets sums the parse outcomes, and nothing else: drops and
// events are among those packets.
func TestStats_Packets(t *testing.T) {
	s := Stats{Outcomes: [4]uint64{5, 1, 2, 3}, Dropped: 4, Events: 2, EventsLost: 1, SatMissed: 7}
	if got := s.Packets(); got != 11 {
		t.Errorf("Packets of %+v = %d, want 11", s, got)
	}
}
