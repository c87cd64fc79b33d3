//go:build !linux

package xdp

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/cms"
)

// Kernel is the loaded cms kernel; it exists only on Linux.
type Kernel struct{}

func errNotSupported() error { return fmt.Errorf("cms kernel: %w", ebpf.ErrNotSupported) }

// Load checks opts as on Linux and returns their error, if any; otherwise
// an error matching [ebpf.ErrNotSupported]: the kernel runs on Linux only.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("load cms kernel: %w", ebpf.ErrNotSupported)
}

// Unpin returns an error matching [ebpf.ErrNotSupported]: pins are
// Linux's.
func Unpin(dir string) error {
	return fmt.Errorf("cms kernel: unpin: %w", ebpf.ErrNotSupported)
}

// Spec returns an error matching [ebpf.ErrNotSupported].
func Spec() (*ebpf.CollectionSpec, error) { return nil, errNotSupported() }

// Configure returns an error for invalid options, else one matching
// [ebpf.ErrNotSupported].
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	return errNotSupported()
}

// Attach returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Attach(ifindex int) (link.Link, error) { return nil, errNotSupported() }

// Counters returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Counters() ([]uint32, error) { return nil, errNotSupported() }

// Total returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Total() (uint64, error) { return 0, errNotSupported() }

// Sketch returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Sketch() (*cms.Sketch, error) { return nil, errNotSupported() }

// SketchInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) SketchInto(s *cms.Sketch) error { return errNotSupported() }

// Stats returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Stats() (Stats, error) { return Stats{}, errNotSupported() }

// Reset returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Reset() error { return errNotSupported() }

// Epoch returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Epoch() (int, error) { return 0, errNotSupported() }

// Read returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Read(epoch int) (*cms.Sketch, error) { return nil, errNotSupported() }

// Clear returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Clear(epoch int) error { return errNotSupported() }

// Flip returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Flip() (*cms.Sketch, error) { return nil, errNotSupported() }

// ReadInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) ReadInto(epoch int, s *cms.Sketch) error { return errNotSupported() }

// FlipInto returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) FlipInto(s *cms.Sketch) error { return errNotSupported() }

// Events returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Events() ([]Event, error) { return nil, errNotSupported() }

// NextEvent returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) NextEvent(wait time.Duration) (Event, error) { return Event{}, errNotSupported() }

// Run returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Run(frame []byte) (uint32, error) { return 0, errNotSupported() }

// Bench returns an error matching [ebpf.ErrNotSupported].
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	return 0, errNotSupported()
}

// MaxFrame returns the longest frame the Linux [Kernel.Run] accepts with
// 4 KiB pages (there is no kernel here).
func MaxFrame() int { return 4096 - 256 - 320 }

// PinThread returns an error matching [ebpf.ErrNotSupported].
func PinThread() (func(), error) { return nil, errNotSupported() }

// Close does nothing.
func (k *Kernel) Close() error { return nil }

// Program returns nil: there is no kernel off Linux.
func (k *Kernel) Program() *ebpf.Program { return nil }
