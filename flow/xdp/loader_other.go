//go:build !linux

package xdp

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Kernel is the loaded flow kernel; it exists only on Linux.
type Kernel struct{}

// Load returns an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(opts Options) (*Kernel, error) {
	return nil, fmt.Errorf("load flow kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }
