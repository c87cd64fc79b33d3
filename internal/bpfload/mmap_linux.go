package bpfload

import (
	"errors"
	"fmt"
	"math"
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
//
// A map larger than the address space can hold (above 2 GiB in a 32-bit
// process) is an error naming its size: an int of the size would wrap,
// and a size wrapped past 4 GiB would map only the map's first bytes.
func Mmap(m *ebpf.Map) ([]byte, error) {
	if m == nil {
		return nil, errors.New("map into memory: no map (nil)")
	}
	if m.Type() != ebpf.Array || m.Flags()&unix.BPF_F_MMAPABLE == 0 {
		return nil, fmt.Errorf("map %s is not a memory-mappable array", m)
	}
	size, ok := mmapSize(m.ValueSize(), m.MaxEntries(), os.Getpagesize(), math.MaxInt)
	if !ok {
		return nil, fmt.Errorf("map %s into memory: its %d elements of %d bytes take %d bytes, more than this process can map (%d)",
			m, m.MaxEntries(), m.ValueSize(), size, math.MaxInt)
	}
	b, err := unix.Mmap(m.FD(), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s into memory: %w", m, err)
	}
	return b, nil
}

// mmapSize returns the bytes of a mapping of an array of entries values
// of valueSize bytes, each padded to 8 bytes, rounded up to a page, and
// whether they are at most limit (math.MaxInt: what an int, the length of
// the mapping, holds).
func mmapSize(valueSize, entries uint32, page int, limit uint64) (uint64, bool) {
	size := (uint64(valueSize) + 7) &^ 7 * uint64(entries) // at most 2^32 * (2^32-1): no wrap
	p := uint64(page)
	size = (size + p - 1) / p * p
	return size, size <= limit
}

// Munmap releases a mapping made by [Mmap]; a nil b is nothing to release.
func Munmap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}
