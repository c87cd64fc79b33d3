//go:build linux

package xdp

import (
	"fmt"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_CloseUnderCalls: Close may run while the other methods do;
// it waits for them, and they fail with errClosed after it. Close used to
// unmap the shared cells while a Read was copying them, a fault that
// ended the process. The digests are of 196,608 cells (13.5 MiB an
// epoch), so that reads take long enough for Close to fall within them.
func TestKernel_CloseUnderCalls(t *testing.T) {
	kerneltest.Require(t)
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x"))
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			for range 3 {
				o := Options{Cells: 3 << 16, Hashes: 3, Seed: 1, Shared: shared}
				k, err := Load(o)
				if err != nil {
					t.Fatal(err)
				}
				into := iblt.MustNew(o.Params())
				calls := map[string]func() error{
					"Table":    func() error { _, err := k.Table(); return err },
					"ReadInto": func() error { return k.ReadInto(1, into) },
					"Stats":    func() error { _, err := k.Stats(); return err },
					"Epoch":    func() error { _, err := k.Epoch(); return err },
					"Run":      func() error { _, err := k.Run(frame); return err },
					"Flip":     func() error { _, err := k.Flip(); return err },
					"Attach":   kerneltest.AttachCall(k.Attach, errClosed),
				}
				kerneltest.CloseUnderCalls(t, k.Close, errClosed, 30*time.Second, calls)
			}
		})
	}
}
