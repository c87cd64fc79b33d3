//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded flow kernel. Close it when done; Close may be
// called at any time: it ends a NextEvent's wait, waits for the calls in
// progress, and the calls after it fail. The zero Kernel is not valid:
// like a closed one, every method that returns an error returns one
// saying the kernel is closed or was never loaded, and Program returns
// nil (the zero Kernel) or the closed program, whose runs fail. Close may
// be called again.
type Kernel struct {
	objs   flowObjects
	events *ringbuf.Reader
	rec    ringbuf.Record
	life   bpfload.Life // held by every call but Close and Program (see enter)
}

var errClosed = errors.New("flow kernel: closed or never loaded (use Load)")

// enter lets a call in (it must then k.life.Exit), or returns errClosed
// for a closed Kernel or one not made by Load (the zero Kernel), whose
// maps and program are gone or nil.
func (k *Kernel) enter() error {
	if !k.life.Enter() {
		return errClosed
	}
	if k.objs.XdpFlow == nil {
		k.life.Exit()
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options. The error matches
// [ebpf.ErrNotSupported] where BPF is unavailable and [os.ErrPermission]
// without the privileges the package doc lists, and carries the verifier
// log if the kernel rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadFlow()
	if err != nil {
		return nil, fmt.Errorf("load flow kernel: %w", err)
	}
	if err := Configure(spec, opts); err != nil {
		return nil, err
	}
	k := &Kernel{}
	if err := bpfload.Load(spec, "flow", &k.objs); err != nil {
		return nil, err
	}
	if opts.Events {
		k.events, err = ringbuf.NewReader(k.objs.FlowEvents)
		if err != nil {
			k.objs.Close()
			return nil, fmt.Errorf("load flow kernel: ring buffer reader: %w", err)
		}
	}
	return k, nil
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadFlow() }

// Configure sets opts on spec: the load-time constants and the ring size
// (EventsBytes with Events, one page without). A nil spec is an error
// (after the options are checked).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if spec == nil {
		return errors.New("flow kernel: Configure of a nil spec (use Spec)")
	}
	emit := uint32(0)
	if opts.Events {
		emit = 1
	}
	if err := bpfload.SetVars(spec, "flow", map[string]any{
		flowVarFlowSeed: opts.Seed,
		flowVarFlowEmit: emit,
	}); err != nil {
		return err
	}
	ring := uint32(opts.eventsBytes())
	if !opts.Events {
		ring = uint32(os.Getpagesize()) // the kernel sends nothing: the smallest ring
	}
	spec.Maps[flowMapFlowEvents].MaxEntries = ring
	return nil
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpFlow }

// Run runs the program once on frame with BPF_PROG_TEST_RUN (a test or
// report run, without attaching) and returns its verdict (always
// XDP_PASS), counting the frame as a packet. Frames must be 14 bytes (an
// Ethernet header) to 3520 bytes with 4 KiB pages (3328 on s390x: what a
// test run gives XDP in one buffer; newer kernels take longer frames but
// show the program only that much); others are an error naming the
// length.
func (k *Kernel) Run(frame []byte) (uint32, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Run(k.objs.XdpFlow, "flow", frame)
}

// Bench runs the program repeat times on frame and returns the kernel's
// mean time per run. Every run counts the frame again and, with [Options.Events], sends its record. Frames are as for Run; repeat must be 0 to
// 2^32-1, and 0 runs the program once, as 1 does (the kernel's rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Bench(k.objs.XdpFlow, "flow", frame, repeat)
}

// Attach attaches the program to the interface with the given index in
// the default XDP mode (native where the driver has it, generic
// otherwise). An index that names no interface of the calling thread's
// network namespace, and an interface that has an XDP program already,
// are errors saying so. Close the link to detach. For generic mode on an
// interface whose driver has native XDP, give [Kernel.Program] to
// link.AttachXDP with link.XDPGenericMode (see the README on MTUs and GRO).
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	return bpfload.Attach(k.objs.XdpFlow, "flow", ifindex, 0)
}

// Stats sums the per-CPU counters and digests, with no allocation.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	if err := k.enter(); err != nil {
		return s, err
	}
	defer k.life.Exit()
	var sums [flowFlowStatFLOW_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(k.objs.FlowStats, sums[:]); err != nil {
		return s, fmt.Errorf("flow kernel: read stats: %w", err)
	}
	n := copy(s.Outcomes[:], sums[:])
	for _, v := range sums[n:] {
		s.EventsLost += v
	}
	var digest [1]uint64
	if err := bpfload.XorPerCPU(k.objs.FlowDigest, digest[:]); err != nil {
		return s, fmt.Errorf("flow kernel: read digest: %w", err)
	}
	s.Digest = digest[0]
	return s, nil
}

// ResetStats zeroes the per-CPU counters and digests that [Kernel.Stats]
// sums, with no allocation, so that a test can compare the next frames'
// Stats with a [Digest] of those frames alone. Records in the ring buffer
// stay. A packet the program handles meanwhile may count in part.
func (k *Kernel) ResetStats() error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	const n = uint32(flowFlowStatFLOW_STAT_MAX)
	if err := bpfload.ClearArray(k.objs.FlowStats, n, int(n)); err != nil {
		return fmt.Errorf("flow kernel: reset stats: %w", err)
	}
	if err := bpfload.ClearArray(k.objs.FlowDigest, 1, 1); err != nil {
		return fmt.Errorf("flow kernel: reset digest: %w", err)
	}
	return nil
}

// NextEvent returns the next per-packet record, waiting at most wait for
// one (zero: do not wait). It returns [ErrNoEvent] when none arrived, and
// an error when the kernel was loaded without [Options.Events].
func (k *Kernel) NextEvent(wait time.Duration) (Event, error) {
	if err := k.enter(); err != nil {
		return Event{}, err
	}
	defer k.life.Exit()
	if k.events == nil {
		return Event{}, errors.New("flow kernel: loaded without Options.Events")
	}
	k.events.SetDeadline(time.Now().Add(wait))
	if err := k.events.ReadInto(&k.rec); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Event{}, ErrNoEvent
		}
		if errors.Is(err, os.ErrClosed) { // a Close began: it closes the reader first
			return Event{}, errClosed
		}
		return Event{}, fmt.Errorf("flow kernel: read event: %w", err)
	}
	return decodeEvent(k.rec.RawSample)
}

// Close detaches nothing (close links yourself) and frees the kernel. It
// ends the wait of a NextEvent in progress (which returns an error) and
// waits for the other calls in progress; after it every method that
// returns an error fails with one saying the kernel is closed, and Close
// may be called again. Close of a nil *Kernel (a failed Load's) returns
// nil.
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	var err error
	if k.events != nil { // set by Load alone: reading it races with nothing
		err = k.events.Close() // safe beside a read, which it interrupts
	}
	return errors.Join(err, k.life.Close(k.objs.Close))
}
