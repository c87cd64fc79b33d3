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
