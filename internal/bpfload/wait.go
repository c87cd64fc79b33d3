package bpfload

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// A Waiter waits until every BPF program invocation running when Wait
// is called has ended, so that user space can read what such an
// invocation wrote, or rely on none of them still using a value it has
// just replaced. XDP programs run inside RCU read-side sections, and the
// kernel ends every update of a map-in-map from user space with a wait
// for an RCU grace period, so that "all non-sleepable programs that could
// be running use the new map value" when the update returns
// (maybe_wait_bpf_programs in kernel/bpf/syscall.c, which the kernel's
// own selftests use to the same end). Wait updates a one-slot array of
// maps that only the Waiter holds. It takes tens to a few hundred
// microseconds on a kernel that waits for an expedited grace period (the
// 6.18 VMs this module is tested on), milliseconds on one that waits for
// a normal one. Sleepable programs are not waited for; XDP programs never
// sleep.
type Waiter struct {
	outer, inner *ebpf.Map
	waits        uint64
}

// NewWaiter creates the Waiter's two maps, lifting the memlock limit first
// as [Load] does. Its errors, like Load's, name the privileges BPF needs
// when the kernel refuses the caller.
func NewWaiter() (*Waiter, error) {
	_ = rlimit.RemoveMemlock()
	inner := &ebpf.MapSpec{Name: "dp_wait_inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	in, err := ebpf.NewMap(inner)
	if err != nil {
		return nil, fmt.Errorf("create the maps that wait for running programs: %w", explainPermission(err))
	}
	out, err := ebpf.NewMap(&ebpf.MapSpec{Name: "dp_wait", Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: inner})
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("create the maps that wait for running programs: %w", explainPermission(err))
	}
	return &Waiter{outer: out, inner: in}, nil
}

// Wait returns once every BPF program invocation that was running when it
// was called has ended.
func (w *Waiter) Wait() error {
	if w == nil || w.outer == nil {
		return errors.New("wait for running programs: the Waiter is closed or was not made by NewWaiter")
	}
	err := updateWord(w.outer, 0, uint32(w.inner.FD()))
	runtime.KeepAlive(w.inner) // its file descriptor, until the kernel has taken the map
	if err != nil {
		return fmt.Errorf("wait for running programs: %w", err)
	}
	w.waits++
	return nil
}

// Mark returns a token for now: a value replaced then (a slot freed, a
// buffer switched away from) is safe to rewrite once a Wait has returned
// since, which WaitSince does only if none has. Tokens of one Waiter only;
// the zero token stands for "never replaced".
func (w *Waiter) Mark() uint64 { return w.Waits() + 1 }

// WaitSince waits as Wait does, unless a Wait has returned since Mark
// gave token (or token is zero): one wait covers every value replaced
// before it.
func (w *Waiter) WaitSince(token uint64) error {
	if token != w.Waits()+1 {
		return nil
	}
	return w.Wait()
}

// Waits returns how many calls of Wait have returned without error.
func (w *Waiter) Waits() uint64 {
	if w == nil {
		return 0
	}
	return w.waits
}

// Close releases the Waiter's maps; Wait then returns an error. Closing
// twice is not an error.
func (w *Waiter) Close() error {
	if w == nil || w.outer == nil {
		return nil
	}
	err := errors.Join(w.outer.Close(), w.inner.Close())
	w.outer, w.inner = nil, nil
	return err
}
