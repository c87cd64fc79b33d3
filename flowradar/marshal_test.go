package flowradar

import (
	"encoding/binary"
	"errors"
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
	if binary.LittleEndian.Uint32(c0[40:]) != tab.cells[0].FlowCount || binary.LittleEndian.Uint32(c0[44:]) != tab.cells[0].PacketCount {
		t.Fatal("cell layout differs from the documented one")
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
		{"hashes", edit(func(b []byte) []byte { b[4] = 0; return b }), "hashes must be in [1, 8], got 0"},
		{"filterHashes", edit(func(b []byte) []byte { b[5] = 99; return b }), "filter hashes must be in [1, 32], got 99"},
		{"cells", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0xffffffff); return b }), "cells must be"},
		{"bits", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 100); return b }), "filter bits must be"},
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
	_ = flow.Key{}
}
