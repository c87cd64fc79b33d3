package flowradar

import (
	"errors"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// keysWithCells returns, for each pattern, a key whose cells in tab (two
// cells per sub-table, four sub-tables) are cell 2s+pattern[s] of
// sub-table s.
func keysWithCells(t *testing.T, tab *Table, pats [][4]uint32) []flow.Key {
	t.Helper()
	out := make([]flow.Key, len(pats))
	found, left := make([]bool, len(pats)), len(pats)
	var idx [MaxHashes]uint32
	for _, k := range randomKeys(5000, 42) {
		tab.CellsOf(&k, &idx)
		for i, p := range pats {
			if found[i] || idx != [MaxHashes]uint32{p[0], 2 + p[1], 4 + p[2], 6 + p[3]} {
				continue
			}
			out[i], found[i] = k, true
			if left--; left == 0 {
				return out
			}
			break
		}
	}
	t.Fatal("no keys with the wanted cells among 5000")
	return nil
}

// Four flows whose cells pair them up in a cycle (every cell of the small
// table holds two of them, and counts (a, b, c, d) fit exactly as well as
// (a+x, b-x, c+x, d-x)): the cells do not determine the counts, so
// CounterDecode must not call them exact, whatever solution it returns,
// and a lossless network must show no loss between exact counts. A large
// table on the same path determines them all.
func TestCounterDecode_Undetermined(t *testing.T) {
	small, err := NewTable(Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 7, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	big, err := NewTable(ParamsFor(100, 7))
	if err != nil {
		t.Fatal(err)
	}
	keys := keysWithCells(t, small, [][4]uint32{{0, 0, 0, 0}, {0, 1, 0, 1}, {1, 1, 1, 1}, {1, 0, 1, 0}})
	packets := []int64{10, 2, 10, 2}
	for i := range keys {
		for range packets[i] {
			small.Add(&keys[i], 100)
			big.Add(&keys[i], 100)
		}
	}
	// No two of the flows share all their cells: the twin test alone
	// would not catch this.
	cs, err := CounterDecode(small, keys)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Residual != 0 || cs.Mismatch != 0 {
		t.Fatalf("residual %d, mismatch %d; want 0, 0", cs.Residual, cs.Mismatch)
	}
	for i := range keys {
		if cs.Exact[i] {
			t.Errorf("flow %d: %d packets marked exact; the cells do not determine it (true: %d)", i, cs.Packets[i], packets[i])
		}
	}
	nw, err := DecodeNetwork([]*Table{big, small})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range nw.Flows {
		var want int64
		for i := range keys {
			if keys[i] == f.Key {
				want = packets[i]
			}
		}
		for _, c := range f.Counts {
			if c.Switch == 0 && (!c.Exact || c.Packets != want) {
				t.Errorf("flow %v at the large table: %+v, want %d packets, exact", f.Key, c, want)
			}
			if c.Exact && c.Packets != want {
				t.Errorf("flow %v at switch %d: %d packets marked exact, true %d", f.Key, c.Switch, c.Packets, want)
			}
		}
		if f.Loss() != 0 {
			t.Errorf("flow %v: loss %d in a lossless network (counts %+v)", f.Key, f.Loss(), f.Counts)
		}
	}
}

func TestFlowReport_Loss(t *testing.T) {
	for _, c := range []struct {
		counts []Count
		want   int64
	}{
		{nil, 0},
		{[]Count{{Packets: 7, Exact: true}}, 0},
		{[]Count{{Packets: 7, Exact: true}, {Packets: 5, Exact: true}, {Packets: 9, Exact: true}}, 4},
		{[]Count{{Packets: 7, Exact: true}, {Packets: 1}, {Packets: 5, Exact: true}}, 2},
		{[]Count{{Packets: 7}, {Packets: 1}}, 0},
	} {
		f := FlowReport{Counts: c.counts}
		if got := f.Loss(); got != c.want {
			t.Errorf("Loss(%+v) = %d, want %d", c.counts, got, c.want)
		}
	}
}

// A table above its decode threshold leaves flows undecoded; CounterDecode
// then gets an incomplete flow set. Cells that also hold undecoded flows
// must be left out (they would charge those flows' packets to the decoded
// ones), and every count called exact must be right.
func TestCounterDecode_IncompleteFlowSet(t *testing.T) {
	n := 2000
	tab, err := NewTable(paramsAt(n, 1.2, 3))
	if err != nil {
		t.Fatal(err)
	}
	tr := traffic(tab.Add, randomKeys(n, 11), 5)
	nw, err := DecodeNetwork([]*Table{tab})
	if !errors.Is(err, ErrDecodeIncomplete) {
		t.Fatalf("got %v, want ErrDecodeIncomplete (the test needs an undecodable table)", err)
	}
	if nw.Mismatch[0] == 0 {
		t.Fatal("no inconsistent cell reported for an incomplete flow set")
	}
	wrong, exact := 0, 0
	for _, f := range nw.Flows {
		for _, c := range f.Counts {
			if c.Exact {
				exact++
				if c.Packets != int64(tr[f.Key][0]) || c.Bytes != int64(tr[f.Key][1]) {
					wrong++
				}
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d counts called exact are wrong", wrong, exact)
	}
	if exact == 0 {
		t.Errorf("none of %d decoded flows has an exact count; the consistent cells determine some", len(nw.Flows))
	}
}

// A flow given to CounterDecode that the switch never saw (a phantom, as a
// filter false positive in FlowDecode would add) makes its cells
// inconsistent; the other flows' counts stay right.
func TestCounterDecode_PhantomFlow(t *testing.T) {
	n := 500
	tab, err := NewTable(paramsAt(n, 2, 7))
	if err != nil {
		t.Fatal(err)
	}
	keys := randomKeys(n+1, 12)
	tr := traffic(tab.Add, keys[:n], 5)
	cs, err := CounterDecode(tab, keys)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Mismatch == 0 {
		t.Fatal("phantom flow's cells not reported inconsistent")
	}
	for i, k := range keys[:n] {
		if cs.Exact[i] && (cs.Packets[i] != int64(tr[k][0]) || cs.Bytes[i] != int64(tr[k][1])) {
			t.Errorf("flow %d: %d packets, %d bytes marked exact; true %v", i, cs.Packets[i], cs.Bytes[i], tr[k])
		}
	}
	if cs.Exact[n] && cs.Packets[n] != 0 {
		t.Errorf("phantom flow: %d packets marked exact", cs.Packets[n])
	}
}
