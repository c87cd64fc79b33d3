//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
)

// Kernel is the loaded bloom kernel; it exists only on Linux.
type Kernel struct{}

// Load checks opts as on Linux and returns their error, if any; otherwise
// an error matching [ebpf.ErrNotSupported]: the kernel runs on Linux only.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load bloom kernel: %w", ebpf.ErrNotSupported)
}

// Unpin returns an error matching [ebpf.ErrNotSupported]: pins are
// Linux's.
func Unpin(dir string) error {
	return fmt.Errorf("bloom kernel: unpin: %w", ebpf.ErrNotSupported)
}

// Spec returns an error matching [ebpf.ErrNotSupported]: the kernel's
// object is built for Linux only.
func Spec() (*ebpf.CollectionSpec, error) {
	return nil, fmt.Errorf("bloom kernel: spec: %w", ebpf.ErrNotSupported)
}

// Configure checks opts as on Linux and returns their error, if any;
// otherwise an error matching [ebpf.ErrNotSupported], since there is no
// spec to set them on.
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	return fmt.Errorf("bloom kernel: configure: %w", ebpf.ErrNotSupported)
}

// Attach returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	return nil, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Run returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Run(frame []byte) (uint32, error) {
	return 0, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Bench returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	return 0, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// WriteFilter returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) WriteFilter(f *bloom.Filter) error {
	return fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// WriteBlocked returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) WriteBlocked(f *bloom.Blocked) error {
	return fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Filter returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Filter() (*bloom.Filter, error) {
	return nil, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Blocked returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Blocked() (*bloom.Blocked, error) {
	return nil, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// ResetStats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ResetStats() error {
	return fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("bloom kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }
