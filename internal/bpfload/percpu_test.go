//go:build linux

package bpfload_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// statsMap returns a per-CPU array of n __u64 slots, like the kernels'
// statistics, closed when t ends, and the number of possible CPUs.
func statsMap(t *testing.T, n uint32) (*ebpf.Map, int) {
	t.Helper()
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	return m, cpus
}

// TestSumPerCPU: every slot is the sum (XorPerCPU: the XOR) of its CPUs'
// values, read with no allocation; a map of another type or value size,
// slots beyond the map and a nil map are errors that say so.
func TestSumPerCPU(t *testing.T) {
	m, cpus := statsMap(t, 3)
	var sum, xor [3]uint64
	for slot := range uint32(3) {
		per := make([]uint64, cpus)
		for c := range per {
			per[c] = uint64(slot+1)<<40 | uint64(c+1)*0x1111 // distinct sums and XORs
			sum[slot] += per[c]
			xor[slot] ^= per[c]
		}
		if err := m.Update(slot, per, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	var got [3]uint64
	if err := bpfload.SumPerCPU(m, got[:]); err != nil || got != sum {
		t.Fatalf("SumPerCPU: %v (%v), want %v (%d CPUs)", got, err, sum, cpus)
	}
	if err := bpfload.XorPerCPU(m, got[:]); err != nil || got != xor {
		t.Fatalf("XorPerCPU: %v (%v), want %v (%d CPUs)", got, err, xor, cpus)
	}
	var two [2]uint64
	if err := bpfload.SumPerCPU(m, two[:]); err != nil || two != [2]uint64{sum[0], sum[1]} {
		t.Fatalf("SumPerCPU of two slots: %v (%v), want %v", two, err, sum[:2])
	}
	kerneltest.NoAllocs(t, "SumPerCPU", func() error { return bpfload.SumPerCPU(m, got[:]) })
	kerneltest.NoAllocs(t, "XorPerCPU", func() error { return bpfload.XorPerCPU(m, got[:]) })

	plain, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	wide, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 16, MaxEntries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()
	var four [4]uint64
	for _, c := range []struct {
		name string
		m    *ebpf.Map
		dst  []uint64
		want string
	}{
		{"nil map", nil, got[:], "no map (nil)"},
		{"array", plain, got[:], "map type must be PerCPUArray, got Array"},
		{"16-byte values", wide, got[:], "keys and values must be 4 and 8 bytes, got 4 and 16"},
		{"four slots", m, four[:], "4 slots asked of a map of 3"},
	} {
		four = [4]uint64{9, 9, 9, 9}
		kerneltest.Refused(t, c.name, c.want, map[string]func() error{
			"SumPerCPU": func() error { return bpfload.SumPerCPU(c.m, c.dst) },
			"XorPerCPU": func() error { return bpfload.XorPerCPU(c.m, c.dst) },
		})
		if four != [4]uint64{9, 9, 9, 9} {
			t.Errorf("%s: a refused read wrote %v", c.name, four)
		}
	}
}

// TestSumPerCPU_LastSlotFirst: a writer that raises slot 0 before slot 1,
// as the kernels count a packet's outcome before what follows from it,
// never shows a reader slot 1 above slot 0, because SumPerCPU reads slot
// 1 first. (Read in the other order, slot 1 overtakes slot 0 within a
// few hundred reads on a machine with two CPUs.)
func TestSumPerCPU_LastSlotFirst(t *testing.T) {
	m, cpus := statsMap(t, 2)
	stop, wrote := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		per := make([]uint64, cpus) // the count on CPU 0 alone: no torn sum
		for v := uint64(1); ; v++ {
			if v == 2 {
				close(wrote)
			}
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			per[0] = v
			for slot := range uint32(2) {
				if err := m.Update(slot, per, ebpf.UpdateAny); err != nil {
					done <- err
					return
				}
			}
		}
	}()
	select { // the writer's first count, or its error
	case <-wrote:
	case err := <-done:
		t.Fatal(err)
	}
	var got [2]uint64
	if err := bpfload.SumPerCPU(m, got[:]); err != nil {
		t.Fatal(err)
	}
	first := got[0]
	for i := 0; i < 20_000; i++ {
		if err := bpfload.SumPerCPU(m, got[:]); err != nil {
			t.Fatal(err)
		}
		if got[1] > got[0] {
			t.Errorf("read %d: slot 1 at %d, above slot 0 at %d, which the writer raises first", i, got[1], got[0])
			break
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got[0] == first {
		t.Fatalf("the writer wrote nothing while the reads ran (slot 0 stayed at %d): the test proves nothing", first)
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
