//go:build !linux

package xdp

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
)

// Kernel is the loaded cms kernel; it exists only on Linux.
type Kernel struct{}

// Load returns an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(opts Options) (*Kernel, error) {
	return nil, fmt.Errorf("load cms kernel: %w", ebpf.ErrNotSupported)
}

// Sketch returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Sketch() (*cms.Sketch, error) {
	return nil, fmt.Errorf("cms kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("cms kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }
