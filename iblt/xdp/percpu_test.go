//go:build linux

package xdp

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_PerCPUSum runs packets of the per-CPU digest on two CPUs,
// in a table of one cell per sub-table, so that both CPUs' copies of every
// cell hold a packet: Table must add the copies as iblt.Table.Merge adds
// tables (counts and value sums added, checksums and keys XORed), giving
// the Go digest of all the packets. Two frames of one length make a value
// sum that is 2 lengths, which a merge XORing the sums would make 0.
func TestKernel_PerCPUSum(t *testing.T) {
	o := Options{Cells: 3, Hashes: 3, Seed: 0x9e5}
	k := loadKernel(t, o)
	cpus := kerneltest.TwoCPUs(t)
	frames := [][]byte{
		// 10.0.0.1:40000 > 10.0.0.2:53 udp "a", on the first CPU
		pkt.UDP4("10.0.0.1:40000", "10.0.0.2:53", []byte("a")),
		// 10.0.0.1:40001 > 10.0.0.2:53 udp "b", on the second
		pkt.UDP4("10.0.0.1:40001", "10.0.0.2:53", []byte("b")),
	}
	if len(frames[0]) != len(frames[1]) {
		t.Fatalf("frames of %d and %d bytes, want one length", len(frames[0]), len(frames[1]))
	}
	for i, cpu := range cpus {
		kerneltest.OnThreads(t, []int{cpu}, func(int) error {
			_, err := k.Program().Run(&ebpf.RunOptions{Data: frames[i]})
			return err
		})
	}
	// Each CPU's copy must hold its own packet: run on one CPU, the two
	// would share a copy, and a merge that XORs the value sums would pass.
	var copies []ibltIbltChunk // one a possible CPU
	if err := k.cells().Lookup(uint32(0), &copies); err != nil {
		t.Fatal(err)
	}
	for _, cpu := range cpus {
		if n := copies[cpu].Cell[0].Count; n != 1 {
			t.Fatalf("CPU %d's copy of cell 0 counts %d packets, want 1 (one packet run on each of CPUs %v)", cpu, n, cpus)
		}
	}
	got, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Digest(o, frames)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		w := got.Words()
		t.Errorf("per-CPU copies summed to cell 0 count %d, value sum %d; the Go digest of both packets has %d, %d",
			int64(w[0]), w[1], int64(want.Words()[0]), want.Words()[1])
	}
}

// TestKernel_Chunks: the per-CPU cell map holds 64 cells an element, and
// each epoch starts a chunk. In a table of 129 cells (two chunks and a
// tail chunk of one cell; epoch 1 from cell 192) and one of 192 (three
// whole chunks), two epochs of packets that reach the cells on either
// side of each chunk boundary (63 and 64, 127 and 128) and the last cell
// must read back as their Go digests: a cell in the wrong slot or chunk,
// a chunk not read, or an epoch in the other's chunks would change one.
func TestKernel_Chunks(t *testing.T) {
	for _, cells := range []int{129, 192} {
		o := Options{Cells: cells, Hashes: 3, Seed: 0xc4}
		k := loadKernel(t, o)
		var epochs [2][][]byte
		for i := range 800 {
			epochs[i%2] = append(epochs[i%2], pkt.UDP4("10.0.0.1:"+strconv.Itoa(1000+i), "10.0.0.2:53", []byte{byte(i)}))
		}
		for e, frames := range epochs {
			want := digestOK(t, o, frames)
			w, s := want.Words(), want.CellWords()
			for _, c := range []int{63, 64, 127, 128, cells - 1} {
				if w[c*s] == 0 {
					t.Fatalf("cells=%d epoch %d: no packet in cell %d; the test needs one", cells, e, c)
				}
			}
			for _, f := range frames {
				kerneltest.Run(t, k.Program(), f)
			}
			if got := flipOK(t, k); !got.Equal(want) {
				t.Errorf("cells=%d: epoch %d read back is not the Go digest of its %d packets", cells, e, len(frames))
			}
		}
	}
}
