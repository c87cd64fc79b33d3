package bpfload

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ReadRange is [ReadArray] for elements start to start+n-1 of the array
// map m: it reads those elements alone, in batches of up to len(keys),
// calling put for each with its key and its position i in the batch (the
// value is vals[i], or vals[i*cpus : (i+1)*cpus] for a per-CPU map).
//
// A batch lookup through cilium/ebpf always starts at element 0, so a
// range near the end of a map would read everything before it too: for
// iblt/xdp's second epoch, every cell of the first, on every CPU. The
// kernel's batch lookup of an array starts after the key it is given
// (BPF_MAP_LOOKUP_BATCH's in_batch), which is what ReadRange hands it.
//
// V must be the element's memory layout: as many bytes as the map's value
// (rounded up to 8 for a per-CPU map, as the kernel pads each CPU's copy)
// and no pointers; vals must hold len(keys) elements, times the number of
// possible CPUs for a per-CPU map. Anything else is an error naming the
// sizes, before any system call.
func ReadRange[V any](m *ebpf.Map, start, n uint32, keys []uint32, vals []V, put func(key uint32, i int) error) error {
	per, err := copies(m, "read range")
	if err != nil {
		return err
	}
	stride := m.ValueSize()
	if m.Type() == ebpf.PerCPUArray {
		stride = (stride + 7) &^ 7 // the kernel pads each CPU's copy
	}
	var v V
	if size := unsafe.Sizeof(v); size != uintptr(stride) {
		return fmt.Errorf("read range: values of %d bytes, the map's take %d", size, stride)
	}
	if len(keys) == 0 {
		return errors.New("read range: no room for a batch (len(keys) is 0)")
	}
	if len(vals) < len(keys)*per {
		return fmt.Errorf("read range: %d values for batches of %d keys on %d CPUs, want at least %d", len(vals), len(keys), per, len(keys)*per)
	}
	if m.KeySize() != 4 {
		return fmt.Errorf("read range: keys of %d bytes, want 4", m.KeySize())
	}
	if end := uint64(start) + uint64(n); end > uint64(m.MaxEntries()) {
		return fmt.Errorf("read range: elements %d to %d of a map of %d", start, end-1, m.MaxEntries())
	}
	// The batch cursors: the key before the batch (none: from element 0)
	// and the last key the batch read.
	var in, out uint32
	var inPtr unsafe.Pointer
	if start > 0 {
		in, inPtr = start-1, unsafe.Pointer(&in)
	}
	for done := uint32(0); done < n; {
		count := uint32(min(uint64(len(keys)), uint64(n-done)))
		attr := batchAttr{
			inBatch:  ptr{p: inPtr},
			outBatch: ptr{p: unsafe.Pointer(&out)},
			keys:     ptr{p: unsafe.Pointer(&keys[0])},
			values:   ptr{p: unsafe.Pointer(&vals[0])},
			count:    count,
			mapFD:    uint32(m.FD()),
		}
		_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_LOOKUP_BATCH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(m) // its file descriptor
		// ENOENT: the map ended within this batch, which a range within
		// the map only meets on its last element.
		if errno != 0 && errno != unix.ENOENT {
			return fmt.Errorf("read range: batch lookup after element %d: %w", int64(start)+int64(done)-1, errno)
		}
		got := attr.count
		if got == 0 || got > count {
			return fmt.Errorf("read range: batch lookup after element %d returned %d elements, asked for %d", int64(start)+int64(done)-1, got, count)
		}
		for i := range int(got) {
			if err := put(keys[i], i); err != nil {
				return err
			}
		}
		done += got
		in, inPtr = out, unsafe.Pointer(&in)
	}
	return nil
}

// batchAttr is union bpf_attr's member for the BPF_MAP_*_BATCH commands.
// Its addresses are pointers, not integers, so that the buffers they point
// to stay alive, and move with the goroutine's stack if they live there,
// until the system call.
type batchAttr struct {
	inBatch, outBatch, keys, values ptr
	count, mapFD                    uint32
	elemFlags, flags                uint64
}

// The kernel's batch attributes are 56 bytes: a build on a host where
// batchAttr is not fails here.
var _ = [1]struct{}{}[unsafe.Sizeof(batchAttr{})-56]
