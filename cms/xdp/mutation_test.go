//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// TestKernel_NextEventWaits guards that NextEvent(wait) waits up to wait
// for an event that arrives after the call, instead of returning
// ErrNoEvent at once.
func TestKernel_NextEventWaits(t *testing.T) {
	k := load(t, Options{Params: cms.LabParams(64, testSeed), Mode: ModeDetect, Threshold: 1})
	f := fixtures(t)["ipv4-udp"]
	info, err := flow.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // after NextEvent started waiting
		_, err := k.Run(f)                 // with threshold 1 the flow's first packet crosses it
		ran <- err
	}()
	start := time.Now()
	e, err := k.NextEvent(10 * time.Second)
	if rerr := <-ran; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("NextEvent(10s) after %v: %v, want the event of the packet run 200 ms into the wait", time.Since(start), err)
	}
	if e.Key != info.Key || e.Report != cms.ReportCrossed {
		t.Fatalf("event %+v, want %v crossing the threshold", e, info.Key)
	}
}

// TestKernel_ReadsCurrentEpoch guards that SketchInto and Counters of a
// kernel with Epochs read the current epoch, as Sketch does: after a Flip,
// the packets of epoch 1, not epoch 0's counters.
func TestKernel_ReadsCurrentEpoch(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		p := cms.Params{Width: 64, Depth: 3, Seed: testSeed}
		k := load(t, Options{Params: p, Mode: mode, Epochs: true})
		runFrames(t, k, 0, 30) // epoch 0, ended by the Flip
		if _, err := k.Flip(); err != nil {
			t.Fatal(err)
		}
		want := goSketch(p, runFrames(t, k, 40, 50)) // epoch 1, the current one
		got := cms.MustNew(p)
		if err := k.SketchInto(got); err != nil {
			t.Fatal(err)
		}
		equalSketch(t, fmt.Sprintf("%s: SketchInto in epoch 1", mode), got, want)
		counters, err := k.Counters()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(counters, want.Counters()) {
			t.Errorf("%s: Counters in epoch 1 differ from the Go sketch of epoch 1's packets", mode)
		}
	}
}
