//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_ReadInto: ReadInto and FlipInto overwrite a sketch of the
// kernel's Params whole, whatever it held: the result equals the Go
// sketch of the epoch's packets, as Read's and Flip's do, in both sketch
// modes, and an empty epoch reads into an empty sketch.
func TestKernel_ReadInto(t *testing.T) {
	p := cms.Params{Width: 63, Depth: 3, Seed: testSeed}
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		t.Run(mode.String(), func(t *testing.T) {
			k := load(t, Options{Params: p, Mode: mode, Epochs: true})
			a := runFrames(t, k, 0, 50)
			dst := cms.MustNew(p)
			dst.Add([]byte("held before"), 7) // a sketch that holds other counts
			if err := k.ReadInto(0, dst); err != nil {
				t.Fatal(err)
			}
			equalSketch(t, "ReadInto(0)", dst, goSketch(p, a))
			if err := k.ReadInto(1, dst); err != nil {
				t.Fatal(err)
			}
			equalSketch(t, "ReadInto(1), an empty epoch", dst, goSketch(p, nil))
			// Epoch 0 (a) ends; epoch 1 gets b; it ends into the same sketch.
			if err := k.FlipInto(dst); err != nil {
				t.Fatal(err)
			}
			equalSketch(t, "FlipInto, first epoch", dst, goSketch(p, a))
			b := runFrames(t, k, 50, 70)
			if err := k.FlipInto(dst); err != nil {
				t.Fatal(err)
			}
			equalSketch(t, "FlipInto, second epoch", dst, goSketch(p, b))
			if e, err := k.Epoch(); err != nil || e != 0 {
				t.Fatalf("after two flips the kernel counts in epoch %d (%v), want 0", e, err)
			}
		})
	}
}

// TestKernel_SketchInto: SketchInto overwrites a sketch of the kernel's
// Params whole with what Sketch returns (the Go sketch of the packets
// counted), with and without epochs, in both sketch modes; it allocates
// nothing once the kernel has its buffers (without epochs, N comes from
// the statistics, read by bpfload.SumPerCPU with no allocation either).
func TestKernel_SketchInto(t *testing.T) {
	p := cms.Params{Width: 4096, Depth: 3, Seed: testSeed}
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		for _, epochs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/epochs=%v", mode, epochs), func(t *testing.T) {
				k := load(t, Options{Params: p, Mode: mode, Epochs: epochs})
				a := runFrames(t, k, 0, 40)
				dst := cms.MustNew(p)
				dst.Add([]byte("held before"), 7) // a sketch that holds other counts
				if err := k.SketchInto(dst); err != nil {
					t.Fatal(err)
				}
				equalSketch(t, "SketchInto", dst, goSketch(p, a))
				want, err := k.Sketch()
				if err != nil {
					t.Fatal(err)
				}
				equalSketch(t, "SketchInto against Sketch", dst, want)
				kerneltest.NoAllocs(t, "SketchInto", func() error { return k.SketchInto(dst) })
			})
		}
	}
}

// TestKernel_ReadIntoRefuses: a nil sketch, the zero Sketch and sketches
// of other Params (seed, width, update mode) are errors that say so, for
// ReadInto, FlipInto and SketchInto (with and without epochs); the sketch
// is left as it was, and FlipInto ends no epoch.
func TestKernel_ReadIntoRefuses(t *testing.T) {
	p := cms.Params{Width: 63, Depth: 3, Seed: testSeed}
	k := load(t, Options{Params: p, Mode: ModeShared, Epochs: true})
	runFrames(t, k, 0, 10)
	plain := load(t, Options{Params: p, Mode: ModePerCPU})
	runFrames(t, plain, 0, 10)
	other := func(f func(*cms.Params)) *cms.Sketch {
		q := p
		f(&q)
		s := cms.MustNew(q)
		s.Add([]byte("held"), 5)
		return s
	}
	for _, c := range []struct {
		name string
		s    *cms.Sketch
		want string
	}{
		{"nil", nil, "read into a nil or zero Sketch"},
		{"zero", &cms.Sketch{}, "read into a nil or zero Sketch"},
		{"other seed", other(func(q *cms.Params) { q.Seed++ }), "want the kernel's"},
		{"other width", other(func(q *cms.Params) { q.Width++ }), "want the kernel's"},
		{"conservative", other(func(q *cms.Params) { q.Conservative = true }), "want the kernel's"},
	} {
		var was *cms.Sketch
		if c.s != nil && c.s.Counters() != nil {
			was = c.s.Clone()
		}
		kerneltest.Refused(t, c.name+" sketch", c.want, map[string]func() error{
			"ReadInto":              func() error { return k.ReadInto(0, c.s) },
			"FlipInto":              func() error { return k.FlipInto(c.s) },
			"SketchInto":            func() error { return k.SketchInto(c.s) },
			"SketchInto, no epochs": func() error { return plain.SketchInto(c.s) },
		})
		if was != nil && (c.s.Total() != was.Total() || fmt.Sprint(c.s.Counters()) != fmt.Sprint(was.Counters())) {
			t.Errorf("%s: a refused sketch changed", c.name)
		}
	}
	if e, err := k.Epoch(); err != nil || e != 0 {
		t.Errorf("after refused FlipInto calls the kernel counts in epoch %d (%v), want 0", e, err)
	}
}

// TestKernel_ReadIntoAllocatesNothing: with shared and per-CPU counters,
// ReadInto and FlipInto allocate nothing once the kernel has its read
// buffers, at any depth (no buffer for the clear, no value for the
// epoch's update and the wait either).
func TestKernel_ReadIntoAllocatesNothing(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			p := cms.Params{Width: 1024, Depth: cms.MaxDepth, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: mode, Epochs: true})
			dst := cms.MustNew(p)
			kerneltest.NoAllocs(t, "ReadInto", func() error { return k.ReadInto(0, dst) })
			kerneltest.NoAllocs(t, "FlipInto", func() error { return k.FlipInto(dst) })
		})
	}
}
