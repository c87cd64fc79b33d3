//go:build !linux

package xdp

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/maglev"
)

// LB is the loaded load balancer; it exists only on Linux.
type LB struct{}

// Load checks opts as on Linux and returns their error, if any; otherwise
// an error matching [ebpf.ErrNotSupported]: the kernel runs on Linux only.
func Load(opts Options) (*LB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load maglev kernel: %w", ebpf.ErrNotSupported)
}

// SetConfig returns an error matching [ebpf.ErrNotSupported].
func (lb *LB) SetConfig(c Config) error {
	return fmt.Errorf("maglev kernel: %w", ebpf.ErrNotSupported)
}

// SetVIP returns an error matching [ebpf.ErrNotSupported].
func (lb *LB) SetVIP(v VIP, backends []Backend) (*maglev.Table, error) {
	return nil, fmt.Errorf("maglev kernel: %w", ebpf.ErrNotSupported)
}

// Stats returns an error matching [ebpf.ErrNotSupported].
func (lb *LB) Stats() (Stats, error) {
	return Stats{}, fmt.Errorf("maglev kernel: %w", ebpf.ErrNotSupported)
}

// Close does nothing.
func (lb *LB) Close() error { return nil }

// Run returns an error matching [ebpf.ErrNotSupported].
func (lb *LB) Run(frame []byte) (verdict uint32, out []byte, err error) {
	return 0, nil, fmt.Errorf("maglev kernel: %w", ebpf.ErrNotSupported)
}

// Spec checks opts as on Linux and returns their error, if any; otherwise
// an error matching [ebpf.ErrNotSupported]: the kernel's object is built
// for Linux only.
func Spec(opts Options) (*ebpf.CollectionSpec, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("maglev kernel: spec: %w", ebpf.ErrNotSupported)
}

// Table returns nil: no table is installed off Linux.
func (lb *LB) Table(v VIP) *maglev.Table { return nil }

// Program returns nil: there is no program off Linux.
func (lb *LB) Program() *ebpf.Program { return nil }

// DeleteVIP returns an error matching [ebpf.ErrNotSupported].
func (lb *LB) DeleteVIP(v VIP) error {
	return fmt.Errorf("maglev kernel: %w", ebpf.ErrNotSupported)
}
