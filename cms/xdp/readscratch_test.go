//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
)

// sameSketch reports whether a and b have the same N and counters.
func sameSketch(a, b *cms.Sketch) bool {
	return a.Total() == b.Total() && slices.Equal(a.Counters(), b.Counters())
}

// TestKernel_ReadsShareNoSketch: Sketch, Read and Flip fill their counters
// in a buffer the Kernel keeps from one read to the next, and Counters
// returns a slice of its own. Each sketch must be its own all the same:
// reads from several goroutines at once (under the race detector in CI)
// all equal the Go sketch, and a sketch or counters returned earlier do
// not change when later reads reuse the buffer.
func TestKernel_ReadsShareNoSketch(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		for _, epochs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/epochs=%v", mode, epochs), func(t *testing.T) {
				p := cms.Params{Width: 64, Depth: 4, Seed: testSeed}
				k := load(t, Options{Params: p, Mode: mode, Epochs: epochs})
				want := goSketch(p, runFrames(t, k, 0, 40))
				first, err := k.Sketch()
				if err != nil || !sameSketch(first, want) {
					t.Fatalf("Sketch differs from Go (%v)", err)
				}
				counters, err := k.Counters()
				if err != nil || !slices.Equal(counters, want.Counters()) {
					t.Fatalf("Counters differ from Go (%v)", err)
				}
				read := []func() (*cms.Sketch, error){k.Sketch}
				if epochs {
					read = append(read, func() (*cms.Sketch, error) { return k.Read(0) })
				}
				var wg sync.WaitGroup
				errs := make(chan error, 16)
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 5 {
							got, err := read[g%len(read)]()
							if err != nil {
								errs <- err
							} else if !sameSketch(got, want) {
								errs <- fmt.Errorf("reader %d: a sketch differs from Go", g)
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if epochs {
					// Reading the other (empty) epoch reuses the buffer too.
					if other, err := k.Read(1); err != nil || other.Total() != 0 || slices.ContainsFunc(other.Counters(), func(c uint32) bool { return c != 0 }) {
						t.Errorf("Read(1), an epoch with no packet: N %d (%v), want an empty sketch", other.Total(), err)
					}
				}
				if !sameSketch(first, want) {
					t.Error("the first sketch changed after later reads")
				}
				if !slices.Equal(counters, want.Counters()) {
					t.Error("the counters Counters returned changed after later reads")
				}
				if len(k.scratch) != p.Counters() {
					t.Errorf("after reads the kernel keeps %d counters, want %d", len(k.scratch), p.Counters())
				}
				k.Close()
				if k.scratch != nil {
					t.Error("Close kept the read buffer")
				}
			})
		}
	}
}
