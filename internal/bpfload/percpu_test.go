//go:build linux

package bpfload_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestSumPerCPU: every slot is the sum of its CPUs' values, and a slot
// beyond the map is an error.
func TestSumPerCPU(t *testing.T) {
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint64, 3)
	for slot := range uint32(3) {
		per := make([]uint64, cpus)
		for c := range per {
			per[c] = uint64(slot+1)*1000 + uint64(c)
			want[slot] += per[c]
		}
		if err := m.Update(slot, per, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	got, err := bpfload.SumPerCPU(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slot %d: %d, want %d (%d CPUs)", i, got[i], want[i], cpus)
		}
	}
	if _, err := bpfload.SumPerCPU(m, 4); err == nil {
		t.Fatal("slot 3 of a 3-slot map read without an error")
	}
}

// TestClearArray: ClearArray zeroes elements 0 to n-1 of plain and
// per-CPU arrays, on every CPU, across batch boundaries, and leaves the
// elements past n as they were; other map types and a batch below 1 are
// errors.
func TestClearArray(t *testing.T) {
	kerneltest.Require(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	type val struct{ A, B uint64 }
	const entries, n = 10, 7
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		for _, batch := range []int{1, 3, 7, 100} {
			m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 16, MaxEntries: entries})
			if err != nil {
				t.Fatal(err)
			}
			per := 1
			if typ == ebpf.PerCPUArray {
				per = cpus
			}
			fill := func(i uint32) []val {
				v := make([]val, per)
				for c := range v {
					v[c] = val{uint64(i) + 1, uint64(c) + 1}
				}
				return v
			}
			for i := range uint32(entries) {
				var err error
				if per == 1 {
					err = m.Update(i, fill(i)[0], ebpf.UpdateAny)
				} else {
					err = m.Update(i, fill(i), ebpf.UpdateAny)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := bpfload.ClearArray(m, n, batch); err != nil {
				t.Fatalf("%v, batch %d: %v", typ, batch, err)
			}
			for i := range uint32(entries) {
				got := make([]val, per)
				var err error
				if per == 1 {
					err = m.Lookup(i, &got[0])
				} else {
					err = m.Lookup(i, &got)
				}
				if err != nil {
					t.Fatal(err)
				}
				for c, v := range got {
					want := val{}
					if i >= n {
						want = fill(i)[c]
					}
					if v != want {
						t.Fatalf("%v, batch %d: element %d CPU %d is %+v, want %+v", typ, batch, i, c, v, want)
					}
				}
			}
			m.Close()
		}
	}
	h, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := bpfload.ClearArray(h, 4, 2); err == nil {
		t.Error("ClearArray of a hash map: no error")
	}
	a, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := bpfload.ClearArray(a, 4, 0); err == nil {
		t.Error("ClearArray with batch 0: no error")
	}
	if err := bpfload.ClearArray(a, 0, 8); err != nil {
		t.Errorf("ClearArray of no elements: %v", err)
	}
}
