package flowradar

import (
	"errors"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// Each test in this file guards a check of the decoders that no other
// test failed without (each was removed by hand, and the suite passed).

// TestCell_KeyEveryPaddingByte: a non-zero byte anywhere in a padded key's
// padding, the first byte after the key and the last before the length
// byte included, makes FlowXOR no key.
func TestCell_KeyEveryPaddingByte(t *testing.T) {
	for _, k := range []flow.Key{
		flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP),
		flow.MustKey("2001:db8::1", "2001:db8::2", 3, 4, flow.ProtoTCP),
	} {
		for i := k.Len(); i < XORBytes-1; i++ {
			c := Cell{FlowXOR: k.Padded()}
			c.FlowXOR[i] = 0x80
			if got, ok := c.Key(); ok {
				t.Errorf("%d-byte key with padding byte %d set: read as key %v", k.Len(), i, got)
			}
		}
	}
}

// pairTable is a table of 2 sub-tables of 4 cells whose flows take the
// cells that cells gives them (sub-table 0 is cells 0-3, 1 is cells 4-7).
// pairOfFlows returns a pairTable of flows a (3 packets, in cells ca)
// and b (1 packet, in cells cb), and the two keys.
func pairOfFlows(t *testing.T, ca, cb [2]uint32) (tab *Table, a, b flow.Key) {
	t.Helper()
	a = flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	b = flow.MustKey("10.0.0.3", "10.0.0.4", 3, 4, flow.ProtoUDP)
	tab = pairTable(t, map[flow.Key][2]uint32{a: ca, b: cb})
	for range 3 {
		tab.Add(&a, 100)
	}
	tab.Add(&b, 100)
	return tab, a, b
}

func pairTable(t *testing.T, cells map[flow.Key][2]uint32) *Table {
	t.Helper()
	tab, err := NewTable(Params{Cells: 8, Hashes: 2, FilterBits: 512, FilterHashes: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tab.geom = func(k *flow.Key, out *[MaxHashes]uint32) {
		cs := cells[*k]
		out[0], out[1] = cs[0], cs[1]
	}
	return tab
}

// TestDecode_CounterUnderflowEachCounter is TestDecode_CounterUnderflow
// for each counter alone: a removal that takes more packets than a cell
// holds, or more bytes, while the other counter stays in range and every
// cell ends empty, is an ErrCorrupt of its own. (B, with b packets of
// bSize bytes, loses what the false positive G, with g packets of gSize
// bytes, is charged beyond it.)
func TestDecode_CounterUnderflowEachCounter(t *testing.T) {
	var a, b, c, g flow.Key
	for i, k := range []*flow.Key{&a, &b, &c, &g} {
		*k = flow.MustKey("10.0.0."+string(rune('1'+i)), "10.0.1.1", uint16(1000+i), 80, flow.ProtoTCP)
	}
	for _, tc := range []struct {
		name         string
		b, g         int
		bSize, gSize uint32
	}{
		{"packets", 1, 2, 100, 0}, // 2 packets against 1; 0 bytes against 100
		{"bytes", 2, 1, 100, 500}, // 1 packet against 2; 500 bytes against 200
	} {
		tab := pairTable(t, map[flow.Key][2]uint32{a: {0, 4}, b: {1, 4}, c: {1, 5}, g: {0, 5}})
		for range 3 {
			tab.Add(&a, 100)
		}
		for range tc.b {
			tab.Add(&b, tc.bSize)
		}
		for range 2 {
			tab.Add(&c, 100)
		}
		tab.FlowFilter().Add(g.Bytes()) // the filter's false positive
		for range tc.g {
			if tab.Add(&g, tc.gSize) {
				t.Fatal("G is new to the filter")
			}
		}
		d, err := tab.Decode()
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s of B below zero: Decode gave %v, want ErrCorrupt", tc.name, err)
		}
		if d.Stuck != 0 || len(d.Flows) != 3 {
			t.Errorf("%s of B below zero: %d flows, %d stuck; want every cell emptied (the test needs it)", tc.name, len(d.Flows), d.Stuck)
		}
	}
}

// TestDecode_KeyInAForeignCell: a damaged cell holding, alone, the key of
// a flow of the table that does not hash to that cell is not pure: the
// flow is decoded from its own cells with its own counts, and the damaged
// cell is left holding a flow (ErrDecodeIncomplete, nothing contradicted).
func TestDecode_KeyInAForeignCell(t *testing.T) {
	// a's cells are 0 and 4, b's 1 and 5: cell 3, damaged, is the top of
	// the peeling stack, so a decoder that skips the check meets it first.
	tab, a, b := pairOfFlows(t, [2]uint32{0, 4}, [2]uint32{1, 5})
	tab.setCell(3, &Cell{FlowXOR: a.Padded(), FlowCount: 1, PacketCount: 999, ByteCount: 999})
	tab.setCell(7, &Cell{FlowXOR: a.Padded(), FlowCount: 1, PacketCount: 999, ByteCount: 999})
	d, err := tab.Decode()
	if !errors.Is(err, ErrDecodeIncomplete) || errors.Is(err, ErrCorrupt) {
		t.Errorf("Decode: %v, want ErrDecodeIncomplete alone", err)
	}
	want := map[flow.Key]uint64{a: 3, b: 1}
	for _, f := range d.Flows {
		if f.Packets != want[f.Key] {
			t.Errorf("decoded %v with %d packets, want %d", f.Key, f.Packets, want[f.Key])
		}
		delete(want, f.Key)
	}
	if len(want) != 0 || d.Stuck != 2 {
		t.Errorf("%d flows undecoded, %d cells stuck; want every flow, and the 2 damaged cells stuck", len(want), d.Stuck)
	}
	flows, stuck, err := FlowDecode([]*Table{tab})
	if !errors.Is(err, ErrDecodeIncomplete) || errors.Is(err, ErrCorrupt) || len(flows[0]) != 2 || stuck[0] != 2 {
		t.Errorf("FlowDecode: %v flows, %v stuck, %v; want both flows, 2 stuck, ErrDecodeIncomplete alone", flows, stuck, err)
	}
}

// TestDecode_KeyNotInTheFilter: a damaged cell holding, alone, a key that
// hashes to it but is not in the flow filter is not pure either.
func TestDecode_KeyNotInTheFilter(t *testing.T) {
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	x := flow.MustKey("10.9.9.9", "10.0.0.2", 1, 2, flow.ProtoUDP) // never added
	tab := pairTable(t, map[flow.Key][2]uint32{a: {0, 4}, x: {3, 7}})
	tab.Add(&a, 100)
	if tab.Contains(&x) {
		t.Skip("x is a false positive of this filter")
	}
	tab.setCell(3, &Cell{FlowXOR: x.Padded(), FlowCount: 1, PacketCount: 5, ByteCount: 500})
	tab.setCell(7, &Cell{FlowXOR: x.Padded(), FlowCount: 1, PacketCount: 5, ByteCount: 500})
	d, err := tab.Decode()
	if !errors.Is(err, ErrDecodeIncomplete) || errors.Is(err, ErrCorrupt) || len(d.Flows) != 1 || d.Flows[0].Key != a || d.Stuck != 2 {
		t.Errorf("Decode: %+v, %d stuck, %v; want flow a alone, 2 stuck, ErrDecodeIncomplete alone", d.Flows, d.Stuck, err)
	}
}

// TestDecode_StopsAtOnce: a removal from a cell without a flow stops
// Decode there (as documented): the flows not yet peeled stay in the
// Remainder, and Stuck counts their cells.
func TestDecode_StopsAtOnce(t *testing.T) {
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	b := flow.MustKey("10.0.0.3", "10.0.0.4", 3, 4, flow.ProtoUDP)
	// a's pure cell 7 is the top of the peeling stack; its cell 3 is
	// wiped, so peeling a stops Decode before b is reached.
	tab := pairTable(t, map[flow.Key][2]uint32{a: {3, 7}, b: {0, 4}})
	tab.Add(&a, 100)
	tab.Add(&b, 100)
	tab.setCell(3, &Cell{})
	d, err := tab.Decode()
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrDecodeIncomplete) {
		t.Errorf("Decode: %v, want ErrCorrupt and ErrDecodeIncomplete", err)
	}
	if len(d.Flows) != 0 || d.Stuck != 3 {
		t.Errorf("Decode went on after the contradiction: %d flows decoded, %d cells stuck; want 0 and 3", len(d.Flows), d.Stuck)
	}
}

// TestDecode_OneUnderflow: a single removal that takes more packets than
// its cell holds is enough for ErrCorrupt. Damage moved 2 packets from
// B's cell to A's: B (1 packet) decodes from its cell with 2^32-1, which
// underflows the cell it shares with A; A then decodes from that cell
// with the 2 packets too many that its own cell holds, and every cell ends
// empty.
func TestDecode_OneUnderflow(t *testing.T) {
	tab, _, _ := pairOfFlows(t, [2]uint32{0, 4}, [2]uint32{1, 4})
	cells := tab.Cells()
	cells[0].PacketCount += 2
	cells[1].PacketCount -= 2
	if err := tab.SetCells(cells); err != nil {
		t.Fatal(err)
	}
	d, err := tab.Decode()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1 removals took more") {
		t.Errorf("Decode: %v, want ErrCorrupt for one removal", err)
	}
	if d.Stuck != 0 || len(d.Flows) != 2 {
		t.Errorf("%d flows, %d stuck; want both flows decoded and every cell empty (the test needs it)", len(d.Flows), d.Stuck)
	}
}

// TestFlowDecode_StopsAtOnceOnAnExcusedKey: the contradiction of
// TestFlowDecode_DamageUnderALentFlowAnyOrder, where switch 2 is peeled
// first, is found when switch 1 decodes K, after K was left in its cell
// at switch 0 as a possible phantom; FlowDecode stops there, as at every
// contradiction it does not excuse, and flow Z of switch Z, whose cells
// are peeled last (the first table's cells are the bottom of the
// stack), is not decoded.
func TestFlowDecode_StopsAtOnceOnAnExcusedKey(t *testing.T) {
	z := flow.KeyFrom4([4]byte{10, 0, 0, 5}, [4]byte{10, 0, 0, 6}, 1002, 80, flow.ProtoTCP)
	swZ, _ := NewTable(ParamsFor(10, 4))
	swZ.Add(&z, 100)
	sw0, sw1, sw2 := lentFlowSwitches(t)
	flows, stuck, err := FlowDecode([]*Table{swZ, sw0, sw1, sw2})
	if !errors.Is(err, ErrCorrupt) || stuck != nil {
		t.Fatalf("FlowDecode: %v, stuck %v; want ErrCorrupt and no stuck", err, stuck)
	}
	if len(flows[0]) != 0 {
		t.Errorf("FlowDecode went on after the contradiction: switch Z's flows %v, want none", flows[0])
	}
}
