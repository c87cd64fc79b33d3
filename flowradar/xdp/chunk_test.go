//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// chunkParams is a table whose cells are not a whole number of per-CPU
// chunks: 200 cells are chunks 0 to 2 (cells 0-191) and a last chunk of 8
// (192-199, slots 8-63 unused). Sub-table 1 is cells 50-99, so it spans
// the boundary between chunks 0 and 1 (cells 63 and 64); sub-table 3 ends
// in the last chunk.
var chunkParams = flowradar.Params{Cells: 200, Hashes: 4, FilterBits: 1024, FilterHashes: 7, Seed: 0xc4}

// TestKernel_PerCPUChunkCells: flows whose cells are the last of a
// per-CPU chunk (63), the first of the next (64) and in the short last
// chunk, counted by the kernel in each epoch, read back equal to the Go
// table (Read and ReadCPUs), and an epoch reused after a Flip holds
// nothing of its earlier flows (its last chunk cleared too). A kernel
// that put cell idx elsewhere than slot idx%64 of chunk idx/64, or a
// loader that read or cleared a chunk too few, fails here.
func TestKernel_PerCPUChunkCells(t *testing.T) {
	p := chunkParams
	k := loadKernel(t, p, true)
	tail := func(i uint32) bool { return i >= p.Cells/cellChunk*cellChunk }
	targets := []struct {
		name string
		hit  func(uint32) bool
	}{
		{"cell 63", func(i uint32) bool { return i == 63 }},
		{"cell 64", func(i uint32) bool { return i == 64 }},
		{"the last chunk", tail},
		{"cell 199", func(i uint32) bool { return i == p.Cells-1 }},
	}
	model, _ := flowradar.NewTable(p)
	port := 1000
	// flows returns frames of new flows (one packet each, and a second of
	// the first), between them hitting every target.
	flows := func() [][]byte {
		var frames [][]byte
		for _, tg := range targets {
			for ; ; port++ {
				if port > 60000 {
					t.Fatalf("no flow hits %s", tg.name)
				}
				f := pkt.UDP4(fmt.Sprintf("10.0.0.1:%d", port), "10.0.0.2:53", []byte{byte(port)})
				info, err := flow.Parse(f)
				if err != nil {
					t.Fatal(err)
				}
				var cells [flowradar.MaxHashes]uint32
				hit := false
				for _, c := range cells[:model.CellsOf(&info.Key, &cells)] {
					hit = hit || tg.hit(c)
				}
				if hit {
					frames = append(frames, f)
					port++
					break
				}
			}
		}
		return append(frames, frames[0])
	}
	for round := range 3 { // epochs 0, 1, then 0 again
		e := round % 2
		if now, _ := k.Epoch(); now != e {
			t.Fatalf("round %d: the kernel writes epoch %d, want %d", round, now, e)
		}
		frames := flows()
		for _, f := range frames {
			runOnce(t, k, f)
		}
		got, want := flipWithModel(t, k, p, frames)
		if !got.Equal(want) {
			t.Fatalf("epoch %d (round %d): kernel table differs from the Go table", e, round)
		}
		cells := got.Cells()
		for _, tg := range targets {
			n := uint32(0)
			for i := range p.Cells {
				if tg.hit(i) {
					n += cells[i].PacketCount
				}
			}
			if n == 0 {
				t.Fatalf("epoch %d: no packet in %s: the test proves nothing", e, tg.name)
			}
		}
		if d, err := got.Decode(); err != nil || len(d.Flows) != len(frames)-1 {
			t.Fatalf("epoch %d: decoded %d flows (%v), want %d", e, len(d.Flows), err, len(frames)-1)
		}
		again, err := k.Read(e)
		if err != nil || !again.Equal(want) {
			t.Fatalf("epoch %d read again: %v, or the table differs", e, err)
		}
		split, err := k.ReadCPUs(e)
		if err != nil {
			t.Fatal(err)
		}
		holding := 0
		for c, tb := range split {
			switch {
			case tb.Equal(want):
				holding++
			case tb.Flows() != 0:
				t.Fatalf("epoch %d: CPU %d holds %d flows that are not the Go table's", e, c, tb.Flows())
			}
		}
		if holding != 1 {
			t.Fatalf("epoch %d: %d CPUs' tables equal the Go table, want 1 (the test's)", e, holding)
		}
		if st, _ := k.Stats(); st.Missing != 0 {
			t.Fatalf("epoch %d: %d failed lookups", e, st.Missing)
		}
	}
}

// chunkPattern is the cell that TestRead_PerCPUChunkLayout writes to slot
// i%64 of chunk i/64 of epoch e's per-CPU cells on CPU c: different for
// every cell, epoch and CPU. Slots past Params.Cells get all bits set,
// which Read must ignore.
func chunkPattern(e, c int, i uint32, cells uint32) flowradarFlowradarCell {
	if i >= cells {
		return flowradarFlowradarCell{
			FlowXor:   [5]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)},
			FlowCount: ^uint32(0), PacketCount: ^uint32(0), ByteCount: ^uint64(0),
		}
	}
	id := uint64(e)<<40 | uint64(c)<<32 | uint64(i)
	return flowradarFlowradarCell{
		FlowXor:     [5]uint64{id, ^id, id << 3, 0, id * 0x9e3779b97f4a7c15},
		FlowCount:   uint32(c + 1),
		PacketCount: uint32(i+1)*16 + uint32(e)*8 + uint32(c),
		ByteCount:   id*1000 + 7,
	}
}

// TestRead_PerCPUChunkLayout writes every slot of every chunk of both
// epochs' per-CPU cells maps from user space, each CPU's copy different,
// and checks that Read merges cell i from slot i%64 of chunk i/64 (the
// short last chunk's too, its unused slots ignored), ReadCPUs returns
// each CPU's own, and Clear zeroes every chunk of its epoch, the last
// included, and nothing of the other.
func TestRead_PerCPUChunkLayout(t *testing.T) {
	p := chunkParams
	k := loadKernel(t, p, true)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const nchunks = 4 // ceil(200 / 64)
	for e := range 2 {
		_, cm := k.maps(e)
		if cm.MaxEntries() != nchunks || cm.ValueSize() != cellChunk*flowradar.CellBytes {
			t.Fatalf("epoch %d cells: %d entries of %d bytes, want %d of %d", e, cm.MaxEntries(), cm.ValueSize(), nchunks, cellChunk*flowradar.CellBytes)
		}
		for j := range uint32(nchunks) {
			vals := make([]flowradarFlowradarCellChunk, cpus)
			for c := range vals {
				for s := range vals[c].Cell {
					vals[c].Cell[s] = chunkPattern(e, c, j*cellChunk+uint32(s), p.Cells)
				}
			}
			if err := cm.Update(j, vals, ebpf.UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
	}
	// check reads epoch e and compares it with the pattern.
	check := func(e int) {
		t.Helper()
		merged, err := k.Read(e)
		if err != nil {
			t.Fatal(err)
		}
		split, err := k.ReadCPUs(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(split) != cpus {
			t.Fatalf("ReadCPUs(%d): %d tables for %d CPUs", e, len(split), cpus)
		}
		mc := merged.Cells()
		for i := range p.Cells {
			var want flowradar.Cell
			for c, tb := range split {
				v := chunkPattern(e, c, i, p.Cells)
				var one flowradar.Cell
				mergeCell(&one, &v)
				if got := tb.Cells()[i]; got != one {
					t.Fatalf("epoch %d CPU %d cell %d (chunk %d slot %d): %+v, want %+v", e, c, i, i/cellChunk, i%cellChunk, got, one)
				}
				mergeCell(&want, &v)
			}
			if mc[i] != want {
				t.Fatalf("epoch %d cell %d (chunk %d slot %d) merged: %+v, want %+v", e, i, i/cellChunk, i%cellChunk, mc[i], want)
			}
		}
	}
	// zeroed reports whether every chunk of epoch e's cells is zero on
	// every CPU.
	zeroed := func(e int) bool {
		t.Helper()
		_, cm := k.maps(e)
		for j := range uint32(nchunks) {
			var vals []flowradarFlowradarCellChunk
			if err := cm.Lookup(j, &vals); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if v != (flowradarFlowradarCellChunk{}) {
					return false
				}
			}
		}
		return true
	}
	check(0)
	check(1)
	if err := k.Clear(0); err != nil {
		t.Fatal(err)
	}
	if !zeroed(0) {
		t.Fatal("Clear(0) left a chunk of epoch 0's cells non-zero")
	}
	if zeroed(1) {
		t.Fatal("Clear(0) cleared epoch 1's cells")
	}
	check(1)
	if err := k.Clear(1); err != nil {
		t.Fatal(err)
	}
	if !zeroed(1) {
		t.Fatal("Clear(1) left a chunk of epoch 1's cells non-zero")
	}
}
