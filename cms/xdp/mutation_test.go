//go:build linux

package xdp

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
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

// TestKernel_EventCPU guards that an event names the CPU the packet ran
// on: with threshold 1 a flow's first packet on each CPU crosses it (the
// detector's counters are per CPU), and the test runs it pinned to every
// CPU it may use in turn. Every other test runs on one CPU, the first,
// where a kernel that wrote CPU 0 into every event passed.
func TestKernel_EventCPU(t *testing.T) {
	kerneltest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &allowed)
	k := load(t, Options{Params: cms.LabParams(64, testSeed), Mode: ModeDetect, Threshold: 1})
	f := fixtures(t)["ipv4-udp"]
	cpus := 0
	for cpu := 0; cpu < 1024 && cpus < 4; cpu++ {
		if !allowed.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		cpus++
		if v, _ := kerneltest.Run(t, k.Program(), f); v != 2 {
			t.Fatalf("CPU %d: verdict %d, want the crossing packet passed (2)", cpu, v)
		}
		ev, err := k.Events()
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) != 1 || ev[0].Report != cms.ReportCrossed || ev[0].CPU != uint32(cpu) {
			t.Fatalf("run on CPU %d: events %+v, want one crossing on CPU %d", cpu, ev, cpu)
		}
	}
	if cpus < 2 {
		t.Logf("only CPU %d allowed: no event could name another", cpus-1)
	}
}
