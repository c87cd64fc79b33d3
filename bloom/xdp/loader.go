//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded bloom kernel. Close it when done. The readers
// (Filter, Blocked, Stats), ResetStats, Run, Bench, Attach and Program may
// run concurrently with each other and with packets. WriteFilter and
// WriteBlocked may run alongside them (a reader then sees, as a packet
// does, some words of the old filter and some of the new) but not
// alongside another write, whose words would interleave with theirs.
// Filter and Blocked copy the words one at a time while learn mode goes on
// setting bits: a key learnt before the call is in the copy; one learnt
// during it may be. Close may be called at any time: it waits for the
// calls in progress, and the calls after it fail.
//
// The zero Kernel is not valid: like a closed one, every method that
// returns an error returns one saying the kernel is closed or was never
// loaded, and Program returns nil (the zero Kernel) or the closed
// program, whose runs fail.
type Kernel struct {
	objs bloomObjects
	opts Options
	mem  []byte // bloom_words, memory-mapped: the filter's words in order; nil when closed or never loaded
	life bpfload.Life
}

var errClosed = errors.New("bloom kernel: closed or never loaded (use Load)")

// enter lets a call in (it must then k.life.Exit), or returns errClosed
// for a closed Kernel or one not made by Load (the zero Kernel): Load maps
// the filter, Close drops the mapping.
func (k *Kernel) enter() error {
	if !k.life.Enter() {
		return errClosed
	}
	if k.mem == nil {
		k.life.Exit()
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options and an empty filter (with
// [Options.PinPath], the filter pinned there, if any). The
// error matches [ebpf.ErrNotSupported] where BPF is unavailable and
// [os.ErrPermission] without the privileges the package doc lists, and
// carries the verifier log if the kernel rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadBloom()
	if err != nil {
		return nil, fmt.Errorf("load bloom kernel: %w", err)
	}
	if err := Configure(spec, opts); err != nil {
		return nil, err
	}
	k := &Kernel{opts: opts}
	if err := bpfload.LoadPinned(spec, "bloom", opts.PinPath, &k.objs); err != nil {
		return nil, err
	}
	if k.mem, err = bpfload.Mmap(k.objs.BloomWords); err != nil {
		k.objs.Close()
		return nil, fmt.Errorf("load bloom kernel: map the filter: %w", err)
	}
	return k, nil
}

// Unpin removes the pins that loads with [Options.PinPath] dir made: the
// maps and the load-time constants. A pin that is not there is no error.
// Kernels still loaded keep their maps; the next Load with that PinPath
// starts with an empty filter.
func Unpin(dir string) error {
	spec, err := loadBloom()
	if err != nil {
		return fmt.Errorf("bloom kernel: unpin: %w", err)
	}
	return bpfload.Unpin(spec, "bloom", dir)
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadBloom() }

// Configure sets opts on spec: the load-time constants and the size of the
// filter map (one entry per 512-bit block of eight words, or, for a
// classic filter of up to 4 MiB, one entry of all the words, rounded up
// to a power of two). A nil spec is an error (after the options are
// checked).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if spec == nil {
		return errors.New("bloom kernel: Configure of a nil spec (use Spec)")
	}
	learn, flat := uint32(0), uint32(0)
	if opts.Learn {
		learn = 1
	}
	if opts.flat() {
		flat = 1
	}
	if err := bpfload.SetVars(spec, "bloom", map[string]any{
		bloomVarBloomCfgSeed:     opts.Params.Seed,
		bloomVarBloomCfgK:        uint32(opts.Params.Hashes),
		bloomVarBloomCfgCells:    opts.cells(),
		bloomVarBloomCfgLayout:   uint32(opts.Layout),
		bloomVarBloomCfgKeyMode:  uint32(opts.Key),
		bloomVarBloomCfgAction:   uint32(opts.Action),
		bloomVarBloomCfgLearn:    learn,
		bloomVarBloomCfgFlat:     flat,
		bloomVarBloomCfgFlatMask: uint32(opts.flatWords() - 1),
	}); err != nil {
		return err
	}
	m := spec.Maps[bloomMapBloomWords]
	if flat == 1 {
		m.MaxEntries, m.ValueSize, m.Value = 1, uint32(8*opts.flatWords()), nil
	} else {
		// The value size too: a spec configured before for a flat
		// filter holds that filter's element size.
		m.MaxEntries, m.ValueSize = uint32(opts.blocks()), bloom.BlockBits/8
	}
	return nil
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpBloom }

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
	return bpfload.Attach(k.objs.XdpBloom, "bloom", ifindex, 0)
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN and returns its
// verdict (counters and, in learn mode, the filter change as for a real
// packet). frame must hold at least an Ethernet header (14 bytes) and at
// most 3520 bytes with 4 KiB pages (3328 on s390x: what a test run gives
// XDP in one buffer; newer kernels take longer frames but show the program
// only that much); others are an error naming the length.
func (k *Kernel) Run(frame []byte) (uint32, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Run(k.objs.XdpBloom, "bloom", frame)
}

// Bench runs the program repeat times on frame with BPF_PROG_TEST_RUN and
// returns the kernel's mean time per run. Frames are as for Run; repeat
// must be 0 to 2^32-1, and 0 runs the program once, as 1 does (the
// kernel's rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Bench(k.objs.XdpBloom, "bloom", frame, repeat)
}

// WriteFilter replaces the kernel's filter by f, which must have the
// loaded Params and the Classic layout. It is the way to change the
// kernel's set: add keys to (or rebuild) the Go filter and write it whole;
// a write costs about as much as copying the filter's bytes. The Params,
// the seed among them, are fixed when the kernel loads: another seed takes
// another Load.
//
// The words are copied into the kernel's memory-mapped filter while packets
// keep flowing: a packet racing with the write may test some words of the
// old filter and some of the new. A key in both filters is found throughout;
// a key in only one of them may get either verdict until WriteFilter
// returns. (In learn mode, bits the kernel sets during the write may be
// overwritten.)
func (k *Kernel) WriteFilter(f *bloom.Filter) error {
	if f == nil {
		return errors.New("bloom kernel: WriteFilter of a nil filter")
	}
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if k.opts.Layout != Classic {
		return errors.New("bloom kernel: WriteFilter on a kernel loaded with the Blocked layout; use WriteBlocked")
	}
	if err := k.sameParams(f.Params()); err != nil {
		return err
	}
	return k.writeWords(f.Words())
}

// WriteBlocked is WriteFilter for the Blocked layout.
func (k *Kernel) WriteBlocked(f *bloom.Blocked) error {
	if f == nil {
		return errors.New("bloom kernel: WriteBlocked of a nil filter")
	}
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if k.opts.Layout != Blocked {
		return errors.New("bloom kernel: WriteBlocked on a kernel loaded with the Classic layout; use WriteFilter")
	}
	if err := k.sameParams(f.Params()); err != nil {
		return err
	}
	return k.writeWords(f.Words())
}

func (k *Kernel) sameParams(p bloom.Params) error {
	if q := k.opts.Params; p.Bits != q.Bits || p.Hashes != q.Hashes || p.Seed != q.Seed {
		return fmt.Errorf("bloom kernel: filter has bits %d, hashes %d, seed %#x; the kernel was loaded with bits %d, hashes %d, seed %#x",
			p.Bits, p.Hashes, p.Seed, q.Bits, q.Hashes, q.Seed)
	}
	return nil
}

// writeWords copies words into the kernel's memory-mapped blocks (the
// padding words after a classic filter's last word stay zero).
func (k *Kernel) writeWords(words []uint64) error {
	if k.mem == nil {
		return errClosed
	}
	if b := wordBytes(words); copy(k.mem, b) != len(b) {
		return fmt.Errorf("bloom kernel: write %d words: the map holds %d bytes", len(words), len(k.mem))
	}
	return nil
}

// readWords copies the kernel's first len(words) words into words.
func (k *Kernel) readWords(words []uint64) error {
	if k.mem == nil {
		return errClosed
	}
	if b := wordBytes(words); copy(b, k.mem) != len(b) {
		return fmt.Errorf("bloom kernel: read %d words: the map holds %d bytes", len(words), len(k.mem))
	}
	return nil
}

// wordBytes is words as bytes, in host order as the kernel keeps them.
func wordBytes(words []uint64) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
}

// Filter returns a copy of the kernel's filter (Classic layout): in learn
// mode, the keys of every packet seen.
func (k *Kernel) Filter() (*bloom.Filter, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	if k.opts.Layout != Classic {
		return nil, errors.New("bloom kernel: Filter on a kernel loaded with the Blocked layout; use Blocked")
	}
	f := bloom.MustNew(k.opts.Params)
	return f, k.readWords(f.Words())
}

// Blocked is Filter for the Blocked layout.
func (k *Kernel) Blocked() (*bloom.Blocked, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	if k.opts.Layout != Blocked {
		return nil, errors.New("bloom kernel: Blocked on a kernel loaded with the Classic layout; use Filter")
	}
	f := bloom.MustNewBlocked(k.opts.Params)
	return f, k.readWords(f.Words())
}

// Stats sums the per-CPU counters, with no allocation.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	if err := k.enter(); err != nil {
		return s, err
	}
	defer k.life.Exit()
	var sums [bloomBloomStatBLOOM_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(k.objs.BloomStats, sums[:]); err != nil {
		return s, fmt.Errorf("bloom kernel: read stats: %w", err)
	}
	for i, dst := range []*uint64{&s.Passed, &s.Dropped, &s.Malformed, &s.NotIP} {
		*dst = sums[i]
	}
	return s, nil
}

// ResetStats zeroes the per-CPU counters that [Kernel.Stats] sums (with
// [Options.PinPath], those every kernel on the pins counts in and reads),
// with no allocation; the filter is left as it is. A packet the program
// handles meanwhile may count in part (in Passed and not in Malformed,
// say): reset a quiet kernel for an exact start.
func (k *Kernel) ResetStats() error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	const n = uint32(bloomBloomStatBLOOM_STAT_MAX)
	if err := bpfload.ClearArray(k.objs.BloomStats, n, int(n)); err != nil {
		return fmt.Errorf("bloom kernel: reset stats: %w", err)
	}
	return nil
}

// Close detaches nothing (close links yourself) and frees the kernel.
//
// Close waits for the calls in progress; after it every method that
// returns an error fails with one saying the kernel is closed, and Close
// may be called again. The filter's memory mapping is released, so the
// kernel's map is freed once nothing else holds it (a link attaching the
// program, a pin). Close of a nil *Kernel (a failed Load's) returns nil.
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	return k.life.Close(func() error {
		err := bpfload.Munmap(k.mem)
		k.mem = nil
		return errors.Join(err, k.objs.Close())
	})
}
