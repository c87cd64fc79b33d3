package bpfload

import (
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
