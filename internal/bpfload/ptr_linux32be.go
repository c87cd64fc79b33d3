//go:build linux && mips

package bpfload

import "unsafe"

// ptr is a pointer in a 64-bit field of a system call's attributes (the
// kernel's __aligned_u64): on a 32-bit big-endian host, four zero bytes,
// then the pointer's four bytes.
type ptr struct {
	_ uint32
	p unsafe.Pointer
}
