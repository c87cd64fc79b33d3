//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// pinnedNames are the pins a load with a PinPath makes: every map of both
// modes, and the constants; no data section.
var pinnedNames = []string{
	"flowradar_cells0", "flowradar_cells1", "flowradar_epoch",
	"flowradar_filter0", "flowradar_filter1", "flowradar_opts",
	"flowradar_pcpu_cells0", "flowradar_pcpu_cells1",
	"flowradar_pcpu_filter0", "flowradar_pcpu_filter1", "flowradar_stats",
}

// loadPinned loads a kernel with o, closed at the test's end.
func loadPinned(t *testing.T, o Options) *Kernel {
	t.Helper()
	k, err := Load(o)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// readEqual fails t unless k's epoch e reads as want.
func readEqual(t *testing.T, what string, k *Kernel, e int, want *flowradar.Table) {
	t.Helper()
	got, err := k.Read(e)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !got.Equal(want) {
		t.Fatalf("%s: epoch %d's table (%d flows) is not the one expected (%d flows)", what, e, got.Flows(), want.Flows())
	}
}

// epochIs fails t unless k writes epoch want.
func epochIs(t *testing.T, what string, k *Kernel, want int) {
	t.Helper()
	if e, err := k.Epoch(); err != nil || e != want {
		t.Fatalf("%s: Epoch() = %d, %v; want %d", what, e, err, want)
	}
}

// Kernels loaded with one PinPath share the epoch, both epochs' tables and
// the counters, in both modes: a packet run through one is in the other's
// Read, which decodes it, and in its Stats; a Flip through one returns the
// packets the other counted and moves the other to the next epoch, and
// ResetStats through one zeroes the other's counters. A Load after all
// closed (a restarted process) finds the tables, the epoch and the
// counters as they were. A load with other options is refused, naming the
// constant that differs, and changes nothing; after Unpin no pin is left,
// a kernel still loaded keeps its tables, and a load starts empty.
func TestKernel_Pin(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) { testPin(t, perCPU) })
	}
}

func testPin(t *testing.T, perCPU bool) {
	kerneltest.Require(t)
	dir := kerneltest.BPFFS(t)
	if perCPU {
		kerneltest.PinCPU(t) // every flow on one CPU, so that the merged tables decode
	}
	p := flowradar.ParamsFor(100, 0x919)
	o := Options{Params: p, PerCPU: perCPU, PinPath: dir}
	first, second := udpFrames(1, 3), udpFrames(10, 2)

	a, b := loadPinned(t, o), loadPinned(t, o)
	epochIs(t, "first kernel", a, 0)
	if err := runFrames(a, first); err != nil {
		t.Fatal(err)
	}
	epochIs(t, "second kernel", b, 0)
	readEqual(t, "second kernel, packets run through the first", b, 0, goTable(p, first))
	tb, err := b.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, tb); len(got) != len(first) || got[mustKey(t, first[0])] != 1 {
		t.Fatalf("second kernel decodes %v, want the first's %d flows of one packet", got, len(first))
	}
	if s, err := b.Stats(); err != nil || s.Packets() != 3 || s.NewFlows != 3 {
		t.Fatalf("second kernel's Stats = %+v, %v; want the first's 3 packets, 3 new flows", s, err)
	}

	// A Flip through b ends the epoch a's program writes.
	if tb, err := b.Flip(); err != nil || !tb.Equal(goTable(p, first)) {
		t.Fatalf("Flip through the second kernel: %v; want the first's packets", err)
	}
	epochIs(t, "first kernel after the second's Flip", a, 1)
	if err := runFrames(a, second); err != nil {
		t.Fatal(err)
	}
	readEqual(t, "first kernel, the epoch the second ended", a, 0, goTable(p, first))
	readEqual(t, "second kernel, the first's packets after the Flip", b, 1, goTable(p, second))
	if got := kerneltest.Pins(t, dir); !slices.Equal(got, pinnedNames) {
		t.Fatalf("pins %v, want %v", got, pinnedNames)
	}
	for _, k := range []*Kernel{a, b} {
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A restarted process.
	c := loadPinned(t, o)
	epochIs(t, "load after both closed", c, 1)
	readEqual(t, "load after both closed", c, 0, goTable(p, first))
	readEqual(t, "load after both closed", c, 1, goTable(p, second))
	if s, err := c.Stats(); err != nil || s.Packets() != 5 || s.NewFlows != 5 {
		t.Fatalf("load after both closed: Stats = %+v, %v; want 5 packets, 5 new flows", s, err)
	}
	if c.Options() != o || c.Params() != p {
		t.Fatalf("Options() = %+v, Params() = %+v; want %+v", c.Options(), c.Params(), o)
	}
	d := loadPinned(t, o)
	if err := d.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Stats(); err != nil || s != (Stats{}) {
		t.Fatalf("Stats after another kernel's ResetStats = %+v, %v; want zero", s, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		constant string
		change   func(*Options)
	}{
		{"fr_seed", func(o *Options) { o.Params.Seed++ }},
		{"fr_percpu", func(o *Options) { o.PerCPU = !o.PerCPU }},
		{"fr_sub", func(o *Options) { o.Params.Cells += uint32(o.Params.Hashes) }},
		{"fr_blocks", func(o *Options) { o.Params.FilterBits += 512 }},
	} {
		other := o
		tc.change(&other)
		k, err := Load(other)
		if err == nil {
			k.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.constant+" is") {
			t.Fatalf("Load with another %s on the same PinPath: %v; want a refusal naming %s", tc.constant, err, tc.constant)
		}
		t.Log(err)
	}
	epochIs(t, "after the refused loads", c, 1)
	readEqual(t, "after the refused loads", c, 1, goTable(p, second))

	kerneltest.Unpinned(t, dir, Unpin)
	readEqual(t, "a kernel loaded before Unpin", c, 1, goTable(p, second))
	other := o
	other.Params.Seed++
	e := loadPinned(t, other)
	epochIs(t, "load after Unpin", e, 0)
	empty := flowradar.MustNew(other.Params).Active()
	readEqual(t, "load after Unpin", e, 0, empty)
	readEqual(t, "load after Unpin", e, 1, empty)
	if s, err := e.Stats(); err != nil || s != (Stats{}) {
		t.Fatalf("load after Unpin: Stats = %+v, %v; want zero", s, err)
	}
	kerneltest.Unpinned(t, dir, Unpin)
}

// Unpin of a directory with no pins, or whose pins went, is no error; of
// the empty path it is one.
func TestUnpin_Nothing(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.Unpinned(t, kerneltest.BPFFS(t), Unpin)
}

// Under traffic through one kernel's program on two CPUs, Flips through
// another kernel on the same pins lose no packet: every packet the first
// parsed is in exactly one flipped table. The Flip's wait covers the
// programs of every kernel, not only its own.
func TestKernel_PinFlipUnderTraffic(t *testing.T) {
	kerneltest.Require(t)
	dir := kerneltest.BPFFS(t)
	p := flowradar.ParamsFor(64, 9)
	o := Options{Params: p, PinPath: dir}
	flipUnderTraffic(t, loadPinned(t, o), loadPinned(t, o), p, time.Second)
}
