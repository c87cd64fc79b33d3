// Tests written in a mutation-testing campaign: each guards a behaviour that a mutant of the package survived the other tests with.

//go:build linux

package xdp

import (
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

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
