//go:build linux

package xdp

import (
	"errors"
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

// TestKernel_SketchIntoCurrentEpoch guards that SketchInto of a kernel
// with Epochs reads the current epoch, as Sketch does: after a Flip, the
// packets of epoch 1, not epoch 0's counters.
func TestKernel_SketchIntoCurrentEpoch(t *testing.T) {
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
	}
}

// TestKernel_CountersCurrentEpoch guards that Counters of a kernel with
// Epochs returns the current epoch's counters: after a Flip, those of the
// packets of epoch 1, not epoch 0's.
func TestKernel_CountersCurrentEpoch(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		p := cms.Params{Width: 64, Depth: 3, Seed: testSeed}
		k := load(t, Options{Params: p, Mode: mode, Epochs: true})
		runFrames(t, k, 0, 30) // epoch 0, ended by the Flip
		if _, err := k.Flip(); err != nil {
			t.Fatal(err)
		}
		want := goSketch(p, runFrames(t, k, 40, 50)).Counters() // epoch 1, the current one
		got, err := k.Counters()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Counters in epoch 1 differ from the Go sketch of epoch 1's packets", mode)
		}
	}
}

// TestKernel_ZeroAndClosedSketchInto guards that SketchInto of a zero
// Kernel (not made by Load) or a closed one returns errClosed, as the
// other methods do, instead of a map error or a panic.
func TestKernel_ZeroAndClosedSketchInto(t *testing.T) {
	p := cms.LabParams(64, testSeed)
	closed := load(t, Options{Params: p, Mode: ModeDetect})
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*Kernel{"zero": {}, "closed": closed} {
		for call, fn := range map[string]func() error{
			"SketchInto": func() error { return k.SketchInto(cms.MustNew(p)) },
		} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s Kernel: %s panics: %v", name, call, r)
					}
				}()
				if err := fn(); !errors.Is(err, errClosed) {
					t.Errorf("%s Kernel: %s: %v, want %v", name, call, err, errClosed)
				}
			}()
		}
	}
}
