//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
)

// digests returns the Go digests (o) of up and down.
func digests(t *testing.T, o Options, up, down [][]byte) (*iblt.Table, *iblt.Table) {
	t.Helper()
	return digestOK(t, o, up), digestOK(t, o, down)
}

// TestLostInto_MatchesLost: into one Loss, pair after pair of digests
// (losses and extra packets, a stalled listing, a key that is not a packet
// key, no difference, and the first pair again) list exactly what Lost
// lists, with its error, and change neither digest. The previous pair's
// packets are gone from the Loss, not kept beside the new ones.
func TestLostInto_MatchesLost(t *testing.T) {
	o, err := OptionsFor(60, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	sent := udpFrames(0, 2000)
	var arrived [][]byte
	for i, f := range sent {
		if i%50 != 7 { // 40 lost
			arrived = append(arrived, f)
		}
	}
	arrived = append(arrived, udpFrames(5000, 10)...) // 10 extra
	up, down := digests(t, o, sent, arrived)
	stalledUp, stalledDown := digests(t, o, sent, sent[:1000])
	foreignUp, foreignDown := digests(t, o, sent[:10], nil)
	var foreign [KeyLen]byte
	foreign[0], foreign[37] = 1, 99 // a length byte no kernel writes
	if err := foreignUp.Insert(foreign[:], 7); err != nil {
		t.Fatal(err)
	}
	var l Loss
	for _, c := range []struct {
		name     string
		up, down *iblt.Table
		lost     int    // -1: stalled, not checked
		err      string // in Lost's error; "" for none
	}{
		{"40 lost, 10 extra", up, down, 40, ""},
		{"1000 lost: stalls", stalledUp, stalledDown, -1, "size both digests with OptionsFor"},
		{"a foreign key", foreignUp, foreignDown, 10, "not a packet key"},
		{"no difference", up, up, 0, ""},
		{"40 lost again", up, down, 40, ""},
	} {
		wasUp, wasDown := c.up.Clone(), c.down.Clone()
		lost, extra, want := Lost(c.up, c.down)
		err := LostInto(c.up, c.down, &l)
		if fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("%s: LostInto error %v, Lost's %v", c.name, err, want)
		}
		if !slices.Equal(l.Lost, lost) || !slices.Equal(l.Extra, extra) {
			t.Errorf("%s: LostInto listed %d lost and %d extra, Lost %d and %d, or others", c.name, len(l.Lost), len(l.Extra), len(lost), len(extra))
		}
		if (want == nil) != (c.err == "") || want != nil && !strings.Contains(want.Error(), c.err) {
			t.Errorf("%s: Lost's error %v, want one containing %q", c.name, want, c.err)
		}
		if c.lost >= 0 && len(lost) != c.lost {
			t.Errorf("%s: %d lost, want %d (err %v)", c.name, len(lost), c.lost, err)
		}
		if !c.up.Equal(wasUp) || !c.down.Equal(wasDown) {
			t.Errorf("%s: a digest changed", c.name)
		}
	}
}

// TestLostInto_Refuses: a nil table or Loss, and digests of other
// Options, are errors that leave the Loss as it was.
func TestLostInto_Refuses(t *testing.T) {
	o := Options{Cells: 300, Hashes: 3, Seed: 1}
	frames := udpFrames(0, 3)
	up, down := digests(t, o, frames, frames[:1])
	other, _ := Digest(Options{Cells: 300, Hashes: 3, Seed: 2}, nil)
	var l Loss
	if err := LostInto(up, down, &l); err != nil || len(l.Lost) != 2 {
		t.Fatalf("two lost: %d, %v", len(l.Lost), err)
	}
	was := slices.Clone(l.Lost)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil up", LostInto(nil, down, &l), "iblt kernel: Lost of a nil up table"},
		{"nil down", LostInto(up, nil, &l), "iblt kernel: Lost of a nil down table"},
		{"nil Loss", LostInto(up, down, nil), "iblt kernel: LostInto a nil Loss"},
		{"another seed", LostInto(up, other, &l), "incompatible"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, c.err, c.want)
		}
		if !slices.Equal(l.Lost, was) || len(l.Extra) != 0 {
			t.Errorf("%s: the Loss changed", c.name)
		}
	}
}

// TestLostInto_AllocatesNothing: once a Loss has listed a pair of digests,
// it lists that pair, or one with fewer losses, again with no allocation.
func TestLostInto_AllocatesNothing(t *testing.T) {
	o, err := OptionsFor(60, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	sent := udpFrames(0, 500)
	up, down := digests(t, o, sent, sent[50:])
	up2, down2 := digests(t, o, sent, sent[5:])
	var l Loss
	if err := LostInto(up, down, &l); err != nil || len(l.Lost) != 50 {
		t.Fatalf("50 lost: %d, %v", len(l.Lost), err)
	}
	for name, pair := range map[string][2]*iblt.Table{"the same pair": {up, down}, "fewer losses": {up2, down2}} {
		var err error
		if n := testing.AllocsPerRun(10, func() { err = LostInto(pair[0], pair[1], &l) }); n != 0 || err != nil {
			t.Errorf("%s: %v allocations a call (error %v), want none", name, n, err)
		}
	}
}
