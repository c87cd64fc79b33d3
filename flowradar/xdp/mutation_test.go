//go:build linux

package xdp

import (
	"errors"
	"testing"

	"github.com/dataplane-go/dataplane/flowradar"
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
