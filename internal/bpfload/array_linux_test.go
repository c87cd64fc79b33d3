//go:build linux

package bpfload_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestReadArray: ReadArray hands put every element of the array once,
// with its key and its position in the batch, across batches and a
// partial last one; put's error stops the read and is returned, and so is
// a batch lookup's error.
func TestReadArray(t *testing.T) {
	kerneltest.Require(t)
	const entries = 10
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: entries})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range uint32(entries) {
		if err := m.Update(i, 1000+i*7, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	keys := make([]uint32, 3) // batches of 3, 3, 3 and 1
	vals := make([]uint32, 3)
	got := map[uint32]uint32{}
	err = bpfload.ReadArray(m, keys, vals, func(key uint32, i int) error {
		if _, dup := got[key]; dup {
			t.Errorf("element %d read twice", key)
		}
		got[key] = vals[i]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != entries {
		t.Errorf("%d elements read, want %d", len(got), entries)
	}
	for i := range uint32(entries) {
		if v, ok := got[i]; !ok || v != 1000+i*7 {
			t.Errorf("element %d: %d (read %v), want %d", i, v, ok, 1000+i*7)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err = bpfload.ReadArray(m, keys, vals, func(key uint32, i int) error {
		calls++
		if key == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 5 {
		t.Errorf("put failing at element 4: %v after %d calls, want its error after 5", err, calls)
	}

	// Fewer values than keys: the batch lookup itself fails.
	err = bpfload.ReadArray(m, keys, vals[:1], func(uint32, int) error { return nil })
	if err == nil {
		t.Error("ReadArray with fewer values than keys: no error")
	}
}

// TestClearArray_Error: a batch the kernel refuses (here elements past the
// end of the map) is an error naming the batch's first and last element.
func TestClearArray_Error(t *testing.T) {
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = bpfload.ClearArray[uint64](m, 6, 4)
	if err == nil || !strings.HasPrefix(err.Error(), "clear elements 4 to 5: ") {
		t.Errorf("clearing 6 elements of a 4-element map: %v, want an error naming elements 4 to 5", err)
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
		if err := bpfload.ClearRange[uint64](m, 3, 7, 2); err != nil { // batches of 2, 2, 2 and 1
			t.Fatal(err)
		}
		check("ClearRange(3, 7)", func(i uint32) bool { return i >= 3 && i < 10 })
		fill()
		if err := bpfload.ClearArray[uint64](m, 5, 4); err != nil {
			t.Fatal(err)
		}
		check("ClearArray(5)", func(i uint32) bool { return i < 5 })
	}
}
