package flowradar

import (
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// FuzzUnmarshalDecode feeds arbitrary bytes to UnmarshalBinary and, when
// they parse, to both decoders: never a panic, and a decoded flow always
// really belongs to the table: in its filter, one cell in each sub-table,
// every one of them holding a flow; network-wide, never a negative
// count.
//
// The seed tables are small on purpose. Every input that reaches new
// coverage is minimized, and Go's minimizer tries removing every range of
// bytes: a number of candidates quadratic in the input's length. A table's
// length is fixed by its header, so almost every candidate is refused, but
// each still costs a call: with a 20-flow seed (1944 bytes, about 1.9
// million candidates) a new input could take the whole default minimize
// time (60 s), and the target ran about 50 inputs in 30 s. A table of 8 flows (760 bytes) decodes completely; one
// of 4 flows (536 bytes) stops incomplete, as the 20-flow seed did. The
// checks are the same for any size.
func FuzzUnmarshalDecode(f *testing.F) {
	tab, _ := smallTable(f, 8)
	good, _ := tab.MarshalBinary()
	f.Add(good) // a valid table that decodes completely
	stuck, _ := smallTable(f, 4)
	s, _ := stuck.MarshalBinary()
	f.Add(s)                  // a valid table that decodes incompletely
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
		belongs := func(k *flow.Key) {
			t.Helper()
			if !u.Contains(k) {
				t.Fatalf("decoded %v, not in the filter", *k)
			}
			var idx [MaxHashes]uint32
			p := u.Params()
			if n := u.CellsOf(k, &idx); n != p.Hashes {
				t.Fatalf("decoded %v: %d cells, want %d", *k, n, p.Hashes)
			}
			sub := p.Cells / uint32(p.Hashes)
			for s := 0; s < p.Hashes; s++ {
				if idx[s]/sub != uint32(s) || u.cnt[idx[s]].FlowCount == 0 {
					t.Fatalf("decoded %v: cell %d of sub-table %d (%d cells each) holds %d flows", *k, idx[s], s, sub, u.cnt[idx[s]].FlowCount)
				}
			}
		}
		d, _ := u.Decode()
		for _, fl := range d.Flows {
			belongs(&fl.Key)
		}
		nw, _ := DecodeNetwork([]*Table{&u, &u})
		for _, fl := range nw.Flows {
			belongs(&fl.Key)
			for _, c := range fl.Counts {
				if c.Packets < 0 || c.Bytes < 0 {
					t.Fatalf("flow %v: negative count %+v", fl.Key, c)
				}
			}
		}
	})
}

// FuzzDecodeCorrupt damages a valid table at fuzzer-chosen offsets: the
// decoders must not panic; every flow that Decode or DecodeNetwork
// returns is one of the flows encoded, error or not (beside an error its
// counters may be wrong, its key may not be invented); a decode without
// error returns exactly the flows and counters that were encoded; and a
// count that network-wide decoding marks exact is right, error or not.
func FuzzDecodeCorrupt(f *testing.F) {
	tab, tr := smallTable(f, 40)
	good, _ := tab.MarshalBinary()
	f.Add(uint32(0), byte(0))                   // no damage
	f.Add(uint32(headerBytes+3), byte(0x80))    // a filter bit
	f.Add(uint32(len(good)-56+41), byte(1))     // a FlowCount
	f.Add(uint32(len(good)-56+44), byte(1))     // a PacketCount
	f.Add(uint32(len(good)-56+3), byte(0xff))   // a FlowXOR byte
	f.Add(uint32(len(good)-56+39), byte(13^37)) // a length byte
	cells := headerBytes + len(tab.Filter())*8
	// A key byte of cell 0, which holds two flows: once one is peeled the
	// other is read damaged, a key that only the purity test's hash and
	// filter checks reject. Without them both decoders list it, beside an
	// error.
	f.Add(uint32(cells), byte(1))
	for i := len(tab.cnt) - 1; i >= 0; i-- {
		// The last cell holding one flow: CounterDecode peels that flow
		// from it first, so damage there changes the flow's count.
		if tab.cnt[i].FlowCount == 1 {
			f.Add(uint32(cells+i*CellBytes+44), byte(4)) // its PacketCount
			f.Add(uint32(cells+i*CellBytes+48), byte(1)) // its ByteCount
			break
		}
	}
	var into Decoded // reused from one input to the next, as a collector would
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
		ierr := u.DecodeInto(&into)
		sameDecode(t, "DecodeInto, reused", into, d, ierr, err)
		for _, fl := range d.Flows {
			if _, ok := tr[fl.Key]; !ok {
				t.Fatalf("Decode invented flow %v (%v)", fl.Key, err)
			}
		}
		if err == nil {
			checkFlows(t, d.Flows, tr)
		}
		nw, err := DecodeNetwork([]*Table{&u, tab})
		if err == nil && len(nw.Flows) != len(tr) {
			t.Fatalf("network decode without error found %d flows, encoded %d", len(nw.Flows), len(tr))
		}
		for _, fl := range nw.Flows {
			w, ok := tr[fl.Key]
			if !ok {
				t.Fatalf("network decode invented flow %v (%v)", fl.Key, err)
			}
			for _, c := range fl.Counts {
				if c.Packets < 0 || c.Bytes < 0 {
					t.Fatalf("flow %v: negative count %+v (%v)", fl.Key, c, err)
				}
				if c.Exact && (c.Packets != int64(w[0]) || c.Bytes != int64(w[1])) {
					t.Fatalf("flow %v at switch %d: %d packets, %d bytes marked exact; encoded %v (%v)", fl.Key, c.Switch, c.Packets, c.Bytes, w, err)
				}
			}
		}
	})
}
