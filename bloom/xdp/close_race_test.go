//go:build linux

package xdp

import (
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_CloseUnderCalls: Close may run while the other methods do;
// it waits for them, and they fail with errClosed after it. Close used to
// unmap the filter while a Filter or a WriteFilter was copying it, a
// fault that ended the process. The filters are of 1e7 keys (12 MiB at
// 1%), so that copies take long enough for Close to fall within them.
func TestKernel_CloseUnderCalls(t *testing.T) {
	kerneltest.Require(t)
	frame := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x"))
	for _, layout := range []Layout{Classic, Blocked} {
		t.Run(layout.String(), func(t *testing.T) {
			p := bloom.ParamsFor(1e7, 0.01)
			if layout == Blocked {
				p = bloom.BlockedParamsFor(1e7, 0.01)
			}
			for range 3 {
				k, err := Load(Options{Params: p, Layout: layout, Learn: true})
				if err != nil {
					t.Fatal(err)
				}
				calls := map[string]func() error{
					"Stats":      func() error { _, err := k.Stats(); return err },
					"ResetStats": k.ResetStats,
					"Run":        func() error { _, err := k.Run(frame); return err },
					"Bench":      func() error { _, err := k.Bench(frame, 100); return err },
					"Attach":     kerneltest.AttachCall(k.Attach, errClosed),
				}
				if layout == Classic {
					f := bloom.MustNew(p)
					calls["Filter"] = func() error { _, err := k.Filter(); return err }
					calls["WriteFilter"] = func() error { return k.WriteFilter(f) }
				} else {
					f := bloom.MustNewBlocked(p)
					calls["Blocked"] = func() error { _, err := k.Blocked(); return err }
					calls["WriteBlocked"] = func() error { return k.WriteBlocked(f) }
				}
				kerneltest.CloseUnderCalls(t, k.Close, errClosed, 30*time.Second, calls)
			}
		})
	}
}
