//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Kernel is the loaded flow kernel; it exists only on Linux.
type Kernel struct{}

// Load checks the options as on Linux and returns their error, if any;
// otherwise an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load flow kernel: %w", ebpf.ErrNotSupported)
}

// ResetStats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ResetStats() error {
	return fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }

// Spec returns an error matching [ebpf.ErrNotSupported]: the kernel's
// object is built for Linux only.
func Spec() (*ebpf.CollectionSpec, error) {
	return nil, fmt.Errorf("flow kernel: spec: %w", ebpf.ErrNotSupported)
}

// Configure checks the options as on Linux and returns their error, if
// any; otherwise an error matching [ebpf.ErrNotSupported], since there is
// no spec to set them on.
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	return fmt.Errorf("flow kernel: configure: %w", ebpf.ErrNotSupported)
}

// Run returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Run(frame []byte) (uint32, error) {
	return 0, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// Bench returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	return 0, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// Attach returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	return nil, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}

// NextEvent returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) NextEvent(wait time.Duration) (Event, error) {
	return Event{}, fmt.Errorf("flow kernel: %w", ebpf.ErrNotSupported)
}
