package flowradar

import (
	"errors"
	"slices"
	"testing"
)

// decodeCases returns tables whose decodes end each way: complete,
// incomplete (above the peeling threshold), and corrupt (a cell of a
// flow wiped), with two sizes of the same Params among them.
func decodeCases(t *testing.T) map[string]*Table {
	t.Helper()
	cases := map[string]*Table{}
	for name, c := range map[string]struct {
		flows int
		cpf   float64
		seed  uint64
	}{
		"complete":       {2000, 1.5, 1},
		"complete-other": {3000, 1.5, 1},
		"incomplete":     {2000, 1.1, 2},
	} {
		tab, err := NewTable(paramsAt(c.flows, c.cpf, c.seed))
		if err != nil {
			t.Fatal(err)
		}
		traffic(tab.Add, randomKeys(c.flows, c.seed), c.seed)
		cases[name] = tab
	}
	tab := cases["complete"].Clone()
	k := randomKeys(1, 1)[0]
	var idx [MaxHashes]uint32
	tab.CellsOf(&k, &idx)
	tab.setCell(int(idx[1]), &Cell{})
	cases["corrupt"] = tab
	return cases
}

// sameDecode fails t unless DecodeInto's result (d, err) is Decode's
// (want, werr): the same flows in the same order, remainder, stuck cells
// and error text.
func sameDecode(t *testing.T, name string, d, want Decoded, err, werr error) {
	t.Helper()
	if !slices.Equal(d.Flows, want.Flows) {
		t.Errorf("%s: DecodeInto gave %d flows, Decode %d (or in another order, or other counts)", name, len(d.Flows), len(want.Flows))
	}
	if d.Stuck != want.Stuck {
		t.Errorf("%s: Stuck %d, Decode's %d", name, d.Stuck, want.Stuck)
	}
	if !d.Remainder.Equal(want.Remainder) {
		t.Errorf("%s: the Remainder differs from Decode's", name)
	}
	if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
		t.Errorf("%s: error %v, Decode's %v", name, err, werr)
	}
}

// TestDecodeInto_MatchesDecode: decoding every case into one Decoded, in
// turn and twice over, so that each decode finds the arrays and
// remainder of another (of the same Params or not), gives exactly what
// Decode gives, and leaves the decoded table as it was.
func TestDecodeInto_MatchesDecode(t *testing.T) {
	cases := decodeCases(t)
	names := []string{"complete", "corrupt", "incomplete", "complete", "complete-other", "incomplete", "complete-other", "corrupt"}
	var d Decoded
	for i, name := range names {
		tab := cases[name]
		before := tab.Clone()
		want, werr := tab.Decode()
		err := tab.DecodeInto(&d)
		sameDecode(t, name, d, want, err, werr)
		if !tab.Equal(before) {
			t.Fatalf("%s (decode %d): DecodeInto changed the table it decoded", name, i)
		}
		if d.Remainder == tab {
			t.Fatalf("%s: the Remainder is the decoded table", name)
		}
	}
}

// TestDecodeInto_Reuses: a second decode into the same Decoded keeps its
// flows' array and its remainder when the Params match, and replaces the
// remainder, leaving the old one as it was, when they do not.
func TestDecodeInto_Reuses(t *testing.T) {
	cases := decodeCases(t)
	var d Decoded
	if err := cases["complete"].DecodeInto(&d); err != nil {
		t.Fatal(err)
	}
	rem, flows := d.Remainder, &d.Flows[:1][0]
	if err := cases["corrupt"].DecodeInto(&d); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt: %v, want ErrCorrupt", err)
	}
	if d.Remainder != rem || &d.Flows[:1][0] != flows {
		t.Error("a decode of a table of the same Params did not reuse the remainder and the flows' array")
	}
	kept := rem.Clone()
	if err := cases["complete-other"].DecodeInto(&d); err != nil {
		t.Fatal(err)
	}
	if d.Remainder == rem {
		t.Fatal("a remainder of other Params was decoded into")
	}
	if !rem.Equal(kept) {
		t.Error("the replaced remainder changed")
	}
}

// TestDecodeInto_CallersRemainder: a Remainder that no decode made, set
// by the caller, is never written, not even when it is the table decoded:
// DecodeInto makes its own, and gives Decode's results.
func TestDecodeInto_CallersRemainder(t *testing.T) {
	for name, tab := range decodeCases(t) {
		want, werr := tab.Decode()
		before := tab.Clone()
		for _, mine := range []*Table{tab, tab.Clone()} {
			kept := mine.Clone()
			d := Decoded{Remainder: mine}
			err := tab.DecodeInto(&d)
			if d.Remainder == mine || !mine.Equal(kept) {
				t.Fatalf("%s: DecodeInto wrote into the caller's Remainder", name)
			}
			sameDecode(t, name, d, want, err, werr)
		}
		if !tab.Equal(before) {
			t.Fatalf("%s: DecodeInto changed the table it decoded", name)
		}
	}
}

// TestDecodeInto_EncoderEpochs: a collector decoding each epoch an
// Encoder flips into one Decoded, with the caller's first Remainder the
// flipped table itself, gets every epoch's exact counts, while the
// Encoder writes on into the tables it flipped before. (Before DecodeInto
// kept to its own Remainders, it decoded such a table in place and then
// copied the next epoch over it while the Encoder counted in it.)
func TestDecodeInto_EncoderEpochs(t *testing.T) {
	e := MustNew(paramsAt(2000, 1.5, 1))
	var d Decoded
	for epoch := range uint64(5) {
		tr := traffic(e.Add, randomKeys(2000, epoch+1), epoch+1)
		tab := e.Flip()
		if epoch == 0 {
			d.Remainder = tab
		}
		if err := tab.DecodeInto(&d); err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
		checkFlows(t, d.Flows, tr)
	}
}

// TestDecodeInto_RemainderInPlace: decoding a Decoded's own Remainder into
// it decodes the Remainder in place, with Decode's results, the figures
// of an incomplete decode's error included (they describe the table
// before the decode). "overloaded" is a Remainder whose cells the caller
// set to a table with more flows than it decodes: peeling it in place
// makes progress before it stalls.
func TestDecodeInto_RemainderInPlace(t *testing.T) {
	cases := decodeCases(t)
	over, err := NewTable(cases["complete"].Params())
	if err != nil {
		t.Fatal(err)
	}
	traffic(over.Add, randomKeys(2700, 9), 9)
	cases["overloaded"] = over
	for name, tab := range cases {
		var d Decoded
		if name == "overloaded" {
			_ = cases["complete"].DecodeInto(&d)
			if err := d.Remainder.SetCells(over.Cells()); err != nil {
				t.Fatal(err)
			}
			copy(d.Remainder.Filter(), over.Filter())
		} else {
			_ = tab.DecodeInto(&d)
		}
		rem := d.Remainder
		want, werr := rem.Clone().Decode()
		err := rem.DecodeInto(&d)
		if d.Remainder != rem {
			t.Fatalf("%s: the Remainder was not decoded in place", name)
		}
		sameDecode(t, name, d, want, err, werr)
		if name == "overloaded" && (len(want.Flows) == 0 || want.Stuck == 0) {
			t.Fatalf("overloaded: %d flows decoded, %d cells stuck: want some of each", len(want.Flows), want.Stuck)
		}
	}
}

// TestDecodeInto_AllocatesNothing: once a Decoded has held a decode of an
// epoch's size, decoding the next epoch into it allocates nothing.
func TestDecodeInto_AllocatesNothing(t *testing.T) {
	tab := decodeCases(t)["complete"]
	var d Decoded
	if err := tab.DecodeInto(&d); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() {
		if err := tab.DecodeInto(&d); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("DecodeInto into a used Decoded: %v allocations a call, want 0", a)
	}
	if len(d.Flows) != 2000 {
		t.Errorf("decoded %d flows, want 2000", len(d.Flows))
	}
}

// TestDecodeInto_Refuses: a nil *Decoded and the zero Table are errors
// wrapping ErrParams, and change nothing.
func TestDecodeInto_Refuses(t *testing.T) {
	tab := decodeCases(t)["complete"]
	if err := tab.DecodeInto(nil); !errors.Is(err, ErrParams) {
		t.Errorf("DecodeInto(nil): %v, want ErrParams", err)
	}
	var d Decoded
	if err := tab.DecodeInto(&d); err != nil {
		t.Fatal(err)
	}
	n, rem := len(d.Flows), d.Remainder.Clone()
	for _, zero := range []*Table{nil, {}} {
		if err := zero.DecodeInto(&d); !errors.Is(err, ErrParams) {
			t.Errorf("DecodeInto of the zero Table: %v, want ErrParams", err)
		}
		if len(d.Flows) != n || !d.Remainder.Equal(rem) {
			t.Error("DecodeInto of the zero Table changed the Decoded")
		}
	}
	if _, err := (&Table{}).Decode(); !errors.Is(err, ErrParams) {
		t.Errorf("Decode of the zero Table: %v, want ErrParams", err)
	}
}
