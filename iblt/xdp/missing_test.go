//go:build linux

package xdp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// loadCellMap loads the kernel of o with a cell map of elems elements
// (cells when o.Shared, else chunks of 64 cells) in place of o's: what a
// loader sizing the map wrongly would make.
func loadCellMap(t *testing.T, o Options, elems uint32) *Kernel {
	t.Helper()
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	if err := Configure(spec, o); err != nil {
		t.Fatal(err)
	}
	inUse := ibltMapIbltCells
	if o.Shared {
		inUse = ibltMapIbltSharedCells
	}
	spec.Maps[inUse].MaxEntries = elems
	k := &Kernel{opts: o}
	if err := bpfload.Load(spec, "iblt", &k.objs); err != nil {
		t.Fatalf("%+v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// TestKernel_MissingCells loads the kernel with its cell map cut short of
// the table (what a loader sizing the map wrongly would do): every lookup
// of a cell past the map's end fails, and the kernel counts each one in
// MissingCells, in both table modes. The count expected is computed from
// the cell indexes of the packets' keys (sub-table j, cell
// flow.Index(h, j, sub)), not from the kernel. Reset then zeroes the
// count with the others.
func TestKernel_MissingCells(t *testing.T) {
	kerneltest.Require(t)
	var frames [][]byte
	for _, fx := range fixtures(t) {
		frames = append(frames, fx.frame)
	}
	for _, shared := range []bool{false, true} {
		name := fmt.Sprintf("shared=%v", shared)
		o := Options{Cells: 300, Hashes: 3, Seed: 0x5eed, Shared: shared}
		const mapCells = 128 // sub-table 0 (100 cells) and 28 cells of sub-table 1
		elems := uint32(mapCells)
		if !shared {
			elems = uint32(mapCells / chunk) // two chunks
		}
		k := loadCellMap(t, o, elems)
		sub := uint32(o.Cells / o.Hashes)
		var want, inserted uint64
		for _, f := range frames {
			if v, _ := kerneltest.Run(t, k.Program(), f); v != xdpPass {
				t.Fatalf("%s: verdict %d, want XDP_PASS", name, v)
			}
			info, err := flow.Parse(f)
			if err != nil {
				continue
			}
			inserted++
			key := PacketKey(f, info)
			h := flow.Hash64(key[:], o.Seed)
			for j := uint32(0); j < uint32(o.Hashes); j++ {
				if j*sub+flow.Index(h, j, sub) >= mapCells {
					want++
				}
			}
		}
		st, err := k.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if want == 0 || want == inserted*uint64(o.Hashes) {
			t.Fatalf("%s: %d of %d cell lookups miss; the test needs some to hit and some to miss", name, want, inserted*uint64(o.Hashes))
		}
		if st.MissingCells != want || st.Outcomes[flow.OutcomeOK] != inserted {
			t.Errorf("%s: %d missing cells and %d packets inserted, want %d and %d", name, st.MissingCells, st.Outcomes[flow.OutcomeOK], want, inserted)
		}
		kerneltest.NoAllocs(t, "Stats", func() error { _, err := k.Stats(); return err })
		// Reset zeroes every counter, MissingCells included (told the
		// cells the map has, two epochs' worth, which it clears).
		k.opts.Cells = mapCells / 2
		if err := k.Reset(); err != nil {
			t.Fatal(err)
		}
		if st, err := k.Stats(); err != nil || st != (Stats{}) {
			t.Errorf("%s: stats after Reset %+v (err %v), want zero", name, st, err)
		}
	}
}

// TestKernel_TableOfOversizedMap reads back a kernel whose cell map holds
// more cells than its options' two tables (a map sized by another
// loader): Table and Read must refuse it with an error naming the sizes,
// not index past the table or read another epoch's cells, in both modes.
func TestKernel_TableOfOversizedMap(t *testing.T) {
	kerneltest.Require(t)
	for _, shared := range []bool{false, true} {
		o := Options{Cells: 12, Hashes: 3, Seed: 1, Shared: shared}
		// Shared: 25 cells for 24. Per CPU: 3 chunks of 64 cells for 2
		// (each epoch's 12 cells in a chunk of its own).
		elems, want := uint32(2*o.Cells+1), "the cell map holds 25 elements, want 24 (two epochs of 12 cells)"
		if !shared {
			elems, want = 3, "the cell map holds 3 elements, want 2 (two epochs of 12 cells)"
		}
		k := loadCellMap(t, o, elems)
		if tb, err := k.Table(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shared=%v: Table of a map of %d elements for 12 cells gave %v, %v; want an error saying %q", shared, elems, tb, err, want)
		}
		if tb, err := k.Read(1); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("shared=%v: Read(1) of a map of %d elements for 12 cells gave %v, %v; want an error saying %q", shared, elems, tb, err, want)
		}
	}
}
