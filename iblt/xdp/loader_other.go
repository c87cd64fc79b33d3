//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/iblt"
)

// Kernel is the loaded digest kernel; it exists only on Linux.
type Kernel struct{}

// Load returns an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(opts Options) (*Kernel, error) {
	return nil, fmt.Errorf("load iblt kernel: %w", ebpf.ErrNotSupported)
}

// Run returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Run(frame []byte) (uint32, error) {
	return 0, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Bench returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	return 0, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Table returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Table() (*iblt.Table, error) {
	return nil, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Reset returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Reset() error { return fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported) }

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }
