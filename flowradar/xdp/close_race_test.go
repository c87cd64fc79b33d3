//go:build linux

package xdp

import (
	"fmt"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_CloseUnderCalls: Close may run while the other methods do;
// it waits for them, and they fail with errClosed after it. Close used to
// unmap the shared tables while a Read was copying them, a fault that
// ended the process. The tables are sized for 2e5 flows (about 15 MiB an
// epoch), so that reads take long enough for Close to fall within them.
func TestKernel_CloseUnderCalls(t *testing.T) {
	kerneltest.Require(t)
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x"))
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.ParamsFor(200000, 5)
			for range 3 {
				k, err := Load(Options{Params: p, PerCPU: perCPU})
				if err != nil {
					t.Fatal(err)
				}
				into, err := flowradar.NewTable(p)
				if err != nil {
					t.Fatal(err)
				}
				calls := map[string]func() error{
					"Read":       func() error { _, err := k.Read(1); return err },
					"ReadInto":   func() error { return k.ReadInto(1, into) },
					"ReadCPUs":   func() error { _, err := k.ReadCPUs(1); return err },
					"Stats":      func() error { _, err := k.Stats(); return err },
					"ResetStats": k.ResetStats,
					"Epoch":      func() error { _, err := k.Epoch(); return err },
					"Flip":       func() error { _, err := k.Flip(); return err },
					"Run":        func() error { _, err := k.Run(frame); return err },
					"Attach":     kerneltest.AttachCall(k.Attach, errClosed),
				}
				kerneltest.CloseUnderCalls(t, k.Close, errClosed, 30*time.Second, calls)
			}
		})
	}
}
