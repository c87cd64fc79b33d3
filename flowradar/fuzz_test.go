package flowradar

import (
	"errors"
	"testing"
)

// FuzzUnmarshalDecode feeds arbitrary bytes to UnmarshalBinary and, when
// they parse, to both decoders: never a panic, and a decoded flow always
// really belongs to the table (in its filter, hashing to a cell).
func FuzzUnmarshalDecode(f *testing.F) {
	tab, _ := smallTable(f, 20)
	good, _ := tab.MarshalBinary()
	f.Add(good)               // a valid table
	f.Add(good[:len(good)-1]) // one byte short
	f.Add(good[:headerBytes]) // header only
	f.Add([]byte{})           // empty
	f.Add([]byte("FRT\x02"))  // magic only
	v1 := append([]byte(nil), good...)
	v1[3] = 1
	f.Add(v1) // a whole table marked version 1 (refused)
	empty, _ := NewTable(Params{Cells: 4, Hashes: 4, FilterBits: 512, FilterHashes: 1})
	e, _ := empty.MarshalBinary()
	f.Add(e) // smallest valid table
	f.Fuzz(func(t *testing.T, b []byte) {
		var u Table
		if u.UnmarshalBinary(b) != nil {
			return
		}
		back, _ := u.MarshalBinary()
		if string(back) != string(b) {
			t.Fatal("round trip differs")
		}
		d, _ := u.Decode()
		var idx [MaxHashes]uint32
		for _, fl := range d.Flows {
			if !u.Contains(&fl.Key) {
				t.Fatalf("decoded %v, not in the filter", fl.Key)
			}
			u.CellsOf(&fl.Key, &idx)
		}
		_, _ = DecodeNetwork([]*Table{&u, &u})
	})
}

// FuzzDecodeCorrupt damages a valid table at fuzzer-chosen offsets: the
// decoders must not panic, and a decode without error must return exactly
// the flows and counters that were encoded (no invented flow).
func FuzzDecodeCorrupt(f *testing.F) {
	tab, tr := smallTable(f, 40)
	good, _ := tab.MarshalBinary()
	f.Add(uint32(0), byte(0))                   // no damage
	f.Add(uint32(headerBytes+3), byte(0x80))    // a filter bit
	f.Add(uint32(len(good)-56+41), byte(1))     // a FlowCount
	f.Add(uint32(len(good)-56+44), byte(1))     // a PacketCount
	f.Add(uint32(len(good)-56+3), byte(0xff))   // a FlowXOR byte
	f.Add(uint32(len(good)-56+39), byte(13^37)) // a length byte
	f.Fuzz(func(t *testing.T, off uint32, x byte) {
		b := append([]byte(nil), good...)
		if int(off) < headerBytes || int(off) >= len(b) {
			off = headerBytes
			x = 0
		}
		b[off] ^= x
		var u Table
		if err := u.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		d, err := u.Decode()
		if err == nil {
			checkFlows(t, d.Flows, tr)
		}
		nw, err := DecodeNetwork([]*Table{&u, tab})
		if err == nil && len(nw.Flows) != len(tr) {
			t.Fatalf("network decode without error found %d flows, encoded %d", len(nw.Flows), len(tr))
		}
		for _, fl := range nw.Flows {
			if _, ok := tr[fl.Key]; !ok && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrDecodeIncomplete) {
				t.Fatalf("invented flow %v", fl.Key)
			}
		}
	})
}
