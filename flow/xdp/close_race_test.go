//go:build linux

package xdp

import (
	"errors"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_CloseUnderCalls: Close may run while the other methods do;
// it ends a NextEvent's wait, waits for the calls in progress, and they
// fail with errClosed after it.
func TestKernel_CloseUnderCalls(t *testing.T) {
	kerneltest.Require(t)
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x"))
	for range 3 {
		k, err := Load(Options{Seed: testSeed, Events: true})
		if err != nil {
			t.Fatal(err)
		}
		calls := map[string]func() error{
			"Stats":      func() error { _, err := k.Stats(); return err },
			"ResetStats": k.ResetStats,
			"Run":        func() error { _, err := k.Run(frame); return err },
			"NextEvent": func() error {
				_, err := k.NextEvent(time.Minute) // Close must end the wait
				if errors.Is(err, ErrNoEvent) {
					return errors.New("NextEvent waited a minute: Close did not end its wait")
				}
				return err
			},
			"Attach": kerneltest.AttachCall(k.Attach, errClosed),
		}
		kerneltest.CloseUnderCalls(t, k.Close, errClosed, 30*time.Second, calls)
	}
}
