//go:build linux

package xdp

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_ReadsShareNoTable: Read merges an epoch's cells in a buffer
// the Kernel keeps from one read to the next. Each Read's table must be
// its own all the same: reads from several goroutines at once (under the
// race detector in CI) all equal the Go table of the epoch, and a table
// returned earlier does not change when later reads, of the same epoch or
// the other, reuse the buffer.
func TestKernel_ReadsShareNoTable(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.ParamsFor(100, 5)
			k := loadKernel(t, p, perCPU)
			var frames [][]byte
			for i := range 20 {
				frames = append(frames, pkt.UDP4(fmt.Sprintf("10.0.0.%d:5353", i+1), "10.0.0.200:53", []byte{byte(i)}))
			}
			for _, f := range frames {
				kerneltest.Run(t, k.Program(), f)
			}
			want := flowradar.MustNew(p).Active()
			Encode(want, frames)
			first, err := k.Read(0)
			if err != nil || !first.Equal(want) {
				t.Fatalf("Read(0): the table differs from Go (%v)", err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 5 {
						got, err := k.Read(g % 2)
						switch {
						case err != nil:
							errs <- err
						case g%2 == 0 && !got.Equal(want):
							errs <- fmt.Errorf("Read(0) differs from Go")
						case g%2 == 1 && got.Equal(want):
							errs <- fmt.Errorf("Read(1), an empty epoch, equals epoch 0")
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if !first.Equal(want) {
				t.Error("the first table changed after later reads")
			}
			if len(k.scratch) != int(p.Cells) {
				t.Errorf("after reads the kernel keeps %d cells, want %d", len(k.scratch), p.Cells)
			}
			k.Close()
			if k.scratch != nil {
				t.Error("Close kept the read buffer")
			}
		})
	}
}
