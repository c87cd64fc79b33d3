//go:build linux && !(386 || arm || mips || mipsle)

package bpfload

import "unsafe"

// ptr is a pointer in a 64-bit field of a system call's attributes (the
// kernel's __aligned_u64), on a 64-bit host.
type ptr struct{ p unsafe.Pointer }
