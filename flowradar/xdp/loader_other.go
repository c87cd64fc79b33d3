//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/flowradar"
)

// Kernel is the loaded encoder; it exists only on Linux.
type Kernel struct{}

// Load checks the options as on Linux and returns their error, if any;
// otherwise an error matching [ebpf.ErrNotSupported]: the kernel runs on
// Linux only.
func Load(o Options) (*Kernel, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Unpin returns an error matching [ebpf.ErrNotSupported]: pins are
// Linux's.
func Unpin(dir string) error {
	return fmt.Errorf("flowradar kernel: unpin: %w", ebpf.ErrNotSupported)
}

// Program returns nil: there is no program outside Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }

// Options returns the zero Options.
func (k *Kernel) Options() Options { return Options{} }

// Params returns the zero Params.
func (k *Kernel) Params() flowradar.Params { return flowradar.Params{} }

// Epoch returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Epoch() (int, error) {
	return 0, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Read returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Read(epoch int) (*flowradar.Table, error) {
	return nil, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// ReadInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ReadInto(epoch int, t *flowradar.Table) error {
	return fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// FlipInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) FlipInto(t *flowradar.Table) error {
	return fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// FlipCPUs returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) FlipCPUs() ([]*flowradar.Table, error) {
	return nil, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// ReadCPUs returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ReadCPUs(epoch int) ([]*flowradar.Table, error) {
	return nil, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Clear returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Clear(epoch int) error {
	return fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Flip returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Flip() (*flowradar.Table, error) {
	return nil, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// ResetStats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ResetStats() error {
	return fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Spec returns an error matching [ebpf.ErrNotSupported]: the kernel's
// object is built for Linux only.
func Spec() (*ebpf.CollectionSpec, error) {
	return nil, fmt.Errorf("flowradar kernel: spec: %w", ebpf.ErrNotSupported)
}

// Configure checks the options as on Linux and returns their error, if
// any; otherwise an error matching [ebpf.ErrNotSupported], since there is
// no spec to set them on.
func Configure(spec *ebpf.CollectionSpec, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return fmt.Errorf("flowradar kernel: configure: %w", ebpf.ErrNotSupported)
}

// Run returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Run(frame []byte) (uint32, error) {
	return 0, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Bench returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	return 0, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}

// Attach returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	return nil, fmt.Errorf("flowradar kernel: %w", ebpf.ErrNotSupported)
}
