package maglev_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// backendsFrom decodes a fuzzer's bytes into a backend list: per backend,
// a weight byte and a name-length byte, then the name.
func backendsFrom(data []byte) []maglev.Backend {
	var bs []maglev.Backend
	for len(data) >= 2 {
		w, l := data[0], int(data[1])
		data = data[2:]
		l = min(l, len(data))
		bs = append(bs, maglev.Backend{Name: string(data[:l]), Weight: uint32(w % 5)})
		data = data[l:]
	}
	return bs
}

// FuzzNew builds tables and rings from arbitrary backend lists: no panic,
// errors or valid structures, and every valid table is balanced (checked
// when the weights are equal), order independent and consistent with its
// counts.
func FuzzNew(f *testing.F) {
	f.Add([]byte{}, uint16(7), uint64(0))                                // no backend
	f.Add([]byte{1, 1, 'a', 1, 1, 'b', 1, 1, 'c'}, uint16(7), uint64(1)) // three backends
	f.Add([]byte{1, 1, 'a', 1, 1, 'a'}, uint16(7), uint64(1))            // duplicate
	f.Add([]byte{1, 0}, uint16(7), uint64(1))                            // empty name
	f.Add([]byte{0, 1, 'a', 4, 1, 'b'}, uint16(8), uint64(1))            // non-prime size
	f.Add([]byte{1, 1, 'a', 1, 1, 'b', 1, 1, 'c'}, uint16(2), uint64(1)) // more backends than entries
	f.Fuzz(func(t *testing.T, data []byte, size uint16, seed uint64) {
		bs := backendsFrom(data)
		tb, err := maglev.New(maglev.Params{Size: uint32(size), Seed: seed}, bs)
		if err != nil {
			return
		}
		counts := make([]int, tb.Len())
		for j := 0; j < tb.Size(); j++ {
			e := tb.Entry(j)
			if e == maglev.NoBackend {
				continue
			}
			if int(e) >= tb.Len() || tb.Backend(int(e)).Weight == 0 {
				t.Fatalf("entry %d = %d: not an active backend", j, e)
			}
			counts[e]++
		}
		active := 0
		for i, c := range counts {
			if c != tb.Count(i) {
				t.Fatalf("Count(%d) = %d, table holds %d", i, tb.Count(i), c)
			}
			if tb.Backend(i).Weight != 0 {
				active++
			}
		}
		// Balance (the package doc): with equal weights every backend owns
		// floor(M/N) or ceil(M/N) entries.
		var w0 uint32
		equal := true
		for i := 0; i < tb.Len(); i++ {
			if w := tb.Backend(i).Weight; w != 0 && w0 == 0 {
				w0 = w
			} else if w != 0 && w != w0 {
				equal = false
			}
		}
		if lo, hi := tb.MinMax(); active > 0 && equal && (lo != tb.Size()/active || hi-lo > 1) {
			t.Fatalf("%d backends of equal weight in %d entries own %d to %d entries, want %d or %d",
				active, tb.Size(), lo, hi, tb.Size()/active, (tb.Size()+active-1)/active)
		}
		rev := slices.Clone(bs)
		slices.Reverse(rev)
		tr := maglev.MustNew(tb.Params(), rev)
		if !slices.Equal(tb.AppendEntries(nil), tr.AppendEntries(nil)) {
			t.Fatal("order changed the table")
		}
		if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: 3, Seed: seed}, bs); err != nil {
			t.Fatalf("table accepted the backends, ring refused: %v", err)
		}
		enc, _ := tb.MarshalBinary()
		var back maglev.Table
		if err := back.UnmarshalBinary(enc); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzUnmarshal feeds arbitrary bytes to UnmarshalBinary.
func FuzzUnmarshal(f *testing.F) {
	good, _ := maglev.MustNew(maglev.Params{Size: 7, Seed: 3}, maglev.Backends("a", "b")).MarshalBinary()
	f.Add(good) // valid
	v1 := slices.Clone(good[:len(good)-4])
	v1[4] = 1
	f.Add(v1)                 // version 1, without the checksum
	f.Add(good[:len(good)-1]) // one byte short
	f.Add([]byte{})           // empty
	f.Add([]byte("MGLV"))     // magic only
	bad := slices.Clone(good)
	binary.LittleEndian.PutUint32(bad[5:], 8) // non-prime size
	f.Add(reseal(bad))
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint32(huge[17:], 1<<31) // absurd backend count
	f.Add(reseal(huge))
	f.Add(append(slices.Clone(good), 0)) // a trailing byte
	zero, _ := (&maglev.Table{}).MarshalBinary()
	f.Add(append(zero, 0)) // the empty table and a trailing byte
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 9 && binary.LittleEndian.Uint32(data[5:]) > 100000 {
			return // valid but slow to rebuild; sizes are tested elsewhere
		}
		var tb maglev.Table
		err := tb.UnmarshalBinary(data)
		if err != nil {
			if !errors.Is(err, maglev.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if tb.Size() != 0 {
				t.Fatal("failed decode modified the table")
			}
			return
		}
		enc, _ := tb.MarshalBinary()
		want := data
		if data[4] == 1 { // version 1, re-encoded as version 2
			want = reseal(append(slices.Concat(data[:4], []byte{2}, data[5:]), 0, 0, 0, 0))
		}
		if !slices.Equal(enc, want) {
			t.Fatal("re-encoding differs from the accepted input")
		}
	})
}
