package flowradar

import (
	"errors"
	"slices"
	"strings"
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

// checkExact fails t for a count reported exact that differs from the
// truth and for any negative count.
func checkExact(t *testing.T, nw Network, tr truth) (exact int) {
	t.Helper()
	for _, f := range nw.Flows {
		for _, c := range f.Counts {
			if c.Packets < 0 || c.Bytes < 0 {
				t.Errorf("flow %v at switch %d: negative count %+v", f.Key, c.Switch, c)
			}
			if !c.Exact {
				continue
			}
			exact++
			if w, ok := tr[f.Key]; !ok || c.Packets != int64(w[0]) || c.Bytes != int64(w[1]) {
				t.Errorf("flow %v at switch %d: %d packets, %d bytes marked exact; true %v", f.Key, c.Switch, c.Packets, c.Bytes, w)
			}
		}
	}
	return exact
}

// TestDecodeNetwork_DamagedCounter: one counter of one cell damaged (one
// bit), in turn in every cell that holds a flow of a table that decodes
// completely. Single decode says ErrCorrupt; DecodeNetwork must say so
// too, and no count it calls exact may be wrong (peeling carries a wrong
// count from cell to cell, so one flow's other cells are not enough to
// check it) or negative.
func TestDecodeNetwork_DamagedCounter(t *testing.T) {
	clean, tr := smallTable(t, 40)
	if _, err := clean.Decode(); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"packets", "bytes"} {
		for i := range clean.cnt {
			if clean.cnt[i].FlowCount == 0 {
				continue
			}
			tab := clean.Clone()
			c := &tab.cnt[i]
			if field == "packets" {
				c.PacketCount ^= 4
			} else {
				c.ByteCount ^= 4
			}
			if _, err := tab.Decode(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s of cell %d damaged: Decode gave %v, want ErrCorrupt", field, i, err)
			}
			nw, err := DecodeNetwork([]*Table{tab})
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s of cell %d damaged: DecodeNetwork gave %v (residual %d, conflict %d), want ErrCorrupt", field, i, err, nw.Residual[0], nw.Conflict[0])
			}
			if len(nw.Flows) != len(tr) || nw.Conflict[0] == 0 {
				t.Errorf("%s of cell %d damaged: %d flows of %d, %d conflicting cells", field, i, len(nw.Flows), len(tr), nw.Conflict[0])
			}
			checkExact(t, nw, tr)
		}
	}
}

// TestDecodeNetwork_GhostPackets: switch 0's flow filter takes a new flow
// X for known (a false positive: X's packets are counted, its key is
// not). Flow A, alone in its cells' FlowXOR and FlowCount, shares one cell
// with X (and no other, or the table would be A's alone with more
// packets, which no decoder can tell). Single decode of switch 0 reports the inconsistency; so must
// network-wide decoding, and A's count at switch 0, which the cells
// contradict, must not be exact, so that Loss shows no loss in a lossless
// network.
func TestDecodeNetwork_GhostPackets(t *testing.T) {
	p0 := Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 1, Seed: 3}
	for _, shared := range []int{0, 3} { // A's cell X shares: the first, the last sub-table
		sw0, _ := NewTable(p0)
		sw1, _ := NewTable(ParamsFor(100, 4))
		a := flow.MustKey("10.0.0.1", "10.0.0.2", 1000, 80, flow.ProtoTCP)
		const aPackets, xPackets = 10, 7
		for range aPackets {
			sw0.Add(&a, 100)
			sw1.Add(&a, 100)
		}
		var ia, ix [MaxHashes]uint32
		sw0.CellsOf(&a, &ia)
		var x flow.Key
		found := false
		for _, k := range randomKeys(200000, 77) {
			sw0.CellsOf(&k, &ix)
			only := true // X shares only that cell with A
			for s := range 4 {
				only = only && (ix[s] == ia[s]) == (s == shared)
			}
			if k != a && sw0.Contains(&k) && only {
				x, found = k, true
				break
			}
		}
		if !found {
			t.Fatal("no false-positive key sharing a cell with A")
		}
		for range xPackets {
			if sw0.Add(&x, 100) {
				t.Fatal("X should be taken for known at switch 0")
			}
			sw1.Add(&x, 100)
		}
		if _, err := sw0.Decode(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("single decode of switch 0: %v, want ErrCorrupt", err)
		}
		nw, err := DecodeNetwork([]*Table{sw0, sw1})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("X shares A's cell %d: DecodeNetwork gave %v, want ErrCorrupt", shared, err)
		}
		checkExact(t, nw, truth{a: {aPackets, 100 * aPackets}, x: {xPackets, 100 * xPackets}})
		for _, f := range nw.Flows {
			if f.Loss() != 0 {
				t.Errorf("X shares A's cell %d: flow %v: Loss %d in a lossless network (counts %+v)", shared, f.Key, f.Loss(), f.Counts)
			}
		}
	}
}

// TestFlowDecode_Residue: a table that holds something in a cell without
// a flow contradicts itself, whatever the flows: FlowDecode says
// ErrCorrupt, as Decode does, and still returns what it found.
func TestFlowDecode_Residue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(c *Cell)
	}{
		{"FlowXOR", func(c *Cell) { c.FlowXOR[5] ^= 0x10 }},
		{"PacketCount", func(c *Cell) { c.PacketCount = 3 }}, // a filter false positive's packets
		{"ByteCount", func(c *Cell) { c.ByteCount = 300 }},
	} {
		tab, tr := smallTable(t, 40)
		for i := range tab.cnt {
			if c := tab.cell(i); c.FlowCount == 0 {
				tc.damage(&c)
				tab.setCell(i, &c)
				break
			}
		}
		if _, err := tab.Decode(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s in an empty cell: Decode gave %v, want ErrCorrupt", tc.name, err)
		}
		flows, stuck, err := FlowDecode([]*Table{tab})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s in an empty cell: FlowDecode gave %v, want ErrCorrupt", tc.name, err)
		}
		if len(flows) != 1 || len(flows[0]) != len(tr) || stuck == nil {
			t.Errorf("%s in an empty cell: FlowDecode returned %d tables, stuck %v; want every flow", tc.name, len(flows), stuck)
		}
		nw, err := DecodeNetwork([]*Table{tab})
		if !errors.Is(err, ErrCorrupt) || len(nw.Flows) != len(tr) {
			t.Errorf("%s in an empty cell: DecodeNetwork gave %d flows, %v; want %d and ErrCorrupt", tc.name, len(nw.Flows), err, len(tr))
		}
		checkExact(t, nw, tr)
	}
}

// TestFlowDecode_FilterFalsePositive: a healthy network in which switch
// 0's flow filter holds, by a false positive, flow X that only switch 1
// saw, and X's cells at switch 0 all hold flows, so FlowDecode removes X
// there too and empties a cell of switch 0's flow Y, leaving X^Y in it.
// That is the filter's known error, not corruption: no ErrCorrupt, X's
// cells at switch 0 show as Mismatch, and every count called exact is
// right.
func TestFlowDecode_FilterFalsePositive(t *testing.T) {
	sw0, _ := NewTable(Params{Cells: 8, Hashes: 4, FilterBits: 512, FilterHashes: 1, Seed: 11})
	sw1, _ := NewTable(ParamsFor(100, 12))
	keys := randomKeys(200000, 13)
	y, z := keys[0], keys[1]
	tr := truth{}
	tr0 := traffic(sw0.Add, []flow.Key{y, z}, 1)
	var iy, iz, ix [MaxHashes]uint32
	sw0.CellsOf(&y, &iy)
	sw0.CellsOf(&z, &iz)
	found := false
	var x flow.Key
	for _, k := range keys[2:] {
		if !sw0.Contains(&k) {
			continue
		}
		sw0.CellsOf(&k, &ix)
		// Every cell of X holds Y or Z; one of them holds Y alone, and Y
		// keeps a cell of its own outside X's.
		inside, yAlone, yFree := true, false, false
		for s := range 4 {
			inside = inside && (ix[s] == iy[s] || ix[s] == iz[s])
			yAlone = yAlone || (ix[s] == iy[s] && iy[s] != iz[s])
			yFree = yFree || (ix[s] != iy[s] && iy[s] != iz[s])
		}
		if inside && yAlone && yFree {
			x, found = k, true
			break
		}
	}
	if !found {
		t.Fatal("no false-positive key with the wanted cells")
	}
	for k, v := range traffic(sw1.Add, []flow.Key{x}, 2) {
		tr[k] = v
	}
	flows, stuck, err := FlowDecode([]*Table{sw0, sw1})
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("a filter false positive in a healthy network: %v", err)
	}
	t.Logf("flows %v, stuck %v, err %v", flows, stuck, err)
	nw, err := DecodeNetwork([]*Table{sw0, sw1})
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeNetwork: %v", err)
	}
	if nw.Mismatch[0] == 0 {
		t.Error("the false positive's cells at switch 0 are not reported as Mismatch")
	}
	for k, v := range tr0 {
		if _, ok := tr[k]; ok {
			t.Fatal("a key at both switches")
		}
		tr[k] = v
	}
	checkExact(t, nw, tr)
}

// TestDecodeNetwork_PartialOnCorrupt: the two contradictions at which
// FlowDecode stops at once (a flow decoded twice at a switch; a switch's
// own flow removed from a cell that holds no flow). DecodeNetwork must
// still return what was decoded until then, as Table.Decode does: every
// flow FlowDecode found with its counters, each switch's Stuck, Residual,
// Conflict and Mismatch, beside an error wrapping ErrCorrupt (and
// ErrDecodeIncomplete, since the damaged flow is left in its cells); no
// count marked exact may be wrong.
func TestDecodeNetwork_PartialOnCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		damage    func(tab *Table, a *flow.Key, cell uint32)
	}{
		// A's key XORed into one of its cells once more: once A and the
		// cell's other flows are removed, the cell still holds A alone.
		{"flow decoded twice", "decoded twice", func(tab *Table, a *flow.Key, cell uint32) {
			p := a.Padded()
			xorKey(&tab.xor[cell], &p)
			tab.cnt[cell].FlowCount++
		}},
		// One of A's cells wiped: removing A meets a cell with no flow.
		{"own flow removed from an empty cell", "which holds no flow", func(tab *Table, _ *flow.Key, cell uint32) {
			tab.setCell(int(cell), &Cell{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean, tr := smallTable(t, 40)
			keys := randomKeys(40, 8) // smallTable's flows, in a fixed order
			var tab *Table
			var found []flow.Key
			var idx [MaxHashes]uint32
			// The first flow whose damage stops FlowDecode on this case
			// after it found flows (not at the first cell it peels).
			for i := 0; i < len(keys) && tab == nil; i++ {
				c := clean.Clone()
				c.CellsOf(&keys[i], &idx)
				tc.damage(c, &keys[i], idx[0])
				flows, stuck, err := FlowDecode([]*Table{c})
				if errors.Is(err, ErrCorrupt) && strings.Contains(err.Error(), tc.msg) && stuck == nil && len(flows[0]) > 0 {
					tab, found = c, flows[0]
				}
			}
			if tab == nil {
				t.Fatalf("no flow whose damage makes FlowDecode stop with %q after finding flows", tc.msg)
			}
			nw, err := DecodeNetwork([]*Table{tab})
			if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrDecodeIncomplete) {
				t.Errorf("DecodeNetwork gave %v, want ErrCorrupt and ErrDecodeIncomplete", err)
			}
			if len(nw.Flows) != len(found) {
				t.Fatalf("DecodeNetwork returned %d flows, FlowDecode found %d before it stopped", len(nw.Flows), len(found))
			}
			for i, f := range nw.Flows {
				if f.Key != found[i] || len(f.Counts) != 1 || f.Counts[0].Switch != 0 {
					t.Errorf("flow %d: %v with counts %+v, want %v at switch 0", i, f.Key, f.Counts, found[i])
				}
			}
			if len(nw.Stuck) != 1 || nw.Stuck[0] == 0 || len(nw.Residual) != 1 || len(nw.Conflict) != 1 || len(nw.Mismatch) != 1 {
				t.Fatalf("per-switch results %+v, want one switch with stuck cells", nw)
			}
			if exact := checkExact(t, nw, tr); exact == 0 {
				t.Error("no exact count among the flows found before the stop")
			}
		})
	}
}

// phantomKeys returns flows A, B and X and the key K = A^B^X, a
// well-formed IPv4 key: what a cell holding A and B holds once a false
// positive of X is removed from it.
func phantomKeys(t *testing.T) (a, b, x, k flow.Key) {
	t.Helper()
	a = flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1000, 80, flow.ProtoTCP)
	b = flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1001, 80, flow.ProtoTCP)
	x = flow.KeyFrom4([4]byte{10, 0, 0, 5}, [4]byte{10, 0, 0, 6}, 1002, 443, flow.ProtoUDP)
	pa, pb, px := a.Padded(), b.Padded(), x.Padded()
	for i := range pa {
		pa[i] ^= pb[i] ^ px[i]
	}
	k, err := flow.KeyFromPadded(pa[:])
	if err != nil {
		t.Fatal(err)
	}
	return a, b, x, k
}

// TestFlowDecode_FalsePositiveMakesAPhantom: a healthy network in which
// switch 0's flow filter holds, by false positives, flow X that only
// switch 1 saw and key K = A^B^X. FlowDecode removes X from switch 0's
// cells, leaving the cell of A and B holding one flow whose FlowXOR is K,
// a well-formed key that hashes to that cell and that the filter holds:
// it passes the purity test, but its other cell is empty, emptied by no
// other switch. That is the collector's false positive again, not
// corruption: no ErrCorrupt and no stop (decoding goes on to find B), and
// every count called exact is right.
func TestFlowDecode_FalsePositiveMakesAPhantom(t *testing.T) {
	a, b, x, k := phantomKeys(t)
	// Switch 0: two sub-tables of 4 cells. A and B share cell 0 and have
	// cells 4 and 5 alone; X's cells there are 0 and 4, K's 0 and 7.
	sw0 := geomTable(t, 2, 8, []flow.Key{a, b, x, k}, [][MaxHashes]uint32{{0, 4}, {0, 5}, {0, 4}, {0, 7}})
	sw1, _ := NewTable(ParamsFor(10, 2))
	tr := truth{}
	for _, c := range []struct {
		tab *Table
		key flow.Key
		n   uint64
	}{{sw0, a, 3}, {sw0, b, 2}, {sw1, x, 4}} {
		for range c.n {
			c.tab.Add(&c.key, 100)
		}
		tr[c.key] = [2]uint64{c.n, 100 * c.n}
	}
	sw0.FlowFilter().Add(x.Bytes()) // the false positives
	sw0.FlowFilter().Add(k.Bytes())
	flows, stuck, err := FlowDecode([]*Table{sw0, sw1})
	if errors.Is(err, ErrCorrupt) || stuck == nil {
		t.Fatalf("filter false positives in a healthy network: %v (stuck %v)", err, stuck)
	}
	if !slices.Contains(flows[0], b) || !slices.Equal(flows[1], []flow.Key{x}) || slices.Contains(flows[0], k) {
		t.Errorf("flows %v, want B (and X, lent) at switch 0 and X at switch 1", flows)
	}
	nw, err := DecodeNetwork([]*Table{sw0, sw1})
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeNetwork: %v", err)
	}
	checkExact(t, nw, tr)
}

// TestFlowDecode_DamageUnderALentFlow: the exception above is for keys no
// other switch has. Flow K of switches 0 and 1, whose second cell at
// switch 0 is wiped: K cannot be lent there, and once Y, decoded at
// switch 1, is removed from the cell K shares with it, that cell holds K
// alone, borrowed. K is a flow of switch 1, so its empty cell is damage,
// and FlowDecode says so.
func TestFlowDecode_DamageUnderALentFlow(t *testing.T) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1000, 80, flow.ProtoTCP)
	y := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1001, 80, flow.ProtoTCP)
	sw0 := geomTable(t, 2, 8, []flow.Key{k, y}, [][MaxHashes]uint32{{0, 4}, {0, 5}})
	sw1, _ := NewTable(ParamsFor(10, 2))
	for _, tab := range []*Table{sw0, sw1} {
		tab.Add(&k, 100)
		tab.Add(&y, 100)
	}
	if d, err := sw1.Decode(); err != nil || len(d.Flows) != 2 {
		t.Fatalf("switch 1 alone: %v", err)
	}
	sw0.setCell(4, &Cell{}) // the damage
	if _, _, err := FlowDecode([]*Table{sw0, sw1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a wiped cell of a flow of two switches: %v, want ErrCorrupt", err)
	}
}

// lentFlowSwitches returns the three switches of the lent-flow tests:
// flow K at switches 0 and 1, flow Y at switches 0 and 2, K and Y sharing
// cell 0 of switch 0, and K's other cell there (4) wiped: the damage.
func lentFlowSwitches(t *testing.T) (sw0, sw1, sw2 *Table) {
	t.Helper()
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1000, 80, flow.ProtoTCP)
	y := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1001, 80, flow.ProtoTCP)
	sw0 = geomTable(t, 2, 8, []flow.Key{k, y}, [][MaxHashes]uint32{{0, 4}, {0, 5}})
	sw1, _ = NewTable(ParamsFor(10, 2))
	sw2, _ = NewTable(ParamsFor(10, 3))
	sw0.Add(&k, 100)
	sw0.Add(&y, 100)
	sw1.Add(&k, 100)
	sw2.Add(&y, 100)
	sw0.setCell(4, &Cell{}) // the damage
	return sw0, sw1, sw2
}

// TestFlowDecode_DamageUnderALentFlowAnyOrder: as above, but Y is lent
// from switch 2 and K decoded at switch 1 only: the verdict must not
// depend on which of them FlowDecode peels first. Where switch 2 comes
// first, switch 0's cell holds K alone, borrowed, before switch 1 has
// decoded K: K could still be a phantom then, and is left in its cell;
// once switch 1 decodes it, it is a flow, and its wiped cell is damage.
func TestFlowDecode_DamageUnderALentFlowAnyOrder(t *testing.T) {
	sw0, sw1, sw2 := lentFlowSwitches(t)
	tabs := []*Table{sw0, sw1, sw2}
	for _, ord := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		in := []*Table{tabs[ord[0]], tabs[ord[1]], tabs[ord[2]]}
		if _, _, err := FlowDecode(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("switches in order %v: %v, want ErrCorrupt", ord, err)
		}
		if _, err := DecodeNetwork(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("switches in order %v: DecodeNetwork: %v, want ErrCorrupt", ord, err)
		}
	}
}

// TestFlowDecode_TwiceUnderALentFlow: flow K of switch 0 only, its key
// XORed once more into the cell it shares with Y (switch 1 saw Y too).
// Alone, switch 0 decodes K twice: ErrCorrupt. With switch 1, Y is lent to
// switch 0 and leaves that cell holding K alone, borrowed, after K was
// decoded. A phantom is the XOR of keys the cell held and the lent key: it
// cannot be a flow the switch already decoded (that flow left the cell),
// so a key decoded twice is damage, borrowed cell or not.
func TestFlowDecode_TwiceUnderALentFlow(t *testing.T) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1000, 80, flow.ProtoTCP)
	y := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1001, 80, flow.ProtoTCP)
	sw0 := geomTable(t, 2, 8, []flow.Key{k, y}, [][MaxHashes]uint32{{0, 4}, {0, 5}})
	sw1, _ := NewTable(ParamsFor(10, 2))
	sw0.Add(&k, 100)
	sw0.Add(&y, 100)
	sw1.Add(&y, 100)
	p := k.Padded() // the damage
	xorKey(&sw0.xor[0], &p)
	sw0.cnt[0].FlowCount++
	if _, _, err := FlowDecode([]*Table{sw0}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("switch 0 alone: %v, want ErrCorrupt", err)
	}
	if _, _, err := FlowDecode([]*Table{sw0, sw1}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "decoded twice") {
		t.Errorf("with switch 1: %v, want ErrCorrupt (decoded twice)", err)
	}
}

// TestFlowDecode_PhantomListedIsCorrupt pins a limit FlowDecode's doc
// states: a healthy network in which switch 0's filter holds, by false
// positives, flow X of switch 1 and K = A^B^X. X's removal leaves K alone
// in the cell of A and B; K's other cell is A's, which holds a flow, so
// nothing contradicts K: it is listed as a flow of switch 0 and removed
// from A's cell, leaving B^X there with no flow. That residue, in a cell
// no lent flow touched, is reported as ErrCorrupt, as damage would be.
func TestFlowDecode_PhantomListedIsCorrupt(t *testing.T) {
	a, b, x, k := phantomKeys(t)
	c := flow.KeyFrom4([4]byte{10, 0, 0, 7}, [4]byte{10, 0, 0, 8}, 1003, 80, flow.ProtoTCP)
	// Switch 0: A and B share cell 0; X's cells are 0 and C's cell 6, K's
	// are A's.
	sw0 := geomTable(t, 2, 8, []flow.Key{a, b, c, x, k}, [][MaxHashes]uint32{{0, 4}, {0, 5}, {2, 6}, {0, 6}, {0, 4}})
	sw1, _ := NewTable(ParamsFor(10, 2))
	for _, f := range []flow.Key{a, b, c} {
		sw0.Add(&f, 100)
	}
	sw1.Add(&x, 100)
	sw0.FlowFilter().Add(x.Bytes()) // the false positives
	sw0.FlowFilter().Add(k.Bytes())
	flows, _, err := FlowDecode([]*Table{sw0, sw1})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "table 0 cell 4") {
		t.Errorf("FlowDecode: %v, want ErrCorrupt for the residue in cell 4", err)
	}
	if !slices.Contains(flows[0], k) {
		t.Errorf("switch 0: flows %v, want the phantom K listed", flows[0])
	}
}

// TestCounterDecode_BadKeys: CounterDecode refuses the zero (invalid) Key
// and a key given twice with ErrParams, naming the key and what it
// accepts, and returns no counts. Neither check had a test, and their
// errors said only what was wrong.
func TestCounterDecode_BadKeys(t *testing.T) {
	tab, err := NewTable(ParamsFor(10, 1))
	if err != nil {
		t.Fatal(err)
	}
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	b := flow.MustKey("2001:db8::1", "2001:db8::2", 3, 4, flow.ProtoUDP)
	tab.Add(&a, 100)
	tab.Add(&b, 100)
	for _, c := range []struct {
		name string
		keys []flow.Key
		want []string
	}{
		{"zero key", []flow.Key{a, {}, b}, []string{"key 1 ", "IPv4 or IPv6"}},
		{"repeated key", []flow.Key{a, b, a}, []string{"key 2 ", a.String(), "same as key 0", "each flow once"}},
	} {
		cs, err := CounterDecode(tab, c.keys)
		if !errors.Is(err, ErrParams) || cs.Packets != nil {
			t.Errorf("%s: counts %v, error %v; want no counts and ErrParams", c.name, cs.Packets, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}
