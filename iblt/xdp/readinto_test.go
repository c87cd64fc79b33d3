//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// udpFrames returns n frames of n flows, from 10.0.x.y = base+i (x = 0
// below 256) to 10.0.0.200.
func udpFrames(base, n int) [][]byte {
	var frames [][]byte
	for i := range n {
		j := base + i
		frames = append(frames, pkt.UDP4(fmt.Sprintf("10.0.%d.%d:5353", j>>8&255, j&255), "10.0.0.200:53", []byte{byte(i)}))
	}
	return frames
}

// TestKernel_ReadInto: ReadInto and FlipInto overwrite a table of the
// kernel's Params whole, whatever it held: the result equals the Go
// digest of the epoch's packets, as Read's and Flip's do, per-CPU and
// shared, and an empty epoch reads into an empty table.
func TestKernel_ReadInto(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			o, err := OptionsFor(50, 0.99, 3)
			if err != nil {
				t.Fatal(err)
			}
			o.Shared = shared
			k := loadKernel(t, o)
			a, b := udpFrames(1, 20), udpFrames(101, 30)
			for _, f := range a {
				kerneltest.Run(t, k.Program(), f)
			}
			dst := digestOK(t, o, b) // a table that holds other packets
			if err := k.ReadInto(0, dst); err != nil || !dst.Equal(digestOK(t, o, a)) {
				t.Fatalf("ReadInto(0): the table differs from Go's (%v)", err)
			}
			if err := k.ReadInto(1, dst); err != nil || !dst.Equal(digestOK(t, o, nil)) {
				t.Fatalf("ReadInto(1), an empty epoch: the table is not empty (%v)", err)
			}
			// Epoch 0 (a) ends; epoch 1 gets b; it ends into the same table.
			if err := k.FlipInto(dst); err != nil || !dst.Equal(digestOK(t, o, a)) {
				t.Fatalf("FlipInto, first epoch: the table differs from Go's (%v)", err)
			}
			for _, f := range b {
				kerneltest.Run(t, k.Program(), f)
			}
			if err := k.FlipInto(dst); err != nil || !dst.Equal(digestOK(t, o, b)) {
				t.Fatalf("FlipInto, second epoch: the table differs from Go's (%v)", err)
			}
			if e := epochOK(t, k); e != 0 {
				t.Fatalf("after two flips the kernel writes epoch %d, want 0", e)
			}
		})
	}
}

// TestKernel_ReadIntoRefuses: a nil table, the zero Table and a table of
// other Params are errors that say so; the table is left as it was, and
// FlipInto ends no epoch.
func TestKernel_ReadIntoRefuses(t *testing.T) {
	o, err := OptionsFor(50, 0.99, 3)
	if err != nil {
		t.Fatal(err)
	}
	k := loadKernel(t, o)
	for _, f := range udpFrames(1, 10) {
		kerneltest.Run(t, k.Program(), f)
	}
	other := o
	other.Seed++
	held := digestOK(t, other, udpFrames(50, 5))
	was := held.Clone()
	for _, c := range []struct {
		name string
		t    *iblt.Table
		want string
	}{
		{"nil", nil, "read into a nil or zero Table"},
		{"zero", &iblt.Table{}, "read into a nil or zero Table"},
		{"other seed", held, "want the kernel's cells="},
	} {
		kerneltest.Refused(t, c.name+" table", c.want, map[string]func() error{
			"ReadInto": func() error { return k.ReadInto(0, c.t) },
			"FlipInto": func() error { return k.FlipInto(c.t) },
		})
	}
	if !held.Equal(was) {
		t.Error("a refused table changed")
	}
	if e := epochOK(t, k); e != 0 {
		t.Errorf("after refused FlipInto calls the kernel writes epoch %d, want 0", e)
	}
}

// TestKernel_ReadIntoAllocatesNothing: with shared and per-CPU maps,
// ReadInto and FlipInto allocate nothing once the kernel has its batch
// buffers (no buffer for the clear, no value for the epoch's update and
// the wait either).
func TestKernel_ReadIntoAllocatesNothing(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			o, err := OptionsFor(1000, 0.99, 3)
			if err != nil {
				t.Fatal(err)
			}
			o.Shared = shared
			k := loadKernel(t, o)
			dst := iblt.MustNew(o.Params())
			kerneltest.NoAllocs(t, "ReadInto", func() error { return k.ReadInto(0, dst) })
			kerneltest.NoAllocs(t, "FlipInto", func() error { return k.FlipInto(dst) })
		})
	}
}
