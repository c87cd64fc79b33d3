//go:build linux

package xdp

import (
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// After Close every method fails, in every mode (the memory-mapped
// counters used to outlive it, so Counters went on reading a freed
// kernel), and Close may be called again.
func TestKernel_UseAfterClose(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU, ModeDetect} {
		k := load(t, Options{Params: cms.Params{Width: 64, Depth: 2, Seed: testSeed}, Mode: mode})
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if err := k.Close(); err != nil {
			t.Fatalf("mode %v: second Close: %v", mode, err)
		}
		if _, err := k.Counters(); err == nil {
			t.Errorf("mode %v: Counters after Close: no error", mode)
		}
		if _, err := k.Sketch(); err == nil {
			t.Errorf("mode %v: Sketch after Close: no error", mode)
		}
		if err := k.SketchInto(cms.MustNew(cms.Params{Width: 64, Depth: 2, Seed: testSeed})); err == nil {
			t.Errorf("mode %v: SketchInto after Close: no error", mode)
		}
		if _, err := k.NextEvent(0); err == nil {
			t.Errorf("mode %v: NextEvent after Close: no error", mode)
		}
		if err := k.Reset(); err == nil {
			t.Errorf("mode %v: Reset after Close: no error", mode)
		}
	}
	if err := new(Kernel).Reset(); err == nil {
		t.Error("Reset of the zero Kernel: no error")
	}
	if err := new(Kernel).SketchInto(cms.MustNew(cms.Params{Width: 64, Depth: 2})); err == nil {
		t.Error("SketchInto of the zero Kernel: no error")
	}
}

// Close frees the shared counters map even while the closed Kernel is
// still referenced. The loader used cilium/ebpf's Map.Memory, whose
// mapping is released only by the garbage collector once unreachable, and
// the closed Map kept it reachable: a closed Kernel held in a variable
// kept its counters (up to 1 GiB) in the kernel for as long as it was held.
// The event ring (detector mode), also memory-mapped, is freed too.
func TestKernel_CloseFreesCounters(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModeDetect} {
		k := load(t, Options{Params: cms.Params{Width: 64, Depth: 2, Seed: testSeed}, Mode: mode})
		ids := map[string]ebpf.MapID{
			"counters": kerneltest.MapID(t, k.objs.CmsCounters),
			"events":   kerneltest.MapID(t, k.objs.CmsEvents),
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		for name, id := range ids {
			if !kerneltest.MapFreed(t, id, time.Second) {
				t.Errorf("mode %v: %s map %d still in the kernel 1 s after Close", mode, name, id)
			}
		}
		runtime.KeepAlive(k)
	}
}
