package bpfload

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Mmap maps the values of m, an array map created with BPF_F_MMAPABLE,
// read-write and shared with the kernel: the elements in order, each
// padded to 8 bytes, the whole rounded up to a page. Release it with
// [Munmap] when the kernel closes.
//
// The mapping holds a reference to the map. cilium/ebpf's Map.Memory
// releases its mapping only when the garbage collector finds it
// unreachable, and the Map keeps it reachable even after Close, so a
// closed kernel that was still referenced kept its map (a filter of up to
// 512 MiB, counters of up to 1 GiB) alive; this mapping is released when
// the loader says so.
func Mmap(m *ebpf.Map) ([]byte, error) {
	if m.Type() != ebpf.Array || m.Flags()&unix.BPF_F_MMAPABLE == 0 {
		return nil, fmt.Errorf("map %s is not a memory-mappable array", m)
	}
	size := (uint64(m.ValueSize()) + 7) &^ 7 * uint64(m.MaxEntries())
	page := uint64(os.Getpagesize())
	size = (size + page - 1) / page * page
	b, err := unix.Mmap(m.FD(), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s into memory: %w", m, err)
	}
	return b, nil
}

// Munmap releases a mapping made by [Mmap]; a nil b is nothing to release.
func Munmap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}
