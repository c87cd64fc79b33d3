//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/iblt"
)

// Kernel is the loaded digest kernel; it exists only on Linux.
type Kernel struct{}

// Load checks the options as on Linux and returns their error, if any;
// otherwise an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load iblt kernel: %w", ebpf.ErrNotSupported)
}

// Unpin returns an error matching [ebpf.ErrNotSupported]: pins are
// Linux's.
func Unpin(dir string) error {
	return fmt.Errorf("iblt kernel: unpin: %w", ebpf.ErrNotSupported)
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

// Epoch returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Epoch() (int, error) {
	return 0, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Read returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Read(epoch int) (*iblt.Table, error) {
	return nil, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// ReadInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ReadInto(epoch int, t *iblt.Table) error {
	return fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// FlipInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) FlipInto(t *iblt.Table) error {
	return fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Clear returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Clear(epoch int) error { return fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported) }

// Flip returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Flip() (*iblt.Table, error) {
	return nil, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }

// Spec returns an error matching [ebpf.ErrNotSupported]: the kernel's
// object is built for Linux only.
func Spec() (*ebpf.CollectionSpec, error) {
	return nil, fmt.Errorf("iblt kernel: spec: %w", ebpf.ErrNotSupported)
}

// Configure checks the options as on Linux and returns their error, if
// any; otherwise an error matching [ebpf.ErrNotSupported], since there is
// no spec to set them on.
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	return fmt.Errorf("iblt kernel: configure: %w", ebpf.ErrNotSupported)
}

// Attach returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	return nil, fmt.Errorf("iblt kernel: %w", ebpf.ErrNotSupported)
}
