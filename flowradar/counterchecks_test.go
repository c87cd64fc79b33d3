package flowradar

import (
	"errors"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// Each test in this file guards a rule of CounterDecode's exactness that
// no other test failed without (each was broken by hand, and the suite
// passed).

// TestCounterDecode_NegativeExactCount: two independent parts of the
// least-squares system, each of four flows in six cells that determine
// them (no cell holds one flow alone, so nothing peels). The counters of
// part P have one solution, and in it one flow has -2 packets: a count
// the cells determine and that no encoder can give, so the counters are
// wrong, and CounterDecode says ErrCorrupt. The count is reported as 0,
// the residual shows the difference (|-2| in each of that flow's three
// cells), and no least-squares count is exact, not even part Q's, whose
// counters fit (the documented rule once the counters are proved wrong).
func TestCounterDecode_NegativeExactCount(t *testing.T) {
	// Part P, flows 0-3: 5, -2, 3, 4 packets; part Q, flows 4-7: 2 to 5.
	tab, keys := counterTable(t, quads, []int64{5, -2, 3, 4, 2, 3, 4, 5})
	r, err := CounterDecode(tab, keys)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("CounterDecode: %v, want ErrCorrupt (a determined count of -2 packets)", err)
	}
	if r.Packets[1] != 0 || r.Residual != 6 {
		t.Errorf("the negative count: %d packets, residual %d; want 0 and 6", r.Packets[1], r.Residual)
	}
	for i, k := range keys {
		if r.Exact[i] {
			t.Errorf("flow %d (%v): %d packets marked exact after the counters were proved wrong", i, k, r.Packets[i])
		}
	}
	if r.Packets[4] != 2 || r.Packets[7] != 5 {
		t.Errorf("part Q: counts %v, want its own solution 2 3 4 5", r.Packets[4:])
	}
}

// TestCounterDecode_MismatchLeavesTheCoreExact: a flow missing from the
// keys given makes its cells inconsistent (Mismatch), and they leave the
// system; the least-squares counts of the flows given, which the other
// cells determine, stay exact.
func TestCounterDecode_MismatchLeavesTheCoreExact(t *testing.T) {
	// Flows 0-7 as above, all counts positive, and flow 8 alone in cells
	// 4, 10 and 16 with 9 packets, not given to CounterDecode.
	tab, keys := counterTable(t, append(quads, [3]uint32{4, 10, 16}), []int64{5, 2, 3, 4, 2, 3, 4, 5, 9})
	r, err := CounterDecode(tab, keys[:8])
	if err != nil || r.Mismatch != 3 || r.Residual != 27 {
		t.Fatalf("CounterDecode: %v, %d mismatched cells, residual %d; want no error, 3 and 27", err, r.Mismatch, r.Residual)
	}
	for i, want := range []int64{5, 2, 3, 4, 2, 3, 4, 5} {
		if r.Packets[i] != want || r.Bytes[i] != 100*want || !r.Exact[i] {
			t.Errorf("flow %d: %d packets, %d bytes, exact %v; want %d, %d, exact", i, r.Packets[i], r.Bytes[i], r.Exact[i], want, 100*want)
		}
	}
}

// quads are the cells of two independent parts of a counter-decode
// system with 3 sub-tables of 6 cells (0-5, 6-11, 12-17): four flows in
// six cells each, paired up differently in each sub-table, so that no
// cell holds one flow alone (nothing peels) and the cells determine every
// flow (full column rank).
var quads = [][3]uint32{
	{0, 6, 12}, {0, 7, 13}, {1, 6, 13}, {1, 7, 12}, // part P
	{2, 8, 14}, {2, 9, 15}, {3, 8, 15}, {3, 9, 14}, // part Q
}

// counterTable returns a table of those sub-tables whose flow i, of key
// keys[i], has cells geom[i] and packets[i] packets of 100 bytes (the
// counters set directly: a negative count takes packets from its cells).
func counterTable(t *testing.T, geom [][3]uint32, packets []int64) (*Table, []flow.Key) {
	t.Helper()
	keys := make([]flow.Key, len(geom))
	pos := map[flow.Key]int{}
	for i := range keys {
		keys[i] = flow.MustKey("10.0.0."+string(rune('1'+i)), "10.0.1.1", uint16(1000+i), 80, flow.ProtoTCP)
		pos[keys[i]] = i
	}
	tab, err := NewTable(Params{Cells: 18, Hashes: 3, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tab.geom = func(k *flow.Key, out *[MaxHashes]uint32) {
		g := geom[pos[*k]]
		out[0], out[1], out[2] = g[0], g[1], g[2]
	}
	for i := range keys {
		tab.Add(&keys[i], 0)
	}
	cells := tab.Cells()
	for i := range cells {
		cells[i].PacketCount, cells[i].ByteCount = 0, 0
	}
	for i, g := range geom {
		for _, c := range g {
			cells[c].PacketCount += uint32(packets[i])
			cells[c].ByteCount += uint64(100 * packets[i])
		}
	}
	if err := tab.SetCells(cells); err != nil {
		t.Fatal(err)
	}
	return tab, keys
}

// TestCounterDecode_UnsolvablePartSparesOtherCells: a part of the
// least-squares system whose cells have no solution makes its flows, and
// the peeled flows in its cells, inexact; not a peeled flow that shares
// with it only a cell left out of the system (a Mismatch cell).
func TestCounterDecode_UnsolvablePartSparesOtherCells(t *testing.T) {
	// Part P, flows 0-3, as in quads; flow 4 peels from cells 10 and 16
	// and shares cell 0 with P's flows 0 and 1 and with flow 5, which is
	// not given, so that cell 0 is a Mismatch cell. Without cell 0, P's
	// five cells still determine its four flows.
	geom := append(quads[:4:4], [3]uint32{0, 10, 16}, [3]uint32{0, 11, 17})
	tab, keys := counterTable(t, geom, []int64{5, 2, 3, 4, 7, 9})
	cells := tab.Cells()
	cells[6].PacketCount++ // P has no solution
	cells[6].ByteCount += 100
	if err := tab.SetCells(cells); err != nil {
		t.Fatal(err)
	}
	r, err := CounterDecode(tab, keys[:5])
	if err != nil || r.Mismatch != 3 {
		t.Fatalf("CounterDecode: %v, %d mismatched cells; want no error (the solve is not exact arithmetic) and 3", err, r.Mismatch)
	}
	for i := range 4 {
		if r.Exact[i] {
			t.Errorf("flow %d of the unsolvable part marked exact (%d packets)", i, r.Packets[i])
		}
	}
	if r.Packets[4] != 7 || r.Bytes[4] != 700 || !r.Exact[4] {
		t.Errorf("flow 4: %d packets, %d bytes, exact %v; want 7, 700, exact", r.Packets[4], r.Bytes[4], r.Exact[4])
	}
}
