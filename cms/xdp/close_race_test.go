//go:build linux

package xdp

import (
	"errors"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_CloseUnderCalls: Close may run while the other methods do;
// it waits for them, ends a NextEvent's wait, and they fail with errClosed
// after it. Close used to unmap the shared counters while a Sketch was
// copying them: a fault that ended the process (a user's collector, whose
// Ctrl-C handler closed the kernel while its poller read, met it in the
// first 200 tries). The shared sketch is 16 MiB, so that reads take long
// enough for Close to fall within them.
func TestKernel_CloseUnderCalls(t *testing.T) {
	kerneltest.Require(t)
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x"))
	for _, mode := range []Mode{ModeShared, ModePerCPU, ModeDetect} {
		t.Run(mode.String(), func(t *testing.T) {
			for range 3 {
				o := Options{Params: cms.Params{Width: 1 << 20, Depth: 4, Seed: testSeed}, Mode: mode, Epochs: mode == ModeShared}
				if mode != ModeShared {
					o.Params = cms.LabParams(1<<12, testSeed)
				}
				k, err := Load(o)
				if err != nil {
					t.Fatal(err)
				}
				var s *cms.Sketch
				calls := map[string]func() error{
					"Sketch":   func() error { _, err := k.Sketch(); return err },
					"Counters": func() error { _, err := k.Counters(); return err },
					"Total":    func() error { _, err := k.Total(); return err },
					"Run":      func() error { _, err := k.Run(frame); return err },
					"Attach":   kerneltest.AttachCall(k.Attach, errClosed),
				}
				switch mode {
				case ModeShared:
					s = cms.MustNew(o.Params)
					calls["FlipInto"] = func() error { return k.FlipInto(s) }
					calls["Read"] = func() error { _, err := k.Read(1); return err }
				case ModeDetect:
					calls["NextEvent"] = func() error {
						_, err := k.NextEvent(time.Minute) // Close must end the wait
						if errors.Is(err, ErrNoEvent) {
							return errors.New("NextEvent waited a minute: Close did not end its wait")
						}
						return err
					}
				}
				kerneltest.CloseUnderCalls(t, k.Close, errClosed, 30*time.Second, calls)
			}
		})
	}
}
