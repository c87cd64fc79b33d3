//go:build linux && (386 || arm || mipsle)

package bpfload

import "unsafe"

// ptr is a pointer in a 64-bit field of a system call's attributes (the
// kernel's __aligned_u64): on a 32-bit little-endian host, the pointer's
// four bytes, then four zero bytes.
type ptr struct {
	p unsafe.Pointer
	_ uint32
}
