//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// udpFrames returns n frames of n flows, 10.0.0.(base+i) to 10.0.0.200.
func udpFrames(base, n int) [][]byte {
	var frames [][]byte
	for i := range n {
		frames = append(frames, pkt.UDP4(fmt.Sprintf("10.0.0.%d:5353", base+i), "10.0.0.200:53", []byte{byte(i)}))
	}
	return frames
}

// goTable returns the Go table of frames under p.
func goTable(p flowradar.Params, frames [][]byte) *flowradar.Table {
	t := flowradar.MustNew(p).Active()
	Encode(t, frames)
	return t
}

// TestKernel_ReadInto: ReadInto and FlipInto overwrite a table of the
// kernel's Params whole, whatever it held: the result equals the Go table
// of the epoch's packets, as Read's and Flip's do, for both modes, and an
// empty epoch reads into an empty table.
func TestKernel_ReadInto(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.ParamsFor(100, 5)
			k := loadKernel(t, p, perCPU)
			a, b := udpFrames(1, 20), udpFrames(101, 30)
			for _, f := range a {
				kerneltest.Run(t, k.Program(), f)
			}
			dst := goTable(p, b) // a table that holds other flows
			if err := k.ReadInto(0, dst); err != nil || !dst.Equal(goTable(p, a)) {
				t.Fatalf("ReadInto(0): the table differs from Go's (%v)", err)
			}
			if err := k.ReadInto(1, dst); err != nil || !dst.Equal(goTable(p, nil)) {
				t.Fatalf("ReadInto(1), an empty epoch: the table is not empty (%v)", err)
			}
			// Epoch 0 (a) ends; epoch 1 gets b; it ends into the same table.
			if err := k.FlipInto(dst); err != nil || !dst.Equal(goTable(p, a)) {
				t.Fatalf("FlipInto, first epoch: the table differs from Go's (%v)", err)
			}
			for _, f := range b {
				kerneltest.Run(t, k.Program(), f)
			}
			if err := k.FlipInto(dst); err != nil || !dst.Equal(goTable(p, b)) {
				t.Fatalf("FlipInto, second epoch: the table differs from Go's (%v)", err)
			}
			if e, err := k.Epoch(); err != nil || e != 0 {
				t.Fatalf("after two flips the kernel writes epoch %d (%v), want 0", e, err)
			}
		})
	}
}

// TestKernel_ReadIntoRefuses: a nil table, the zero Table and a table of
// other Params are errors that say so; the table is left as it was, and
// FlipInto ends no epoch.
func TestKernel_ReadIntoRefuses(t *testing.T) {
	p := flowradar.ParamsFor(100, 5)
	k := loadKernel(t, p, false)
	for _, f := range udpFrames(1, 10) {
		kerneltest.Run(t, k.Program(), f)
	}
	other := p
	other.Seed++
	held := goTable(other, udpFrames(50, 5))
	was := held.Clone()
	for _, c := range []struct {
		name string
		t    *flowradar.Table
		want string
	}{
		{"nil", nil, "read into a nil table"},
		{"zero", &flowradar.Table{}, "read into the zero Table"},
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
	if e, err := k.Epoch(); err != nil || e != 0 {
		t.Errorf("after refused FlipInto calls the kernel writes epoch %d (%v), want 0", e, err)
	}
}

// TestKernel_ReadIntoAllocatesNothing: in both modes, ReadInto allocates
// nothing once the kernel has its read buffers (the per-CPU maps' batches
// among them), and neither does FlipInto (no buffer for the clear, no
// value for the epoch's update and the wait either).
func TestKernel_ReadIntoAllocatesNothing(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			p := flowradar.ParamsFor(1000, 5)
			k := loadKernel(t, p, perCPU)
			dst := flowradar.MustNew(p).Active()
			kerneltest.NoAllocs(t, "ReadInto", func() error { return k.ReadInto(0, dst) })
			kerneltest.NoAllocs(t, "FlipInto", func() error { return k.FlipInto(dst) })
		})
	}
}
