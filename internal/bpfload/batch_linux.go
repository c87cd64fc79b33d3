package bpfload

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ReadRange reads elements start to start+n-1 of the array map m (plain
// or per-CPU), in batch lookups of up to len(keys) elements, calling put
// for each with its key and its position i in the batch: the value is
// vals[i], or vals[i*cpus : (i+1)*cpus] for a per-CPU map, with cpus the
// number of possible CPUs ([ebpf.PossibleCPU]). A put error stops the read
// and is returned.
//
// It makes the system calls itself, allocating nothing. A batch lookup
// through cilium/ebpf always starts at element 0, so a range near the end
// of a map would read everything before it too: for iblt/xdp's second
// epoch, every cell of the first, on every CPU. The kernel's batch lookup
// of an array starts after the key it is given (BPF_MAP_LOOKUP_BATCH's
// in_batch), which is what ReadRange hands it.
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
	// Pointers first: a type that holds them is refused whatever its size,
	// which differs between 32- and 64-bit hosts.
	if t := reflect.TypeFor[V](); holdsPointers(t) {
		return fmt.Errorf("read range: values of type %v hold pointers, which the kernel's bytes would forge", t)
	}
	stride := paddedValue(m)
	var v V
	if size := unsafe.Sizeof(v); size != uintptr(stride) {
		return fmt.Errorf("read range: values of %d bytes, the map's take %d", size, stride)
	}
	if want := batchValues(len(keys), per, 1, 1); uint64(len(vals)) < want {
		return fmt.Errorf("read range: %d values for batches of %d keys on %d CPUs, want at least %d", len(vals), len(keys), per, want)
	}
	return readRange(m, start, n, keys, unsafe.Pointer(unsafe.SliceData(vals)), put)
}

// ReadRangeWords is [ReadRange] for a map whose value size is known only
// at run time (a kernel's row of counters): words holds each batch's
// values as the kernel lays them out, element after element, every CPU's
// copy of a per-CPU element padded to a multiple of 8 bytes, so that
// element i's copy for CPU c starts at word (i*cpus + c) * padded / size
// (cpus is 1 for a plain array). The padded value must be a whole number
// of words, and words must hold a batch of len(keys) elements.
func ReadRangeWords[W uint32 | uint64](m *ebpf.Map, start, n uint32, keys []uint32, words []W, put func(key uint32, i int) error) error {
	per, err := copies(m, "read range")
	if err != nil {
		return err
	}
	stride := paddedValue(m)
	var w W
	size := int(unsafe.Sizeof(w))
	if stride%size != 0 {
		return fmt.Errorf("read range: values of %d bytes are not a whole number of %d-byte words", stride, size)
	}
	if want := batchValues(len(keys), per, stride, size); uint64(len(words)) < want {
		return fmt.Errorf("read range: %d words for batches of %d keys on %d CPUs, want at least %d", len(words), len(keys), per, want)
	}
	return readRange(m, start, n, keys, unsafe.Pointer(unsafe.SliceData(words)), put)
}

// batchValues returns how many values of size bytes hold a batch of keys
// elements of per copies of stride bytes (stride a multiple of size), in
// 64 bits: as an int, in a 32-bit process, the product wraps (65,536 keys
// of 8 KiB on 8 CPUs to 0), and a buffer far too small would pass.
func batchValues(keys, per, stride, size int) uint64 {
	return uint64(keys) * uint64(per) * uint64(stride) / uint64(size)
}

// holdsPointers reports whether a value of type t holds a pointer (the
// garbage collector's business) anywhere in it.
func holdsPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && holdsPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Slice, reflect.String,
		reflect.Interface, reflect.Chan, reflect.Func:
		return true
	}
	return false
}

// paddedValue is the bytes of one value of m in a batch: the value size,
// rounded up to 8 for a per-CPU map, as the kernel pads each CPU's copy.
func paddedValue(m *ebpf.Map) int {
	stride := int(m.ValueSize())
	if m.Type() == ebpf.PerCPUArray {
		stride = (stride + 7) &^ 7
	}
	return stride
}

// readRange is ReadRange once the buffer vals is checked to hold a batch
// of len(keys) values.
func readRange(m *ebpf.Map, start, n uint32, keys []uint32, vals unsafe.Pointer, put func(key uint32, i int) error) error {
	if len(keys) == 0 {
		return errors.New("read range: no room for a batch (len(keys) is 0)")
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
			values:   ptr{p: vals},
			count:    count,
		}
		errno := batchCall(unix.BPF_MAP_LOOKUP_BATCH, m, &attr)
		// ENOENT: the map ended within this batch, which a range within
		// the map only meets on its last element.
		if errno != 0 && errno != unix.ENOENT {
			return fmt.Errorf("read range: batch lookup from element %d: %w", start+done, errno)
		}
		got := attr.count
		if got == 0 || got > count {
			err := fmt.Errorf("read range: batch lookup from element %d returned %d elements, asked for %d", start+done, got, count)
			if errno != 0 {
				err = fmt.Errorf("%w: %w", err, errno)
			}
			return err
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

// copies returns how many copies of each element the array map m holds:
// one for a plain array, one per possible CPU for a per-CPU array. Another
// map type, or no map, is an error that op names.
func copies(m *ebpf.Map, op string) (int, error) {
	if m == nil {
		return 0, fmt.Errorf("%s: no map (nil)", op)
	}
	switch m.Type() {
	case ebpf.Array:
		return 1, nil
	case ebpf.PerCPUArray:
		return ebpf.PossibleCPU()
	}
	return 0, fmt.Errorf("%s: map type must be %v or %v, got %v", op, ebpf.Array, ebpf.PerCPUArray, m.Type())
}

// ClearArray zeroes elements 0 to n-1 of the array map m (plain or
// per-CPU) with batch updates of up to batch elements (BPF_MAP_UPDATE_BATCH
// from one buffer of zeros). A range past the end of m is an error before
// any batch; the error of a batch the kernel fails names its first and
// last element.
//
// One update per element would take a system call each, and cilium/ebpf's
// batch update encodes every per-CPU value through reflection: zeroing a
// per-CPU map of 52,000 56-byte cells on 2 CPUs (a FlowRadar table for
// 40,000 flows) took 93 to 121 ms that way, and 16 to 19 ms this way, in
// one run on a busy 2-core VM.
func ClearArray(m *ebpf.Map, n uint32, batch int) error {
	return ClearRange(m, 0, n, batch)
}

// zeros is the buffer ClearRange's batches write from. The kernel only
// reads it, so it stays untouched memory: a batch costs no allocation, and
// the process no memory, however often a loader clears an epoch.
var zeros [4 << 20]byte

// clearKeys is the most elements one batch of ClearRange updates (its
// keys are on the stack).
const clearKeys = 512

// ClearRange is ClearArray for elements start to start+n-1. A batch holds
// at most 512 elements and 4 MiB of zeros (every CPU's copy of an element
// counts), and at least one element; it allocates nothing unless one
// element is larger than that (32 KiB on more than 128 CPUs).
func ClearRange(m *ebpf.Map, start, n uint32, batch int) error {
	return clearRange(m, start, n, batch, zeros[:])
}

// clearRange is ClearRange writing from src, a buffer of zeros that may
// be smaller than one element (tests pass small ones to reach the path
// that allocates).
func clearRange(m *ebpf.Map, start, n uint32, batch int, src []byte) error {
	if batch < 1 {
		return fmt.Errorf("clear array: batch must be at least 1, got %d", batch)
	}
	per, err := copies(m, "clear array")
	if err != nil {
		return err
	}
	if m.KeySize() != 4 {
		return fmt.Errorf("clear array: keys of %d bytes, want 4", m.KeySize())
	}
	if n == 0 {
		return nil
	}
	if end := uint64(start) + uint64(n); end > uint64(m.MaxEntries()) {
		return fmt.Errorf("clear array: elements %d to %d of a map of %d", start, end-1, m.MaxEntries())
	}
	stride := paddedValue(m)
	if per*stride > len(src) {
		src = make([]byte, per*stride)
	}
	batch = max(1, min(batch, int(min(n, clearKeys)), len(src)/(per*stride))) // n bounded first: an int of 32 bits holds no n of 2^31 or more
	var keys [clearKeys]uint32
	for done := uint32(0); done < n; {
		count := uint32(min(uint64(batch), uint64(n-done)))
		for i := range count {
			keys[i] = start + done + i
		}
		attr := batchAttr{
			keys:   ptr{p: unsafe.Pointer(&keys[0])},
			values: ptr{p: unsafe.Pointer(&src[0])},
			count:  count,
		}
		errno := batchCall(unix.BPF_MAP_UPDATE_BATCH, m, &attr)
		if errno != 0 {
			return fmt.Errorf("clear elements %d to %d: %w", start+done, start+done+count-1, errno)
		}
		if attr.count != count {
			return fmt.Errorf("clear elements %d to %d: the kernel updated %d of them", start+done, start+done+count-1, attr.count)
		}
		done += count
	}
	return nil
}

// batchCall runs the batch command cmd on map m with attr (its map
// descriptor filled in here) and returns the system call's errno.
func batchCall(cmd uintptr, m *ebpf.Map, attr *batchAttr) unix.Errno {
	attr.mapFD = uint32(m.FD())
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
	runtime.KeepAlive(m) // its file descriptor
	return errno
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
