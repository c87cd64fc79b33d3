//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/cms"
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
		if _, err := k.NextEvent(0); err == nil {
			t.Errorf("mode %v: NextEvent after Close: no error", mode)
		}
	}
}
