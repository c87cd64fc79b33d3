//go:build linux

package bpfload

import "github.com/cilium/ebpf"

// ClearRangeFrom is ClearRange writing from src instead of its 4 MiB of
// zeros.
func ClearRangeFrom(m *ebpf.Map, start, n uint32, batch int, src []byte) error {
	return clearRange(m, start, n, batch, src)
}

// UpdateWord is updateWord, which EndEpoch reaches only after a
// lookupWord that refuses the same maps.
var UpdateWord = updateWord

// HoldsPointers is holdsPointers, ReadRange's test of its value type.
var HoldsPointers = holdsPointers

// BatchValues is batchValues, ReadRange's bound on its buffer.
var BatchValues = batchValues
