//go:build linux

package bpfload

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
)

// TestMapBytesText: the size named on ENOMEM and E2BIG counts every
// entry's value padded to 8 bytes, once per possible CPU for the per-CPU
// map types only, summed over the maps, in the largest unit (KiB, MiB,
// GiB) that the total reaches.
func TestMapBytesText(t *testing.T) {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	one := func(typ ebpf.MapType, valueSize, entries uint32) *ebpf.CollectionSpec {
		return &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
			"m": {Type: typ, KeySize: 4, ValueSize: valueSize, MaxEntries: entries},
		}}
	}
	suffix := fmt.Sprintf(" of values (%d possible CPUs)", cpus)
	for _, c := range []struct {
		name string
		spec *ebpf.CollectionSpec
		want string
	}{
		{"values padded to 8 bytes", one(ebpf.Array, 4, 1<<20), "8.0 MiB"},
		{"exactly 1 KiB", one(ebpf.Array, 8, 128), "1 KiB"},
		{"KiB are 1024 bytes", one(ebpf.Array, 8, 64<<10), "512 KiB"},
		{"exactly 1 MiB", one(ebpf.Array, 8, 128<<10), "1.0 MiB"},
		{"MiB are 2^20 bytes", one(ebpf.Array, 8, 192<<10), "1.5 MiB"},
		{"exactly 1 GiB", one(ebpf.Array, 8, 128<<20), "1.0 GiB"},
		{"a hash map is not per CPU", one(ebpf.Hash, 8, 128<<10), "1.0 MiB"},
		{"two maps", &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
			"a": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 128 << 10},
			"b": {Type: ebpf.Hash, KeySize: 4, ValueSize: 16, MaxEntries: 128 << 10},
		}}, "3.0 MiB"},
		{"no maps", &ebpf.CollectionSpec{}, "0 KiB"},
		// A ring buffer's MaxEntries is its size in bytes, with no values.
		{"a ring buffer", &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
			"r": {Type: ebpf.RingBuf, MaxEntries: 1 << 30},
		}}, "1.0 GiB"},
		{"a user ring buffer", &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
			"r": {Type: ebpf.UserRingbuf, MaxEntries: 1 << 20},
		}}, "1.0 MiB"},
		// A value size the kernel refuses with E2BIG, near 2^32: rounded
		// up to 8 bytes in 32 bits, it would count nothing.
		{"a value of 2^32-1 bytes", one(ebpf.Array, 1<<32-1, 1), "4.0 GiB"},
	} {
		if got, want := mapBytesText(c.spec), c.want+suffix; got != want {
			t.Errorf("%s: %q, want %q", c.name, got, want)
		}
	}
	// 1 KiB of values per CPU: cpus KiB in all.
	for _, typ := range []ebpf.MapType{ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash} {
		want := fmt.Sprintf("%d KiB", cpus) + suffix
		if cpus >= 1024 {
			want = fmt.Sprintf("%.1f MiB", float64(cpus)/1024) + suffix
		}
		if got := mapBytesText(one(typ, 8, 128)); got != want {
			t.Errorf("%v: %q, want %q (once per CPU)", typ, got, want)
		}
	}
}
