package bpfload

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// lookupWord returns element key of m, an array whose keys and values are
// four bytes. It makes the system call itself: cilium/ebpf's Lookup
// allocates (the key and value it marshals), and a loader's FlipInto,
// which reads the epoch, flips it and waits, should not.
func lookupWord(m *ebpf.Map, key uint32) (uint32, error) {
	if err := wordMap(m, "lookup", false); err != nil {
		return 0, err
	}
	var v uint32
	attr := elemAttr{key: ptr{p: unsafe.Pointer(&key)}, value: ptr{p: unsafe.Pointer(&v)}}
	if errno := elemCall(unix.BPF_MAP_LOOKUP_ELEM, m, &attr); errno != 0 {
		return 0, fmt.Errorf("lookup element %d: %w", key, errno)
	}
	return v, nil
}

// updateWord sets element key of m, an array (of maps, or not) whose keys
// and values are four bytes, to value (for an array of maps, a map's file
// descriptor), with one system call and no allocation (see lookupWord).
func updateWord(m *ebpf.Map, key, value uint32) error {
	if err := wordMap(m, "update", true); err != nil {
		return err
	}
	attr := elemAttr{key: ptr{p: unsafe.Pointer(&key)}, value: ptr{p: unsafe.Pointer(&value)}, flags: unix.BPF_ANY}
	if errno := elemCall(unix.BPF_MAP_UPDATE_ELEM, m, &attr); errno != 0 {
		return fmt.Errorf("update element %d: %w", key, errno)
	}
	return nil
}

// elemCall runs the element command cmd on map m with attr (its map
// descriptor filled in here) and returns the system call's errno.
func elemCall(cmd uintptr, m *ebpf.Map, attr *elemAttr) unix.Errno {
	attr.mapFD = uint32(m.FD())
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
	runtime.KeepAlive(m) // its file descriptor
	return errno
}

// elemAttr is union bpf_attr's member for the BPF_MAP_*_ELEM commands:
// the map's descriptor, then the addresses of the key and of the value,
// then the flags.
type elemAttr struct {
	mapFD      uint32
	_          uint32
	key, value ptr
	flags      uint64
}

// The kernel's element attributes are 32 bytes, the key's address at
// offset 8: a build on a host where elemAttr differs fails here.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(elemAttr{})-32]
	_ = [1]struct{}{}[unsafe.Offsetof(elemAttr{}.key)-8]
)

// perCPUStack is how many CPUs' values [SumPerCPU] reads into a buffer on
// its stack; on a host with more possible CPUs it allocates one.
const perCPUStack = 512

// SumPerCPU reads slots 0 to len(sums)-1 of the per-CPU array m (a
// kernel's statistics: one __u64 per slot and CPU) and stores each slot
// summed over the CPUs in sums. It makes the system calls itself, one a
// slot, and allocates nothing on a host of up to 512 possible CPUs, so
// that a loader's Stats does not (cilium/ebpf's Lookup allocates the
// values it unmarshals).
//
// It reads the last slot first. The kernels count a packet's parse outcome
// (slots 0 to 3) before what follows from it (later slots: drops, events),
// so reading backwards under traffic never sees a later count ahead of the
// earlier one it follows (a cms detector's drops above its parsed packets,
// which made N wrap). On an error, sums holds the slots read until then.
func SumPerCPU(m *ebpf.Map, sums []uint64) error { return foldPerCPU(m, sums, false) }

// XorPerCPU is [SumPerCPU] for slots that the CPUs fill with XOR (a
// digest): it stores each slot's values XORed together in xors.
func XorPerCPU(m *ebpf.Map, xors []uint64) error { return foldPerCPU(m, xors, true) }

// foldPerCPU reads slots len(dst)-1 down to 0 of the per-CPU array m, of
// __u64 values, and stores in dst each slot's values summed over the CPUs,
// or XORed together if xor. (A fold function as a parameter would make
// the values' buffer escape to the heap.)
func foldPerCPU(m *ebpf.Map, dst []uint64, xor bool) error {
	switch {
	case m == nil:
		return errors.New("read per-CPU slots: no map (nil)")
	case m.Type() != ebpf.PerCPUArray:
		return fmt.Errorf("read per-CPU slots: map type must be %v, got %v", ebpf.PerCPUArray, m.Type())
	case m.KeySize() != 4 || m.ValueSize() != 8:
		return fmt.Errorf("read per-CPU slots: keys and values must be 4 and 8 bytes, got %d and %d", m.KeySize(), m.ValueSize())
	case uint64(len(dst)) > uint64(m.MaxEntries()):
		return fmt.Errorf("read per-CPU slots: %d slots asked of a map of %d", len(dst), m.MaxEntries())
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("read per-CPU slots: %w", err)
	}
	var stack [perCPUStack]uint64
	per := stack[:]
	if cpus > len(stack) {
		per = make([]uint64, cpus)
	}
	per = per[:cpus]
	for i := len(dst) - 1; i >= 0; i-- {
		key := uint32(i)
		attr := elemAttr{key: ptr{p: unsafe.Pointer(&key)}, value: ptr{p: unsafe.Pointer(&per[0])}}
		if errno := elemCall(unix.BPF_MAP_LOOKUP_ELEM, m, &attr); errno != 0 {
			return fmt.Errorf("slot %d: %w", i, errno)
		}
		var v uint64
		for _, x := range per {
			if xor {
				v ^= x
			} else {
				v += x
			}
		}
		dst[i] = v
	}
	return nil
}
