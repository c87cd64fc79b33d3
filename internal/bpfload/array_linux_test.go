//go:build linux

package bpfload_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestClearArray_Error: a range that runs past the end of the map is an
// error naming it, and nothing is cleared, not even the elements in the
// map (the kernel's own refusal would come after the batches before it).
func TestClearArray_Error(t *testing.T) {
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range uint32(4) {
		writeKey(t, m, i, []uint64{uint64(i) + 1})
	}
	for _, r := range []struct{ start, n uint32 }{{0, 6}, {3, 2}, {1, 1<<32 - 1}} {
		err = bpfload.ClearRange(m, r.start, r.n, 2)
		if want := fmt.Sprintf("clear array: elements %d to %d of a map of 4", r.start, uint64(r.start)+uint64(r.n)-1); err == nil || err.Error() != want {
			t.Errorf("clearing %d elements from %d of a 4-element map: %v, want %q", r.n, r.start, err, want)
		}
	}
	for i := range uint32(4) {
		var v uint64
		if err := m.Lookup(i, &v); err != nil || v != uint64(i)+1 {
			t.Errorf("after refused clears element %d holds %d (%v), want %d", i, v, err, i+1)
		}
	}
}

// TestHoldsPointers: ReadRange refuses value types that hold pointers
// anywhere, and only those.
func TestHoldsPointers(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want bool
	}{
		{reflect.TypeFor[uint64](), false},
		{reflect.TypeFor[[4]uint32](), false},
		{reflect.TypeFor[struct {
			A uint32
			B [2]uint64
		}](), false},
		{reflect.TypeFor[[0]*int](), false},
		{reflect.TypeFor[*uint64](), true},
		{reflect.TypeFor[unsafe.Pointer](), true},
		{reflect.TypeFor[struct {
			A uint32
			S string
		}](), true},
		{reflect.TypeFor[[2][]byte](), true},
		{reflect.TypeFor[[3]struct{ M map[int]int }](), true},
		{reflect.TypeFor[struct{ E error }](), true},
	} {
		if got := bpfload.HoldsPointers(c.typ); got != c.want {
			t.Errorf("HoldsPointers(%v) = %v, want %v", c.typ, got, c.want)
		}
	}
}

// TestClearRange: ClearRange zeroes elements start to start+n-1 and no
// others, across batches and a partial last one, in plain and per-CPU
// arrays (every CPU's copy); ClearArray is the range from 0.
func TestClearRange(t *testing.T) {
	kerneltest.Require(t)
	const entries = 12
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: entries})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		fill := func() {
			for i := range uint32(entries) {
				var v any = uint64(100 + i)
				if typ == ebpf.PerCPUArray {
					per := make([]uint64, cpus)
					for c := range per {
						per[c] = uint64(100 + i)
					}
					v = per
				}
				if err := m.Update(i, v, ebpf.UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
		}
		check := func(what string, zero func(i uint32) bool) {
			t.Helper()
			for i := range uint32(entries) {
				var vs []uint64
				if typ == ebpf.PerCPUArray {
					if err := m.Lookup(i, &vs); err != nil {
						t.Fatal(err)
					}
				} else {
					var v uint64
					if err := m.Lookup(i, &v); err != nil {
						t.Fatal(err)
					}
					vs = []uint64{v}
				}
				want := uint64(100 + i)
				if zero(i) {
					want = 0
				}
				for c, v := range vs {
					if v != want {
						t.Errorf("%v, %s: element %d (CPU %d) holds %d, want %d", typ, what, i, c, v, want)
					}
				}
			}
		}
		fill()
		if err := bpfload.ClearRange(m, 3, 7, 2); err != nil { // batches of 2, 2, 2 and 1
			t.Fatal(err)
		}
		check("ClearRange(3, 7)", func(i uint32) bool { return i >= 3 && i < 10 })
		fill()
		if err := bpfload.ClearArray(m, 5, 4); err != nil {
			t.Fatal(err)
		}
		check("ClearArray(5)", func(i uint32) bool { return i < 5 })
	}
}

// TestClearRange_SmallZeros: with a buffer of zeros smaller than one
// element (every CPU's copy), as the 4 MiB one is for a 32 KiB per-CPU
// element on more than 128 CPUs, ClearRange makes one element's zeros
// and clears exactly its range; with a buffer of three elements it clears
// in batches of three. Each buffer is followed by bytes that are not
// zero, so a batch that reads past the buffer's end shows.
func TestClearRange_SmallZeros(t *testing.T) {
	kerneltest.Require(t)
	const entries = 9
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: entries})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		cpus := 1
		if typ == ebpf.PerCPUArray {
			if cpus, err = ebpf.PossibleCPU(); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{8*cpus - 1, 3 * 8 * cpus} {
			for i := range uint32(entries) {
				vs := make([]uint64, cpus)
				for c := range vs {
					vs[c] = uint64(i) + 100
				}
				writeKey(t, m, i, vs)
			}
			buf := make([]byte, n+8*cpus*entries)
			for i := n; i < len(buf); i++ {
				buf[i] = 0xa5
			}
			if err := bpfload.ClearRangeFrom(m, 2, 6, 4, buf[:n]); err != nil {
				t.Fatal(err)
			}
			for i := range uint32(entries) {
				vs := make([]uint64, cpus)
				if typ == ebpf.PerCPUArray {
					err = m.Lookup(i, &vs)
				} else {
					err = m.Lookup(i, &vs[0])
				}
				if err != nil {
					t.Fatal(err)
				}
				for c, v := range vs {
					want := uint64(i) + 100
					if i >= 2 && i < 8 {
						want = 0
					}
					if v != want {
						t.Errorf("%v, %d bytes of zeros: element %d (CPU %d) holds %#x, want %d", typ, n, i, c, v, want)
					}
				}
			}
		}
	}
}

// TestReadRange: ReadRange hands put exactly the elements of its range, in
// order, with their values, from plain and per-CPU arrays, across batches
// and a partial last one, wherever the range starts; and refuses what it
// cannot read (a range past the map, values of the wrong size, too few
// values, no keys, a hash map) with an error before any system call.
func TestReadRange(t *testing.T) {
	kerneltest.Require(t)
	const entries = 10
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	value := func(key uint32, cpu int) uint64 { return uint64(key)*1000 + uint64(cpu) + 7 }
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		per := 1
		if typ == ebpf.PerCPUArray {
			per = cpus
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: entries})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for i := range uint32(entries) {
			vs := make([]uint64, per)
			for c := range vs {
				vs[c] = value(i, c)
			}
			writeKey(t, m, i, vs)
		}
		for _, r := range []struct{ start, n uint32 }{{0, 10}, {0, 3}, {3, 4}, {5, 5}, {9, 1}, {4, 0}, {1, 9}} {
			keys := make([]uint32, 3) // batches of 3 and a partial last one
			vals := make([]uint64, 3*per)
			next := r.start
			err := bpfload.ReadRange(m, r.start, r.n, keys, vals, func(key uint32, i int) error {
				if key != next {
					t.Errorf("%v [%d, +%d): element %d read, want %d", typ, r.start, r.n, key, next)
				}
				next = key + 1
				for c := range per {
					if got, want := vals[i*per+c], value(key, c); got != want {
						t.Errorf("%v [%d, +%d): element %d CPU %d is %d, want %d", typ, r.start, r.n, key, c, got, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("%v [%d, +%d): %v", typ, r.start, r.n, err)
			}
			if next != r.start+r.n {
				t.Errorf("%v [%d, +%d): read up to element %d, want %d", typ, r.start, r.n, next, r.start+r.n)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err = bpfload.ReadRange(m, 2, 6, make([]uint32, 4), make([]uint64, 4*per), func(key uint32, i int) error {
			calls++
			if key == 6 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 5 {
			t.Errorf("%v: put failing at element 6: %v after %d calls, want its error after 5", typ, err, calls)
		}

		never := func(uint32, int) error { t.Errorf("%v: put called on a refused read", typ); return nil }
		for _, c := range []struct {
			name string
			err  error
			want string
		}{
			{"past the end", bpfload.ReadRange(m, 8, 3, make([]uint32, 4), make([]uint64, 4*per), never), "elements 8 to 10 of a map of 10"},
			{"4-byte values", bpfload.ReadRange(m, 0, 3, make([]uint32, 4), make([]uint32, 4*per), never), "values of 4 bytes, the map's take 8"},
			{"too few values", bpfload.ReadRange(m, 0, 3, make([]uint32, 4), make([]uint64, 4*per-1), never), "values for batches of 4 keys"},
			{"no keys", bpfload.ReadRange(m, 0, 3, nil, make([]uint64, 4*per), never), "len(keys) is 0"},
			{"pointers", bpfload.ReadRange(m, 0, 3, make([]uint32, 4), make([]*uint64, 4*per), never), "values of type *uint64 hold pointers"},
		} {
			if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
				t.Errorf("%v, %s: error %v, want one containing %q", typ, c.name, c.err, c.want)
			}
		}
	}
	h, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := bpfload.ReadRange(h, 0, 1, make([]uint32, 1), make([]uint64, 1), func(uint32, int) error { return nil }); err == nil || !strings.Contains(err.Error(), "map type") {
		t.Errorf("ReadRange of a hash map: %v, want an error naming the map type", err)
	}
	kerneltest.Refused(t, "no map", "no map (nil)", map[string]func() error{
		"ReadRange":      func() error { return bpfload.ReadRange(nil, 0, 1, make([]uint32, 1), make([]uint64, 1), nil) },
		"ReadRangeWords": func() error { return bpfload.ReadRangeWords(nil, 0, 1, make([]uint32, 1), make([]uint64, 1), nil) },
		"ClearRange":     func() error { return bpfload.ClearRange(nil, 0, 1, 1) },
		"ClearArray":     func() error { return bpfload.ClearArray(nil, 1, 1) },
	})
}

// TestReadRangeWords: ReadRangeWords reads a range of values whose size is
// known only at run time into words, as the kernel lays them out: 12-byte
// values, each CPU's copy of a per-CPU element padded to 16 bytes. It
// refuses values that are not whole words and too few words, before any
// system call.
func TestReadRangeWords(t *testing.T) {
	kerneltest.Require(t)
	const entries, valueWords = 9, 3
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	value := func(key uint32, cpu, w int) uint32 { return key*1000 + uint32(cpu)*10 + uint32(w) + 1 }
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		per, stride := 1, valueWords // stride in words
		if typ == ebpf.PerCPUArray {
			per, stride = cpus, 4
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 4 * valueWords, MaxEntries: entries})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for i := range uint32(entries) {
			vs := make([][valueWords]uint32, per)
			for c := range vs {
				for w := range vs[c] {
					vs[c][w] = value(i, c, w)
				}
			}
			writeKey(t, m, i, vs)
		}
		keys := make([]uint32, 2) // batches of 2 and a partial last one
		words := make([]uint32, 2*per*stride)
		next := uint32(4)
		err = bpfload.ReadRangeWords(m, 4, 5, keys, words, func(key uint32, i int) error {
			if key != next {
				t.Errorf("%v: element %d read, want %d", typ, key, next)
			}
			next = key + 1
			for c := range per {
				for w := range valueWords {
					if got, want := words[(i*per+c)*stride+w], value(key, c, w); got != want {
						t.Errorf("%v: element %d CPU %d word %d is %d, want %d", typ, key, c, w, got, want)
					}
				}
			}
			return nil
		})
		if err != nil || next != entries {
			t.Errorf("%v: read up to element %d, want %d (error %v)", typ, next, entries, err)
		}
		never := func(uint32, int) error { t.Errorf("%v: put called on a refused read", typ); return nil }
		if typ == ebpf.Array {
			err := bpfload.ReadRangeWords(m, 0, 2, keys, make([]uint64, 8), never)
			if want := "values of 12 bytes are not a whole number of 8-byte words"; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("uint64 words of 12-byte values: %v, want %q", err, want)
			}
		}
		err = bpfload.ReadRangeWords(m, 0, 2, keys, make([]uint32, 2*per*stride-1), never)
		if want := "words for batches of 2 keys"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, too few words: %v, want one containing %q", typ, err, want)
		}
	}
}

// writeKey writes key i of m: vs[0] to a plain array, vs (one value a
// CPU) to a per-CPU one.
func writeKey[V any](t *testing.T, m *ebpf.Map, i uint32, vs []V) {
	t.Helper()
	var err error
	if len(vs) == 1 && m.Type() != ebpf.PerCPUArray {
		err = m.Update(i, vs[0], ebpf.UpdateAny)
	} else {
		err = m.Update(i, vs, ebpf.UpdateAny)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestBatchValues: the values a batch needs are counted in 64 bits, so
// that a batch whose bytes pass 2^32 never wraps to a small count that a
// small buffer would satisfy (in a 32-bit process, where an int would).
func TestBatchValues(t *testing.T) {
	for _, c := range []struct {
		keys, per, stride, size int
		want                    uint64
	}{
		{3, 2, 8, 8, 6},
		{2, 2, 16, 4, 16},
		{1 << 16, 8, 8 << 10, 1, 1 << 32}, // 4 GiB of bytes: 0 as a 32-bit int
		{1 << 16, 8, 8 << 10, 4, 1 << 30}, // as 4-byte words: 2^32 bytes wrapped before the division
		{1 << 20, 64, 64, 64, 1 << 26},    // per element: keys * CPUs
		{1<<31 - 1, 1 << 12, 8, 8, (1<<31 - 1) << 12},
	} {
		if got := bpfload.BatchValues(c.keys, c.per, c.stride, c.size); got != c.want {
			t.Errorf("batchValues(%d keys, %d CPUs, %d-byte stride, %d-byte words) = %d, want %d", c.keys, c.per, c.stride, c.size, got, c.want)
		}
	}
}
