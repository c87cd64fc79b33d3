package flowradar

import (
	"errors"
	"math"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// ParamsFor counts flows below 1 as one flow, as documented: it returns
// valid parameters, those of one flow, for 0 and negative counts.
func TestParamsFor_FewerThanOneFlow(t *testing.T) {
	one := ParamsFor(1, 7)
	for _, n := range []int{0, -1, -1000} {
		p := ParamsFor(n, 7)
		if err := p.Validate(); err != nil {
			t.Errorf("ParamsFor(%d): %v", n, err)
		}
		if p != one {
			t.Errorf("ParamsFor(%d) = %v, want the parameters of one flow, %v", n, p, one)
		}
	}
}

// FilterFPR of no flows is 0, and a negative number of flows counts as
// none: an empty filter never reports a flow it does not hold.
func TestParams_FilterFPRNegativeFlows(t *testing.T) {
	p := ParamsFor(1000, 1)
	for _, n := range []int{-1, math.MinInt} {
		if fpr := p.FilterFPR(n); fpr != 0 {
			t.Errorf("FilterFPR(%d) = %v, want 0 (no flows)", n, fpr)
		}
	}
}

// SetCells takes exactly Params.Cells cells: more is an error, as fewer
// is, and leaves the table unchanged.
func TestTable_SetCellsRefusesExtraCells(t *testing.T) {
	tab, err := NewTable(Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{7, 9} {
		cells := make([]Cell, n)
		for i := range cells {
			cells[i].FlowCount, cells[i].PacketCount = 1, 5
		}
		if err := tab.SetCells(cells); !errors.Is(err, ErrParams) {
			t.Errorf("SetCells of %d cells into a table of 8: %v, want ErrParams", n, err)
		}
		for i, c := range tab.Cells() {
			if c != (Cell{}) {
				t.Errorf("SetCells of %d cells, refused, changed cell %d to %+v", n, i, c)
				break
			}
		}
	}
}

// Equal compares the flow filters: two tables with the same parameters
// and cells whose filters differ are not equal.
func TestTable_EqualComparesFilter(t *testing.T) {
	p := Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 7, Seed: 1}
	a, _ := NewTable(p)
	b := a.Clone()
	k := randomKeys(1, 3)[0]
	b.FlowFilter().Add(k.Bytes()) // the filter only: the cells stay empty
	if a.Equal(b) || b.Equal(a) {
		t.Error("tables whose flow filters differ are Equal")
	}
}

// Equal compares the parameters: empty tables of as many cells and the
// same filter, but different numbers of sub-tables, are not equal.
func TestTable_EqualComparesParams(t *testing.T) {
	a, _ := NewTable(Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 7, Seed: 1})
	b, _ := NewTable(Params{Cells: 8, Hashes: 2, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if a.Equal(b) || b.Equal(a) {
		t.Error("empty tables of 4 and 2 sub-tables are Equal")
	}
}

// twoFlowsOneCell returns a table of one cell and one sub-table holding
// two flows: nothing in it can be peeled.
func twoFlowsOneCell(t *testing.T) *Table {
	t.Helper()
	tab, err := NewTable(Params{Cells: 1, Hashes: 1, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys := randomKeys(2, 5)
	tab.Add(&keys[0], 100)
	tab.Add(&keys[1], 200)
	return tab
}

// A single cell left holding flows is a stuck decode: with one sub-table
// and one cell, two flows share it, nothing can be peeled, and Decode
// reports ErrDecodeIncomplete with Stuck 1.
func TestDecode_OneStuckCell(t *testing.T) {
	tab := twoFlowsOneCell(t)
	d, err := tab.Decode()
	if !errors.Is(err, ErrDecodeIncomplete) || d.Stuck != 1 || len(d.Flows) != 0 {
		t.Errorf("two flows in one cell: %d flows, Stuck %d, err %v; want none, 1 and ErrDecodeIncomplete", len(d.Flows), d.Stuck, err)
	}
}

// DecodeInto does not reuse a Remainder of other Params as if it were
// the table's, even when the two have as many cells and filter bits (a
// different seed): the decode equals a fresh Decode of the table.
func TestDecodeInto_OtherSeedSameShape(t *testing.T) {
	p := ParamsFor(50, 1)
	q := p
	q.Seed = 2
	a, _ := NewTable(p)
	b, _ := NewTable(q)
	for i, k := range randomKeys(50, 9) {
		a.Add(&k, uint32(100+i))
		b.Add(&k, uint32(100+i))
	}
	want, werr := b.Decode()
	if werr != nil {
		t.Fatalf("Decode of the seed-2 table: %v", werr)
	}
	var d Decoded
	if err := a.DecodeInto(&d); err != nil {
		t.Fatalf("DecodeInto of the seed-1 table: %v", err)
	}
	if err := b.DecodeInto(&d); err != nil {
		t.Errorf("DecodeInto of the seed-2 table after one of seed 1: %v", err)
	}
	if len(d.Flows) != len(want.Flows) || d.Remainder.Params() != q || !d.Remainder.Equal(want.Remainder) {
		t.Errorf("DecodeInto after a table of another seed: %d flows, remainder params %v; want %d flows and %v",
			len(d.Flows), d.Remainder.Params(), len(want.Flows), q)
	}
}

// FlowDecode reports a single cell left holding flows: one table of one
// cell and one sub-table holding two flows cannot be peeled, and the
// error wraps ErrDecodeIncomplete with stuck [1].
func TestFlowDecode_OneStuckCell(t *testing.T) {
	tab := twoFlowsOneCell(t)
	flows, stuck, err := FlowDecode([]*Table{tab})
	if !errors.Is(err, ErrDecodeIncomplete) || len(stuck) != 1 || stuck[0] != 1 || len(flows[0]) != 0 {
		t.Errorf("two flows in one cell: flows %v, stuck %v, err %v; want none, [1] and ErrDecodeIncomplete", flows, stuck, err)
	}
}

// CounterDecode leaves out a cell whose FlowCount differs from the number
// of given flows hashed there, even when their FlowXOR matches: the cell
// then holds flows not given (here four whose keys XOR to zero), and its
// PacketCount is not the given flow's.
func TestCounterDecode_FlowCountMismatchIsLeftOut(t *testing.T) {
	tab, err := NewTable(Params{Cells: 1, Hashes: 1, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5000, 53, flow.ProtoUDP)
	for range 3 {
		tab.Add(&a, 100)
	}
	// Ports 1000 to 1003 XOR to zero, and the rest of the four keys is
	// equal: the cell's FlowXOR stays a's padded key, its FlowCount is 5.
	for port := uint16(1000); port <= 1003; port++ {
		k := flow.KeyFrom4([4]byte{10, 0, 0, 7}, [4]byte{10, 0, 0, 8}, port, 80, flow.ProtoTCP)
		tab.Add(&k, 60)
	}
	if c := tab.Cells()[0]; c.FlowCount != 5 || c.FlowXOR != a.Padded() {
		t.Fatalf("cell %+v, want FlowCount 5 and a's padded key", c)
	}
	r, err := CounterDecode(tab, []flow.Key{a})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mismatch != 1 || r.Exact[0] {
		t.Errorf("one of five flows given: Mismatch %d, exact %v (%d packets); want 1 and not exact", r.Mismatch, r.Exact[0], r.Packets[0])
	}
}

// A part of the least-squares system whose rounded counts miss one of its
// cells has no exact flow, as Counters.Exact documents, not even flows
// its cells determine that sit in cells the rounding fits.
func TestCounterDecode_MissedPartHasNoExactFlow(t *testing.T) {
	// k = 2, cells 0 to 4, every cell holding two or three flows, so
	// nothing peels and all six flows are in one part:
	//   twins t1, t2 in {0, 1}; u in {1, 2}; x in {2, 3}; y in {3, 4}; z in {4, 2}.
	// Cells 0 and 1 give u = c1 - c0; cells 2 to 4 then give x, y and z
	// (x = (c2 - u + c3 - c4) / 2 and so on): those four are determined,
	// the twins are not. Their sum, 3 + 4 = 7, is odd, so no pair of
	// equal rounded counts (the minimum-norm solution splits it evenly)
	// fits cell 0: the part's rounded counts miss a cell.
	keys := randomKeys(6, 3)
	geo := [][MaxHashes]uint32{{0, 1}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 2}}
	packets := []int{3, 4, 5, 6, 7, 8}
	tab := geomTable(t, 2, 6, keys, geo)
	for f := range keys {
		for range packets[f] {
			tab.Add(&keys[f], 10)
		}
	}
	r, err := CounterDecode(tab, keys)
	if err != nil {
		t.Fatal(err)
	}
	if r.Residual == 0 {
		t.Fatalf("counts %v fit every cell; the twins' odd sum cannot be split evenly", r.Packets)
	}
	for f := range keys {
		if r.Exact[f] {
			t.Errorf("flow %d: %d packets exact, in a part whose rounded counts miss a cell", f, r.Packets[f])
		}
	}
}

// DecodeNetwork given a nil or zero table returns ErrParams with an
// empty Network, as documented: no per-switch results for a decode that
// did not run.
func TestDecodeNetwork_ZeroTableGivesEmptyNetwork(t *testing.T) {
	good, err := NewTable(ParamsFor(10, 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]*Table{"nil": nil, "zero": {}} {
		nw, err := DecodeNetwork([]*Table{good, bad})
		if !errors.Is(err, ErrParams) {
			t.Errorf("%s table: err %v, want ErrParams", name, err)
		}
		if len(nw.Flows)+len(nw.Stuck)+len(nw.Residual)+len(nw.Conflict)+len(nw.Mismatch) != 0 {
			t.Errorf("%s table: Network %+v, want an empty one", name, nw)
		}
	}
}
