package flowradar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

func smallTable(t testing.TB, flows int) (*Table, truth) {
	tab, err := NewTable(paramsAt(flows, 1.5, 7))
	if err != nil {
		t.Fatal(err)
	}
	return tab, traffic(tab.Add, randomKeys(flows, 8), 9)
}

func TestTable_MarshalRoundTrip(t *testing.T) {
	tab, _ := smallTable(t, 300)
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != headerBytes+tab.Params().SizeBytes() {
		t.Fatalf("%d bytes, want header + SizeBytes = %d", len(b), headerBytes+tab.Params().SizeBytes())
	}
	var u Table
	if err := u.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !u.Equal(tab) {
		t.Fatal("round trip changed the table")
	}
	// Cell fields sit where the doc says.
	c0 := b[headerBytes+len(tab.Filter())*8:]
	if binary.LittleEndian.Uint32(c0[40:]) != tab.cnt[0].FlowCount || binary.LittleEndian.Uint32(c0[44:]) != tab.cnt[0].PacketCount {
		t.Fatal("cell layout differs from the documented one")
	}
}

// TestTable_Cells: Cells returns a copy, whole cells in the documented
// order, that SetCells puts back; SetCells refuses, changing nothing, a
// slice of another length.
func TestTable_Cells(t *testing.T) {
	tab, tr := smallTable(t, 200)
	cells := tab.Cells()
	if len(cells) != int(tab.Params().Cells) {
		t.Fatalf("%d cells, want %d", len(cells), tab.Params().Cells)
	}
	// Every flow's padded key is in each of its cells' FlowXOR, and the
	// FlowCounts sum to Hashes per flow: whole cells, in CellsOf's order.
	var idx [MaxHashes]uint32
	var flows uint32
	xor := make([][XORBytes]byte, len(cells))
	for k := range tr {
		p := k.Padded()
		for _, c := range idx[:tab.CellsOf(&k, &idx)] {
			xorKey(&xor[c], &p)
		}
	}
	for i, c := range cells {
		if c.FlowXOR != xor[i] {
			t.Fatalf("cell %d: FlowXOR %x, want %x", i, c.FlowXOR, xor[i])
		}
		flows += c.FlowCount
	}
	if want := uint32(len(tr) * tab.Params().Hashes); flows != want {
		t.Fatalf("FlowCounts sum to %d, want %d", flows, want)
	}
	before := tab.Clone()
	cells[0].PacketCount += 5 // a copy: the table does not change
	if !tab.Equal(before) {
		t.Fatal("changing the slice Cells returned changed the table")
	}
	if err := tab.SetCells(cells[1:]); !errors.Is(err, ErrParams) || !tab.Equal(before) {
		t.Fatalf("SetCells of %d cells: %v, want an error wrapping ErrParams and no change", len(cells)-1, err)
	}
	if err := tab.SetCells(cells); err != nil {
		t.Fatal(err)
	}
	if got := tab.Cells()[0].PacketCount; got != cells[0].PacketCount {
		t.Fatalf("after SetCells cell 0 has %d packets, want %d", got, cells[0].PacketCount)
	}
	cells[0].PacketCount -= 5
	if err := tab.SetCells(cells); err != nil || !tab.Equal(before) {
		t.Fatalf("SetCells of the original cells: %v, equal %v", err, tab.Equal(before))
	}
}

// TestTable_EqualAndResetBothArrays: the table keeps FlowXOR and the
// counters in separate arrays, and Equal and Reset must cover both. Equal
// tells apart tables that differ in one FlowXOR byte alone or one counter
// alone (the batch, round-trip and kernel tests compare with it); Reset,
// and so an Encoder's third epoch after two Flips, leaves no FlowXOR
// behind.
func TestTable_EqualAndResetBothArrays(t *testing.T) {
	tab, _ := smallTable(t, 50)
	for name, damage := range map[string]func(c *Cell){
		"FlowXOR":     func(c *Cell) { c.FlowXOR[3] ^= 1 },
		"FlowCount":   func(c *Cell) { c.FlowCount++ },
		"PacketCount": func(c *Cell) { c.PacketCount++ },
		"ByteCount":   func(c *Cell) { c.ByteCount++ },
	} {
		u := tab.Clone()
		cells := u.Cells()
		damage(&cells[len(cells)-1])
		if err := u.SetCells(cells); err != nil {
			t.Fatal(err)
		}
		if u.Equal(tab) || tab.Equal(u) {
			t.Errorf("tables differing in the %s of one cell are Equal", name)
		}
	}
	u := tab.Clone()
	u.Reset()
	for i, c := range u.Cells() {
		if c != (Cell{}) {
			t.Fatalf("after Reset cell %d holds %+v", i, c)
		}
	}
	e, err := New(tab.Params())
	if err != nil {
		t.Fatal(err)
	}
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	e.Add(&k, 100)
	e.Flip()
	e.Flip() // the first epoch again, reset
	for i, c := range e.Active().Cells() {
		if c != (Cell{}) {
			t.Fatalf("an Encoder's epoch after two Flips: cell %d holds %+v", i, c)
		}
	}
}

func TestTable_UnmarshalErrors(t *testing.T) {
	tab, _ := smallTable(t, 50)
	good, _ := tab.MarshalBinary()
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "need at least 24 header bytes, got 0"},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), "magic must be"},
		{"version", edit(func(b []byte) []byte { b[3] = 3; return b }), "magic must be \"FRT\\x02\", got \"FRT\\x03\""},
		{"version1", edit(func(b []byte) []byte { b[3] = 1; return b }), "version 1 (a classic flow filter) is no longer read; this package reads version 2"},
		{"reserved", edit(func(b []byte) []byte { b[6] = 1; return b }), "reserved bytes must be zero"},
		{"reserved high byte", edit(func(b []byte) []byte { b[7] = 1; return b }), "reserved bytes must be zero"},
		{"hashes", edit(func(b []byte) []byte { b[4] = 0; return b }), "hashes must be in [1, 8], got 0"},
		{"filterHashes", edit(func(b []byte) []byte { b[5] = 99; return b }), "filter hashes must be in [1, 32], got 99"},
		{"cells", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0xffffffff); return b }), "cells must be"},
		{"bits", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 100); return b }), "filter bits must be"},
		{"header only", good[:headerBytes], "needs " + fmt.Sprint(len(good)) + " bytes, got 24"},
		{"short", good[:len(good)-1], "bytes, got"},
		{"long", append(append([]byte(nil), good...), 0), "bytes, got"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u Table
			err := u.UnmarshalBinary(tc.b)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrFormat with %q", err, tc.want)
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	e := MustNew(ParamsFor(1000, 1))
	keys := randomKeys(1000, 1)
	i := 0
	if a := testing.AllocsPerRun(1000, func() { e.Add(&keys[i%len(keys)], 100); i++ }); a != 0 {
		t.Fatalf("Encoder.Add: %v allocs per packet", a)
	}
	k := keys[0]
	if a := testing.AllocsPerRun(100, func() { e.Add(&k, 100) }); a != 0 {
		t.Fatalf("Encoder.Add (known flow): %v allocs per packet", a)
	}
	if a := testing.AllocsPerRun(10, func() { e.Flip() }); a != 0 {
		t.Fatalf("Flip: %v allocs", a)
	}
	tab := e.Active()
	var idx [MaxHashes]uint32
	if a := testing.AllocsPerRun(100, func() { tab.Contains(&k); tab.CellsOf(&k, &idx) }); a != 0 {
		t.Fatalf("Contains/CellsOf: %v allocs", a)
	}
	// LeafSpine.Send, per packet: new and known flows over one and three
	// hops, with and without a loss draw.
	net, err := NewLeafSpine(4, 2, ParamsFor(1000, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, loss := range []float64{0, 0.5} {
		for sw := range net.Leaves + net.Spines {
			if err := net.SetLoss(sw, loss); err != nil {
				t.Fatal(err)
			}
		}
		hops := map[int]bool{}
		var path [3]int
		for _, k := range keys {
			hops[len(net.Path(&k, path[:0]))] = true
		}
		if !hops[1] || !hops[3] {
			t.Fatalf("the keys take paths of %v hops, want 1 and 3", hops)
		}
		if a := testing.AllocsPerRun(1000, func() { net.Send(&keys[i%len(keys)], 100); i++ }); a != 0 {
			t.Fatalf("LeafSpine.Send (loss %v): %v allocs per packet", loss, a)
		}
	}
}

// TestNilKey: a nil key is ignored like the zero Key: Add reports it not
// new and counts nothing, Contains is false, and CellsOf (also given a nil
// out) stores nothing and returns 0. They used to dereference it.
func TestNilKey(t *testing.T) {
	tab, _ := NewTable(ParamsFor(10, 1))
	e := MustNew(ParamsFor(10, 1))
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	var idx [MaxHashes]uint32
	for name, f := range map[string]func() bool{
		"Table.Add(nil)":         func() bool { return tab.Add(nil, 1) },
		"Encoder.Add(nil)":       func() bool { return e.Add(nil, 1) },
		"Table.Contains(nil)":    func() bool { return tab.Contains(nil) },
		"Table.CellsOf(nil, &)":  func() bool { return tab.CellsOf(nil, &idx) != 0 },
		"Table.CellsOf(&k, nil)": func() bool { return tab.CellsOf(&k, nil) != 0 },
		"zero.CellsOf(&k, nil)":  func() bool { return new(Table).CellsOf(&k, nil) != 0 },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panics: %v", name, r)
				}
			}()
			if f() {
				t.Errorf("%s: true (or cells), want false (or 0)", name)
			}
		}()
	}
	if idx != ([MaxHashes]uint32{}) || tab.Flows() != 0 || e.Active().Flows() != 0 {
		t.Errorf("a nil key left cells %v, %d and %d flows", idx, tab.Flows(), e.Active().Flows())
	}
}

// TestTable_Zero: the zero Table (and a nil *Table) is not valid but never
// panics: it holds no flow, ignores packets, and whatever needs a table
// returns an error wrapping ErrParams. Params, Cells and FlowFilter of a
// nil *Table (which the zero Encoder's Flip returns) used to dereference
// it.
func TestTable_Zero(t *testing.T) {
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	good, _ := NewTable(ParamsFor(10, 1))
	var idx [MaxHashes]uint32
	for name, f := range map[string]func(z *Table) error{
		"Flows": func(z *Table) error {
			if n := z.Flows(); n != 0 {
				return fmt.Errorf("%d flows", n)
			}
			return ErrParams
		},
		"Add": func(z *Table) error {
			if z.Add(&k, 1) || z.Contains(&k) || z.CellsOf(&k, &idx) != 0 {
				return errors.New("the zero Table took a packet")
			}
			z.Reset()
			if z.Clone().Flows() != 0 || z.Filter() != nil {
				return errors.New("Clone or Filter of the zero Table holds something")
			}
			return ErrParams
		},
		"Accessors": func(z *Table) error {
			if z.Params() != (Params{}) || z.Cells() != nil || z.FlowFilter() != nil {
				return fmt.Errorf("Params %v, %d cells, filter %v", z.Params(), len(z.Cells()), z.FlowFilter())
			}
			return ErrParams
		},
		"Equal": func(z *Table) error {
			if !z.Equal(&Table{}) || !z.Equal(nil) || z.Equal(good) || good.Equal(z) || !good.Equal(good) {
				return errors.New("wrong Equal")
			}
			return ErrParams
		},
		"Encoder": func(*Table) error {
			var e Encoder
			if e.Add(&k, 1) || e.Flip() != nil {
				return errors.New("the zero Encoder took a packet")
			}
			return ErrParams
		},
		"Decode":        func(z *Table) error { _, err := z.Decode(); return err },
		"MarshalBinary": func(z *Table) error { _, err := z.MarshalBinary(); return err },
		"SetCells":      func(z *Table) error { return z.SetCells(good.Cells()) },
		"FlowDecode":    func(z *Table) error { _, _, err := FlowDecode([]*Table{good, z}); return err },
		"CounterDecode": func(z *Table) error { _, err := CounterDecode(z, []flow.Key{k}); return err },
		"DecodeNetwork": func(z *Table) error { _, err := DecodeNetwork([]*Table{z}); return err },
	} {
		for _, z := range []*Table{{}, nil} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s on %#v panics: %v", name, z, r)
					}
				}()
				if err := f(z); !errors.Is(err, ErrParams) {
					t.Errorf("%s on %#v: %v, want an error wrapping ErrParams", name, z, err)
				}
			}()
		}
	}
	// The zero Table takes a decoded table; a nil *Table cannot, and says
	// so instead of panicking.
	enc, err := good.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("UnmarshalBinary into a nil *Table panics: %v", r)
			}
		}()
		var z *Table
		if err := z.UnmarshalBinary(enc); !errors.Is(err, ErrParams) {
			t.Errorf("UnmarshalBinary into a nil *Table: %v, want an error wrapping ErrParams", err)
		}
	}()
	var z Table
	if err := z.UnmarshalBinary(enc); err != nil || !z.Equal(good) {
		t.Errorf("UnmarshalBinary into the zero Table: %v", err)
	}
}
