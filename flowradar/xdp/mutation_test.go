//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// TestKernel_ReadIntoRefusesBadEpochAndClosed guards that ReadInto refuses
// an epoch other than 0 and 1 with an error, instead of panicking, and
// says a closed kernel is closed, as Read does.
func TestKernel_ReadIntoRefusesBadEpochAndClosed(t *testing.T) {
	p := flowradar.ParamsFor(10, 5)
	for _, perCPU := range []bool{false, true} {
		k := loadKernel(t, p, perCPU)
		tab, err := flowradar.NewTable(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []int{-1, 2} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("perCPU %v: ReadInto(%d) panics: %v", perCPU, e, r)
					}
				}()
				if err := k.ReadInto(e, tab); err == nil {
					t.Errorf("perCPU %v: ReadInto(%d) succeeded", perCPU, e)
				}
			}()
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if err := k.ReadInto(0, tab); !errors.Is(err, errClosed) {
			t.Errorf("perCPU %v: ReadInto after Close: %v, want %v", perCPU, err, errClosed)
		}
	}
}

// TestKernel_FlipIntoClosed guards that FlipInto of a closed kernel, or of
// the zero Kernel, returns the closed-kernel error, as Flip does, instead
// of the error (or panic) of ending an epoch through closed or missing maps.
func TestKernel_FlipIntoClosed(t *testing.T) {
	p := flowradar.ParamsFor(10, 5)
	closed := loadKernel(t, p, false)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*Kernel{"zero": {}, "closed": closed} {
		tab, err := flowradar.NewTable(p)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s Kernel: FlipInto panics: %v", name, r)
				}
			}()
			if err := k.FlipInto(tab); !errors.Is(err, errClosed) {
				t.Errorf("%s Kernel: FlipInto: %v, want %v", name, err, errClosed)
			}
		}()
	}
}

// TestKernel_CrowdedManyFilterHashes guards the flow filter's test for
// more than 16 filter hashes (the bounded loop after the unrolled cases):
// in a crowded filter a new flow often finds all but one of its bits set,
// so a test that skipped a bit would take it as known where Go takes it
// as new. The fixtures' few flows leave the filter nearly empty, and the
// replays use 14 hashes.
func TestKernel_CrowdedManyFilterHashes(t *testing.T) {
	frames := udpFrames(0, 120)
	for _, fk := range []int{17, 25, flowradar.MaxFilterHashes} {
		for _, perCPU := range []bool{false, true} {
			p := flowradar.Params{Cells: 512, Hashes: 4, FilterBits: 512, FilterHashes: fk, Seed: 0xc40d}
			k := loadKernel(t, p, perCPU)
			for _, f := range frames {
				runOnce(t, k, f)
			}
			got, want := flipWithModel(t, k, p, frames)
			if want.Flows() == len(frames) {
				t.Fatalf("fk %d: no flow was a false positive of the Go filter: not crowded enough", fk)
			}
			if !got.Equal(want) {
				t.Errorf("fk %d, perCPU %v: kernel table differs from the Go encoder (Go: %d new flows of %d)",
					fk, perCPU, want.Flows(), len(frames))
			}
			if st, err := k.Stats(); err != nil || st.NewFlows != uint64(want.Flows()) {
				t.Errorf("fk %d, perCPU %v: stats %+v (%v), want %d new flows", fk, perCPU, st, err, want.Flows())
			}
		}
	}
}

// TestKernel_SharedFilterConcurrent guards that the shared mode sets the
// flow filter's bits atomically: two CPUs adding new flows to one block at
// the same time must not lose each other's bits (a plain load, OR and
// store does). Whatever the order of the packets, the filter of an epoch
// is then the OR of its flows' bits, the Go filter of the same packets;
// each round sends each flow once, so a lost bit stays lost.
func TestKernel_SharedFilterConcurrent(t *testing.T) {
	cpus := kerneltest.TwoCPUs(t)
	p := flowradar.Params{Cells: 4 * 64, Hashes: 4, FilterBits: 512, FilterHashes: 2, Seed: 11}
	k := loadKernel(t, p, false)
	var byCPU [2][][]byte
	for i := range 200 {
		// 10.0.0.i:1000 and 10.0.2.i:1000 > 10.0.1.1:53 udp: disjoint
		// flows per CPU
		for c := range 2 {
			byCPU[c] = append(byCPU[c], pkt.UDP4(fmt.Sprintf("10.0.%d.%d:1000", 2*c, i), "10.0.1.1:53", nil))
		}
	}
	want := goTable(p, append(append([][]byte{}, byCPU[0]...), byCPU[1]...)).Filter()
	d := 3 * time.Second // a mutant with plain ORs failed within 0.3 s
	if testing.Short() {
		d = time.Second
	}
	rounds := 0
	for deadline := time.Now().Add(d); time.Now().Before(deadline) && !t.Failed(); rounds++ {
		// Each CPU's thread sends its flows once; the two start together.
		kerneltest.OnThreads(t, cpus[:], func(c int) error { return runFrames(k, byCPU[c]) })
		got, err := k.Flip()
		if err != nil {
			t.Fatal(err)
		}
		gf := got.Filter()
		for i := range want {
			if gf[i] != want[i] {
				t.Errorf("round %d: filter word %d is %#x, want %#x (the OR of the flows' bits)", rounds, i, gf[i], want[i])
			}
		}
	}
	t.Logf("%d rounds", rounds)
}
