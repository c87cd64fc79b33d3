package bpfload

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// CheckEpoch returns an error naming kernel unless epoch is 0 or 1, the
// epochs of a double-buffered kernel.
func CheckEpoch(kernel string, epoch int) error {
	if epoch != 0 && epoch != 1 {
		return fmt.Errorf("%s kernel: epoch must be 0 or 1, got %d", kernel, epoch)
	}
	return nil
}

// ReadEpoch returns the epoch, 0 or 1, that a double-buffered kernel
// writes: the low bit of element 0 of the one-entry array m.
func ReadEpoch(kernel string, m *ebpf.Map) (int, error) {
	e, err := lookupWord(m, 0)
	if err != nil {
		return 0, fmt.Errorf("%s kernel: read epoch: %w", kernel, err)
	}
	return int(e & 1), nil
}

// EndEpoch ends the epoch a double-buffered kernel writes (the flowradar
// and iblt kernels): it clears the other epoch with clear, points the
// kernel at it by one update of m, and waits with w until every program
// run that began before has ended, so that the returned epoch, the one
// that ended, holds every packet it will ever hold and can be read whole.
// A failed clear is returned as clear returned it, with the kernel still
// on the same epoch; after the switch, a failed wait is an error saying
// that the epoch has ended and that Read reads it until the next Flip.
func EndEpoch(kernel string, m *ebpf.Map, w *Waiter, clear func(epoch int) error) (int, error) {
	e, err := ReadEpoch(kernel, m)
	if err != nil {
		return 0, err
	}
	if err := clear(1 - e); err != nil {
		return 0, err
	}
	if err := updateWord(m, 0, uint32(1-e)); err != nil {
		return 0, fmt.Errorf("%s kernel: flip epoch: %w", kernel, err)
	}
	if err := w.Wait(); err != nil {
		return 0, fmt.Errorf("%s kernel: epoch %d ended, but its last packets may still be being written (Read(%d) reads it until the next Flip): %w", kernel, e, e, err)
	}
	return e, nil
}

// EndedReadError is the error of a Flip whose epoch e ended (EndEpoch
// returned it) but whose read of it failed with err: it says that the
// epoch has ended and that Read reads it until the next Flip.
func EndedReadError(kernel string, e int, err error) error {
	return fmt.Errorf("%s kernel: epoch %d ended, but reading it failed (Read(%d) reads it until the next Flip): %w", kernel, e, e, err)
}

// wordMap returns an error unless m is an array (or, with ofMaps, an
// array of maps, whose values a lookup would read as map IDs) with keys
// and values of four bytes: the kernel copies a value of the map's size,
// and a per-CPU value is one for each CPU, into or out of a four-byte
// variable. op names the operation in the error.
func wordMap(m *ebpf.Map, op string, ofMaps bool) error {
	if m == nil {
		return fmt.Errorf("%s element: no map (nil)", op)
	}
	switch t := m.Type(); {
	case t == ebpf.ArrayOfMaps && !ofMaps:
		return fmt.Errorf("%s element: map type must be %v, got %v", op, ebpf.Array, t)
	case t != ebpf.Array && t != ebpf.ArrayOfMaps:
		if ofMaps {
			return fmt.Errorf("%s element: map type must be %v or %v, got %v", op, ebpf.Array, ebpf.ArrayOfMaps, t)
		}
		return fmt.Errorf("%s element: map type must be %v, got %v", op, ebpf.Array, t)
	}
	if m.KeySize() != 4 || m.ValueSize() != 4 {
		return fmt.Errorf("%s element: keys and values must be 4 bytes, got %d and %d", op, m.KeySize(), m.ValueSize())
	}
	return nil
}
