package iblt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// listCase is a table of n inserted and n/2 deleted seeded random keys,
// over cells chosen to list whole or to stall.
type listCase struct {
	name string
	t    *Table
}

func listCases(tb testing.TB) []listCase {
	tb.Helper()
	var cs []listCase
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		k, keyLen, n, cells int
	}{
		{3, 13, 1000, 2250}, // 1.5 cells a key (ins and del): lists whole
		{4, 37, 200, 452},   // lists whole
		{3, 13, 1000, 600},  // overloaded: stalls
		{1, 64, 4, 300},     // k = 1
		{4, 5, 3000, 6400},  // the largest: the buffers grow
		{3, 13, 10, 30},     // small, after the largest: the buffers shrink in use
		{3, 13, 0, 30},      // empty
		{3, 40, 500, 600},   // padded keys (flow.Key.Padded), stalls
		{4, 37, 100, 260},   // deleted keys only, below
		{3, 13, 1000, 2250}, // the first again
	} {
		tbl := MustNew(Params{Cells: c.cells, Hashes: c.k, KeyLen: c.keyLen, Seed: rng.Uint64()})
		keys := randKeys(rng, c.n+c.n/2, c.keyLen)
		for i, key := range keys {
			if i < c.n && len(cs) != 8 {
				tbl.Insert(key, rng.Uint64())
			} else {
				tbl.Delete(key, rng.Uint64())
			}
		}
		cs = append(cs, listCase{fmt.Sprintf("k=%d/L=%d/n=%d/cells=%d", c.k, c.keyLen, c.n, c.cells), tbl})
	}
	return cs
}

// TestListInto_MatchesList: listing into one Listing, table after table
// of other shapes and sizes (whole, stalled, empty, deleted keys only),
// gives exactly List's entries and error each time, and changes no table.
// Entries of the previous listing are gone, not kept beside the new ones.
func TestListInto_MatchesList(t *testing.T) {
	var l Listing
	stalled, whole := 0, 0
	for _, c := range listCases(t) {
		was := slices.Clone(c.t.cells)
		ins, del, err := c.t.List()
		if errors.Is(err, ErrDecodeIncomplete) {
			stalled++
		} else if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		} else {
			whole++
		}
		sameListing(t, c.name+": ListInto", &l, c.t.ListInto(&l), ins, del, err)
		if !slices.Equal(c.t.cells, was) {
			t.Fatalf("%s: ListInto changed the table", c.name)
		}
	}
	if stalled < 2 || whole < 6 {
		t.Fatalf("%d listings stalled and %d listed whole, want 2 and 8: the cases no longer cover what they should", stalled, whole)
	}
}

// TestListDifferenceInto: listing a minus b into a Listing gives what
// a.Subtract(b) then List gives, with entries on both sides, and changes
// neither table.
func TestListDifferenceInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := Params{Cells: 3 * 400, Hashes: 3, KeyLen: 13, Seed: 5}
	var l Listing
	for _, onlyB := range []int{0, 300, 900} { // the last one stalls
		a, b := MustNew(p), MustNew(p)
		keys := randKeys(rng, 2000+300+onlyB, 13)
		for i, k := range keys[:2000] {
			a.Insert(k, uint64(i))
			b.Insert(k, uint64(i))
		}
		for _, k := range keys[2000:2300] {
			a.Insert(k, 1)
		}
		for _, k := range keys[2300:] {
			b.Insert(k, 2)
		}
		wasA, wasB := a.Clone(), b.Clone()
		diff := a.Clone()
		if err := diff.Subtract(b); err != nil {
			t.Fatal(err)
		}
		ins, del, err := diff.List()
		if onlyB == 900 != errors.Is(err, ErrDecodeIncomplete) {
			t.Fatalf("onlyB=%d: Subtract then List: %v", onlyB, err)
		}
		if err == nil && (len(ins) != 300 || len(del) != onlyB) {
			t.Fatalf("onlyB=%d: listed %d+%d, want 300+%d", onlyB, len(ins), len(del), onlyB)
		}
		sameListing(t, fmt.Sprintf("onlyB=%d", onlyB), &l, a.ListDifferenceInto(b, &l), ins, del, err)
		if !a.Equal(wasA) || !b.Equal(wasB) {
			t.Fatalf("onlyB=%d: ListDifferenceInto changed a table", onlyB)
		}
	}
}

// TestListInto_Refuses: a nil Listing, the zero Table and (for
// ListDifferenceInto) a nil, zero or incompatible table are errors that
// match ErrInvalid or ErrIncompatible and leave the Listing as it was.
func TestListInto_Refuses(t *testing.T) {
	p := Params{Cells: 30, Hashes: 3, KeyLen: 4, Seed: 1}
	a := MustNew(p)
	a.Insert([]byte("abcd"), 1)
	other := p
	other.Seed++
	var l Listing
	if err := a.ListInto(&l); err != nil || len(l.Inserted) != 1 {
		t.Fatalf("listing one entry: %d entries, %v", len(l.Inserted), err)
	}
	for _, c := range []struct {
		name string
		call func() error
		want error
	}{
		{"ListInto nil", func() error { return a.ListInto(nil) }, ErrInvalid},
		{"ListDifferenceInto nil", func() error { return a.ListDifferenceInto(a, nil) }, ErrInvalid},
		{"zero ListInto", func() error { return new(Table).ListInto(&l) }, ErrInvalid},
		{"zero ListDifferenceInto", func() error { return new(Table).ListDifferenceInto(a, &l) }, ErrInvalid},
		{"minus nil", func() error { return a.ListDifferenceInto(nil, &l) }, ErrIncompatible},
		{"minus zero", func() error { return a.ListDifferenceInto(new(Table), &l) }, ErrInvalid},
		{"minus another seed", func() error { return a.ListDifferenceInto(MustNew(other), &l) }, ErrIncompatible},
	} {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want an error matching %v", c.name, err, c.want)
		}
		if len(l.Inserted) != 1 || string(l.Inserted[0].Key) != "abcd" || len(l.Deleted) != 0 {
			t.Fatalf("%s: the Listing changed: %d+%d entries", c.name, len(l.Inserted), len(l.Deleted))
		}
	}
}

// TestListInto_AllocatesNothing: once a Listing has listed a table, it
// lists it, a smaller one, or a difference of the same size again with no
// allocation.
func TestListInto_AllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := Params{Cells: 3 * 1000, Hashes: 3, KeyLen: 13, Seed: 2}
	big, small, empty := MustNew(p), MustNew(p), MustNew(p)
	for i, k := range randKeys(rng, 2000, 13) {
		big.Insert(k, uint64(i))
		if i < 100 {
			small.Delete(k, 1)
		}
	}
	var l Listing
	if err := big.ListInto(&l); err != nil || len(l.Inserted) != 2000 {
		t.Fatalf("listing 2000 entries: %d, %v", len(l.Inserted), err)
	}
	for name, f := range map[string]func() error{
		"ListInto again":             func() error { return big.ListInto(&l) },
		"ListInto a smaller listing": func() error { return small.ListInto(&l) },
		"ListDifferenceInto":         func() error { return big.ListDifferenceInto(empty, &l) },
	} {
		var err error
		if n := testing.AllocsPerRun(10, func() { err = f() }); n != 0 || err != nil {
			t.Errorf("%s: %v allocations a call (error %v), want none", name, n, err)
		}
	}
}
