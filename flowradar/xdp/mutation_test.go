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
