//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded cms kernel. Close it when done. The readers
// (Counters, Sketch, Total, Stats, Epoch, Read) may run concurrently with
// each other and with packets (see Reset, Clear and Flip for what a read
// or a clear under traffic sees); [Kernel.Flip] must not overlap another
// Flip, a Clear or a Reset (of any kernel loaded with the same
// [Options.PinPath]), and a Read overlapping a Flip may see the epoch it
// clears half cleared; [Kernel.NextEvent] and [Kernel.Events] share one
// record buffer, so read events from one goroutine. Close may
// be called at any time: it ends a NextEvent's wait, waits for the calls
// in progress, and the calls after it fail. The zero Kernel is not valid:
// like a closed one, every method that returns an error but Close returns
// one saying the kernel is closed or was never loaded, and Program
// returns nil (the zero Kernel) or the closed program, whose runs fail.
// Close may be called again (it returns nil).
type Kernel struct {
	objs   cmsObjects
	opts   Options
	events *ringbuf.Reader
	rec    ringbuf.Record
	mem    []byte          // the shared counters, memory-mapped (ModeShared); nil otherwise or when closed
	wait   *bpfload.Waiter // Flip's wait for running programs (Options.Epochs); nil otherwise
	life   bpfload.Life    // held by every call but Close and Program (see enter)
	// scratch holds the counters of a sketch being read (Sketch, Read,
	// Flip) until cms.FromCounters copies them; batchKeys and batchVals
	// hold a read's batches of per-CPU elements (at most
	// bpfload.BatchBytes of values). All are kept from one read to the
	// next, which then allocates nothing: a fresh buffer of a sketch's
	// size costs more to allocate, in page faults, than the read itself.
	// mu guards them.
	mu        sync.Mutex
	scratch   []uint32
	batchKeys []uint32
	batchVals []uint32
}

var errClosed = errors.New("cms kernel: closed or never loaded (use Load)")

// enter lets a call in (it must then k.life.Exit), or returns errClosed
// for a closed Kernel or one not made by Load (the zero Kernel), whose
// maps and program are gone or nil. Only the exported methods enter; the
// helpers they call do not, as a call that entered twice could wait on a
// Close that waits on it.
func (k *Kernel) enter() error {
	if !k.life.Enter() {
		return errClosed
	}
	if k.objs.XdpCms == nil {
		k.life.Exit()
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options and zero counters (with
// [Options.PinPath], the counters, statistics, epoch and events pinned
// there, if any, as they are). The error matches [ebpf.ErrNotSupported]
// where BPF is unavailable and [os.ErrPermission] without the privileges
// the package doc lists, and carries the verifier log if the kernel
// rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	spec, err := Spec()
	if err != nil {
		return nil, fmt.Errorf("load cms kernel: %w", err)
	}
	if err := Configure(spec, opts); err != nil {
		return nil, err
	}
	k := &Kernel{opts: opts}
	// Nothing below writes to the maps: with PinPath they may hold the
	// state of kernels loaded before, which this one takes up as it is.
	if err := bpfload.LoadPinned(spec, "cms", opts.PinPath, &k.objs); err != nil {
		return nil, pinnedRingError(err, spec, opts.PinPath)
	}
	if opts.Mode == ModeShared {
		if k.mem, err = bpfload.Mmap(k.objs.CmsCounters); err != nil {
			k.objs.Close()
			return nil, fmt.Errorf("load cms kernel: map counters: %w", err)
		}
	}
	if opts.Mode == ModeDetect {
		if k.events, err = ringbuf.NewReader(k.objs.CmsEvents); err != nil {
			k.objs.Close()
			return nil, fmt.Errorf("load cms kernel: ring buffer reader: %w", err)
		}
	}
	if opts.Epochs {
		if k.wait, err = bpfload.NewWaiter(); err != nil {
			k.Close()
			return nil, fmt.Errorf("load cms kernel: %w", err)
		}
	}
	return k, nil
}

// pinnedRingError returns err, the error of a load with PinPath dir, with
// EventsBytes named if the ring buffer pinned in dir is not of the size
// spec asks for: EventsBytes sets a map's size and no load-time constant,
// so the check of the constants does not name it.
func pinnedRingError(err error, spec *ebpf.CollectionSpec, dir string) error {
	if dir == "" || !errors.Is(err, ebpf.ErrMapIncompatible) {
		return err
	}
	m, lerr := ebpf.LoadPinnedMap(filepath.Join(dir, cmsMapCmsEvents), nil)
	if lerr != nil {
		return err
	}
	defer m.Close()
	if have, want := m.MaxEntries(), spec.Maps[cmsMapCmsEvents].MaxEntries; have != want {
		return fmt.Errorf("cms kernel: the ring buffer of events pinned in %s holds %d bytes, EventsBytes asks for %d; load with EventsBytes %d, or Unpin first: %w", dir, have, want, have, err)
	}
	return err
}

// Unpin removes the pins that loads with [Options.PinPath] dir made: the
// maps and the load-time constants. A pin that is not there is no error.
// Kernels still loaded keep their maps; the next Load with that PinPath
// starts with zero counters and statistics, epoch 0 and no events.
func Unpin(dir string) error {
	spec, err := Spec()
	if err != nil {
		return fmt.Errorf("cms kernel: unpin: %w", err)
	}
	return bpfload.Unpin(spec, "cms", dir)
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadCms() }

// Configure sets opts on spec: the load-time constants and the map sizes
// (the counters map of the mode in use holds the sketch, a row per element
// or rows cut into chunks as the package doc says, two such sketches with
// Epochs, the other map one element of one counter; the report cache holds
// [cms.ReportSlots] slots in detector mode, twice that with Epochs, one
// otherwise). A nil spec is
// an error (after the options are checked).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if spec == nil {
		return errors.New("cms kernel: Configure of a nil spec (use Spec)")
	}
	p := opts.Params
	if err := bpfload.SetVars(spec, "cms", map[string]any{
		cmsVarCmsSeed:      p.Seed,
		cmsVarCmsWidth:     p.Width,
		cmsVarCmsDepth:     p.Depth,
		cmsVarCmsRunMode:   uint32(opts.Mode),
		cmsVarCmsThreshold: opts.threshold(),
	}); err != nil {
		return err
	}
	l := opts.layout()
	epochs := uint32(0)
	if opts.Epochs {
		epochs = 1
	}
	if err := bpfload.SetVars(spec, "cms", map[string]any{cmsVarCmsChunks: l.chunks, cmsVarCmsEpochs: epochs}); err != nil {
		return err
	}
	counters, unused := spec.Maps[cmsMapCmsCounters], spec.Maps[cmsMapCmsCountersPcpu]
	if l.percpu {
		counters, unused = unused, counters
	}
	counters.MaxEntries, counters.ValueSize = l.mapElements(), 4*l.perElem
	unused.MaxEntries, unused.ValueSize = 1, 4
	reported := uint32(1) // the report cache, used in detector mode only
	if opts.Mode == ModeDetect {
		reported = cms.ReportSlots * l.epochs
	}
	spec.Maps[cmsMapCmsReported].MaxEntries = reported
	ring := uint32(opts.eventsBytes())
	if opts.Mode != ModeDetect {
		ring = uint32(os.Getpagesize()) // no events outside detector mode: the smallest ring
	}
	spec.Maps[cmsMapCmsEvents].MaxEntries = ring
	return nil
}

// layout is how a counters map holds a sketch of width w and depth d: row
// r in element r when a row fits one element (chunks 1, perElem w), which
// lets the kernel look its elements up before it has hashed the packet;
// otherwise each row cut into chunks elements of perElem counters, counter
// c of row r in element r*chunks + c/perElem at slot c%perElem (the last
// element of a row partly unused). An element holds perElem uint32 in host
// byte order; the kernel pads each to a multiple of 8 bytes. A per-CPU
// element holds at most 8192 counters (the kernel bounds per-CPU values at
// 32 KiB), a shared one 2^20 (4 MiB, the bound of kmalloc): CMS_PCPU_CHUNK
// and CMS_SHARED_CHUNK in cms.bpf.c.
type layout struct {
	width, depth uint32
	perElem      uint32 // counters per element
	chunks       uint32 // elements per row
	epochs       uint32 // sketches in the map: 2 with Options.Epochs, epoch e's elements from e*elements()
	percpu       bool
}

// Element bounds of the counters maps (cms.bpf.c).
const (
	pcpuChunk   = 1 << 13
	sharedChunk = 1 << 20
)

func layoutOf(p cms.Params, percpu bool) layout {
	limit := uint32(sharedChunk)
	if percpu {
		limit = pcpuChunk
	}
	l := layout{width: p.Width, depth: p.Depth, perElem: p.Width, chunks: 1, epochs: 1, percpu: percpu}
	if p.Width > limit {
		l.perElem, l.chunks = limit, (p.Width+limit-1)/limit
	}
	return l
}

// layout is the layout of the counters map the options give.
func (o Options) layout() layout {
	l := layoutOf(o.Params, o.Mode != ModeShared)
	if o.Epochs {
		l.epochs = 2
	}
	return l
}

// elements is the element count of one sketch (one epoch's).
func (l layout) elements() uint32 { return l.depth * l.chunks }

// mapElements is the map's element count: elements() per epoch.
func (l layout) mapElements() uint32 { return l.elements() * l.epochs }

// stride is the bytes from one element to the next in the memory-mapped
// shared map: the value padded to 8 bytes.
func (l layout) stride() int { return int(l.perElem+1) / 2 * 8 }

// where returns the element and slot of counter c of row r.
func (l layout) where(r, c uint32) (elem, slot uint32) {
	return r*l.chunks + c/l.perElem, c % l.perElem
}

// span returns the row and the first column of element e, and how many of
// its slots hold counters.
func (l layout) span(e uint32) (r, c, n uint32) {
	r, c = e/l.chunks, e%l.chunks*l.perElem
	return r, c, min(l.perElem, l.width-c)
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpCms }

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
	return bpfload.Attach(k.objs.XdpCms, "cms", ifindex, 0)
}

// Counters returns the counters, row-major, as the Go sketch holds them:
// the shared array, or the per-CPU copies summed with saturation. With
// [Options.Epochs] they are the current epoch's ([Kernel.Epoch]).
func (k *Kernel) Counters() ([]uint32, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	epoch, err := k.current()
	if err != nil {
		return nil, err
	}
	c := make([]uint32, k.opts.Params.Counters())
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, err := k.counters(epoch, c); err != nil {
		return nil, err
	}
	return c, nil
}

// current returns the epoch the kernel writes, 0 without epochs.
func (k *Kernel) current() (int, error) {
	if !k.opts.Epochs {
		return 0, nil
	}
	return k.epoch()
}

// epoch reads the epoch number the kernel counts in.
func (k *Kernel) epoch() (int, error) { return bpfload.ReadEpoch("cms", k.objs.CmsEpoch) }

// counters reads the counters of epoch (0 without epochs) into out (of
// p.Counters() counters, all overwritten), as Counters returns them, and
// returns the largest of their row sums, before saturation: the epoch's N
// (see [Kernel.Read]). mu must be held: per CPU, it reads in the kernel's
// batch buffers.
func (k *Kernel) counters(epoch int, out []uint32) (uint64, error) {
	p := k.opts.Params
	l := k.opts.layout()
	var sums [cms.MaxDepth]uint64 // each row's sum
	rows := sums[:p.Depth]
	first := uint32(epoch) * l.elements()
	if k.mem != nil {
		if want := int(l.mapElements()) * l.stride(); len(k.mem) < want {
			return 0, fmt.Errorf("cms kernel: read counters: the map holds %d bytes, want %d", len(k.mem), want)
		}
		for e := range l.elements() {
			r, c, n := l.span(e)
			dst := unsafe.Slice((*byte)(unsafe.Pointer(&out[r*p.Width+c])), 4*n)
			copy(dst, k.mem[int(first+e)*l.stride():]) // host order on both sides
			for _, v := range out[r*p.Width+c:][:n] {
				rows[r] += uint64(v)
			}
		}
		return slices.Max(rows), nil
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return 0, fmt.Errorf("cms kernel: %w", err)
	}
	// The batch's values as the kernel lays them out (element by element,
	// each CPU's copy padded to stride bytes), read without a copy: a
	// slice of per-CPU values would cost an allocation per element and
	// CPU (cilium/ebpf replaces each []byte by a fresh one).
	batch := bpfload.BatchLen(l.elements(), cpus, l.stride())
	words := l.stride() / 4
	k.batchKeys = bpfload.Grow(k.batchKeys, batch)
	k.batchVals = bpfload.Grow(k.batchVals, batch*cpus*words)
	keys, vals := k.batchKeys, k.batchVals
	got := 0
	if err := bpfload.ReadRangeWords(k.objs.CmsCountersPcpu, first, l.elements(), keys, vals, func(key uint32, i int) error {
		if key < first || key-first >= l.elements() {
			return fmt.Errorf("element %d outside %d to %d", key, first, first+l.elements()-1)
		}
		r, c, n := l.span(key - first)
		row := out[r*p.Width+c:][:n]
		for j := range row {
			var sum uint64
			for cpu := range cpus {
				sum += uint64(vals[(i*cpus+cpu)*words+j])
			}
			rows[r] += sum
			row[j] = uint32(min(sum, math.MaxUint32))
		}
		got++
		return nil
	}); err != nil {
		return 0, fmt.Errorf("cms kernel: read per-CPU counters: %w", err)
	}
	if got != int(l.elements()) {
		return 0, fmt.Errorf("cms kernel: read %d counter elements, want %d", got, l.elements())
	}
	return slices.Max(rows), nil
}

// withScratch calls f with the kernel's scratch buffer of p.Counters()
// counters, held (under mu) until f returns.
func (k *Kernel) withScratch(f func(c []uint32) (*cms.Sketch, error)) (*cms.Sketch, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return f(k.scratchLocked())
}

// scratchLocked returns the kernel's scratch buffer of p.Counters()
// counters, made on first use; mu must be held.
func (k *Kernel) scratchLocked() []uint32 {
	if n := k.opts.Params.Counters(); len(k.scratch) != n {
		k.scratch = make([]uint32, n)
	}
	return k.scratch
}

// Total returns N, the packets counted: those parsed less those the
// detector dropped (summed over CPUs), since the Load that made the maps
// (with [Options.PinPath], the first) or the last Reset. With
// [Options.Epochs] it counts every epoch since; an epoch's own N is the
// Total of its sketch ([Kernel.Read], [Kernel.Flip]).
func (k *Kernel) Total() (uint64, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return k.total()
}

// total is Total.
func (k *Kernel) total() (uint64, error) {
	s, err := k.stats()
	if err != nil {
		return 0, err
	}
	ok := s.Outcomes[flow.OutcomeOK]
	return ok - min(s.Dropped, ok), nil // SumPerCPU reads Dropped first: never above ok
}

// Sketch reads the kernel's counters and total back as a [cms.Sketch] with
// the kernel's parameters. With [Options.Epochs] it is [Kernel.Read] of
// the current epoch, which packets may still be counting in: use
// [Kernel.Flip] for an epoch no packet writes any more.
func (k *Kernel) Sketch() (*cms.Sketch, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	if k.opts.Epochs {
		e, err := k.epoch()
		if err != nil {
			return nil, err
		}
		return k.read(e)
	}
	return k.withScratch(func(c []uint32) (*cms.Sketch, error) {
		if _, err := k.counters(0, c); err != nil {
			return nil, err
		}
		n, err := k.total()
		if err != nil {
			return nil, err
		}
		return k.sketch(c, n)
	})
}

// SketchInto is Sketch into s, whose counters and total it overwrites,
// rather than into a new sketch. s must have the kernel's Params, as for
// [Kernel.ReadInto]; any other sketch is an error, and is left unchanged.
// A collector that polls a kernel can keep one sketch and read into it:
// SketchInto allocates nothing, where Sketch allocates a sketch each
// time. A read that fails may leave s partly overwritten.
func (k *Kernel) SketchInto(s *cms.Sketch) error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := k.checkInto(s); err != nil {
		return err
	}
	if k.opts.Epochs {
		e, err := k.epoch()
		if err != nil {
			return err
		}
		return k.readInto(e, s)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.scratchLocked()
	if _, err := k.counters(0, c); err != nil {
		return err
	}
	n, err := k.total()
	if err != nil {
		return err
	}
	if err := s.SetCounters(c, n); err != nil {
		return prefixed(err)
	}
	return nil
}

// sketch returns the sketch of the kernel's parameters with counters c and
// total n.
func (k *Kernel) sketch(c []uint32, n uint64) (*cms.Sketch, error) {
	s, err := cms.FromCounters(k.opts.Params, c, n)
	if err != nil {
		return nil, prefixed(err)
	}
	return s, nil
}

// errNoEpochs is the error of the epoch methods on a kernel loaded without
// Options.Epochs.
var errNoEpochs = errors.New("cms kernel: no epochs: load with Options.Epochs to use Epoch, Read, Clear and Flip")

// enterEpochs is enter for the epoch methods: it also refuses a kernel
// loaded without epochs (and then lets no call in).
func (k *Kernel) enterEpochs() error {
	if err := k.enter(); err != nil {
		return err
	}
	if !k.opts.Epochs {
		k.life.Exit()
		return errNoEpochs
	}
	return nil
}

// Epoch returns the epoch the kernel counts packets in (0 or 1), with
// [Options.Epochs]; without, it is an error.
func (k *Kernel) Epoch() (int, error) {
	if err := k.enterEpochs(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return k.epoch()
}

// Read returns the sketch of epoch 0 or 1 (any other epoch is an error),
// with [Options.Epochs]. Its N ([cms.Sketch.Total]) is the packets the
// epoch counted: the sum of a row's counters (every packet adds one to
// each row), the largest such sum should a counter have saturated. Read
// the epoch the kernel does not write for a consistent sketch: after
// [Kernel.Flip], the epoch that ended is 1 - [Kernel.Epoch], and it stays
// unchanged until the next Flip (through any kernel loaded with the same
// [Options.PinPath]). Read, Flip and Sketch keep a buffer of
// the sketch's counters in the Kernel from one call to the next, until
// Close; several goroutines may read at once.
func (k *Kernel) Read(epoch int) (*cms.Sketch, error) {
	if err := k.enterEpochs(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("cms", epoch); err != nil {
		return nil, err
	}
	return k.read(epoch)
}

// ReadInto is Read into s, whose counters and total it overwrites, rather
// than into a new sketch. s must have the kernel's Params: one that an
// earlier Read or Flip returned, say, or that cms.New made; any other
// sketch is an error, and is left unchanged. A collector that reads every
// epoch can keep a sketch and read into it: ReadInto then allocates
// nothing, where Read allocates a sketch each time.
func (k *Kernel) ReadInto(epoch int, s *cms.Sketch) error {
	if err := k.enterEpochs(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("cms", epoch); err != nil {
		return err
	}
	if err := k.checkInto(s); err != nil {
		return err
	}
	return k.readInto(epoch, s)
}

// checkInto returns an error unless s is a sketch of the kernel's Params.
func (k *Kernel) checkInto(s *cms.Sketch) error {
	if s == nil || s.Counters() == nil {
		return errors.New("cms kernel: read into a nil or zero Sketch; make one with cms.New(opts.Params)")
	}
	if p := s.Params(); p != k.opts.Params {
		return fmt.Errorf("cms kernel: read into a sketch of %v, want the kernel's %v", p, k.opts.Params)
	}
	return nil
}

// readInto is ReadInto of a checked epoch and sketch.
func (k *Kernel) readInto(epoch int, s *cms.Sketch) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.scratchLocked()
	n, err := k.counters(epoch, c)
	if err != nil {
		return err
	}
	if err := s.SetCounters(c, n); err != nil {
		return prefixed(err)
	}
	return nil
}

// read is Read of a checked epoch.
func (k *Kernel) read(epoch int) (*cms.Sketch, error) {
	return k.withScratch(func(c []uint32) (*cms.Sketch, error) {
		n, err := k.counters(epoch, c)
		if err != nil {
			return nil, err
		}
		return k.sketch(c, n)
	})
}

// Clear zeroes the counters of epoch 0 or 1, with [Options.Epochs], and in
// detector mode the epoch's memory of the flows reported. Clear the epoch
// the kernel does not count in: were it the current one, packets counting
// in it while it is cleared could be left in some rows and not in others.
func (k *Kernel) Clear(epoch int) error {
	if err := k.enterEpochs(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("cms", epoch); err != nil {
		return err
	}
	return k.clear(epoch)
}

// clear is Clear of a checked epoch.
func (k *Kernel) clear(epoch int) error {
	l := k.opts.layout()
	if k.mem != nil {
		n := int(l.elements()) * l.stride()
		if len(k.mem) < 2*n {
			return fmt.Errorf("cms kernel: clear epoch %d: the map holds %d bytes, want %d", epoch, len(k.mem), 2*n)
		}
		clear(k.mem[epoch*n : (epoch+1)*n])
		return nil
	}
	if err := bpfload.ClearRange(k.objs.CmsCountersPcpu, uint32(epoch)*l.elements(), l.elements(), bpfload.Batch); err != nil {
		return fmt.Errorf("cms kernel: clear epoch %d: %w", epoch, err)
	}
	if k.opts.Mode == ModeDetect {
		if err := bpfload.ClearRange(k.objs.CmsReported, uint32(epoch)*cms.ReportSlots, cms.ReportSlots, bpfload.Batch); err != nil {
			return fmt.Errorf("cms kernel: clear epoch %d's reported flows: %w", epoch, err)
		}
	}
	return nil
}

// Flip ends the epoch, with [Options.Epochs]: it clears the other epoch
// (idle since the last Flip), points the kernel at it, waits until every
// run of the program that began before has ended (an RCU grace period:
// a packet that read the old epoch number counts in the old epoch, however
// long its CPU was held up) and returns the sketch of the epoch that
// ended, every packet of it in every row. That epoch stays unchanged
// until the next Flip clears it, so [Kernel.Read] can read it again. Flip
// is not safe for concurrent use. With [Options.PinPath] it ends the epoch
// of every kernel loaded there, and waits for the runs of their programs
// too (the wait is for every BPF program running); a Flip, Clear or Reset
// through another of them must not overlap it.
//
// In detector mode the sketch is of the packets the epoch passed (the
// detector counts no dropped packet), and the epoch the kernel moves to
// starts with no flow reported, its report cache cleared with its
// counters. Once Flip returns, every report of the epoch that ended is in
// the ring buffer ([Kernel.Events]; [Event].Epoch tells them from the new
// epoch's), but those lost to a full ring ([Stats].EventsLost).
//
// "Every packet in every row" holds unless a counter saturated (2^32-1
// packets in one counter of one epoch), which keeps later packets out of
// that counter's row; N, the largest row sum, is then below the packets
// counted.
//
// The order makes a failure safe to retry: if the clear fails, the kernel
// still counts in the same epoch and a retry returns it whole, but the
// other epoch, the sketch the previous Flip returned, may be left partly
// cleared (Read it before calling Flip if it is needed again); if the wait
// or the read fails, the epoch has ended, the error says which, and
// Read(epoch) reads it until the next Flip (after a failed wait, once the
// packets still running have ended: a fraction of a millisecond). Calling
// Flip again instead ends the epoch after that, and the ended one is lost.
func (k *Kernel) Flip() (*cms.Sketch, error) {
	if err := k.enterEpochs(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	e, err := bpfload.EndEpoch("cms", k.objs.CmsEpoch, k.wait, k.clear)
	if err != nil {
		return nil, err
	}
	s, err := k.read(e)
	if err != nil {
		return nil, bpfload.EndedReadError("cms", e, err)
	}
	return s, nil
}

// FlipInto is Flip reading the ended epoch into s, as [Kernel.ReadInto]
// does. An s of other Params is an error before the epoch ends.
func (k *Kernel) FlipInto(s *cms.Sketch) error {
	if err := k.enterEpochs(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := k.checkInto(s); err != nil {
		return err
	}
	e, err := bpfload.EndEpoch("cms", k.objs.CmsEpoch, k.wait, k.clear)
	if err != nil {
		return err
	}
	if err := k.readInto(e, s); err != nil {
		return bpfload.EndedReadError("cms", e, err)
	}
	return nil
}

// Stats sums the per-CPU statistics, with no allocation.
func (k *Kernel) Stats() (Stats, error) {
	if err := k.enter(); err != nil {
		return Stats{}, err
	}
	defer k.life.Exit()
	return k.stats()
}

// stats is Stats.
func (k *Kernel) stats() (Stats, error) {
	var s Stats
	var sums [cmsCmsStatCMS_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(k.objs.CmsStats, sums[:]); err != nil {
		return s, fmt.Errorf("cms kernel: read stats: %w", err)
	}
	copy(s.Outcomes[:], sums[:])
	s.Dropped = sums[cmsCmsStatCMS_STAT_DROPPED]
	s.Events = sums[cmsCmsStatCMS_STAT_EVENTS]
	s.EventsLost = sums[cmsCmsStatCMS_STAT_EVENTS_LOST]
	s.SatMissed = sums[cmsCmsStatCMS_STAT_SAT_MISSED]
	return s, nil
}

// Reset starts a new interval: it zeroes the counters, the statistics
// (so that [Kernel.Total] and [Kernel.Sketch] count from zero again) and,
// in detector mode, the memory of the flows reported, so that a flow
// reported in the last interval is dropped and reported again only once
// it reaches the threshold anew ([cms.Detector.Reset] in Go). Events not
// yet read stay in the ring buffer. The kernel keeps running and stays
// attached. Packets that arrive while Reset runs may count in part (in
// some rows and not others, or in the statistics but not the counters),
// each moving an estimate by at most one; reset a quiet kernel for an
// exact start, or load with [Options.Epochs] and end intervals with
// [Kernel.Flip], which counts every packet whole in one interval. With
// epochs, Reset clears both, and the kernel goes on in the same epoch.
// With [Options.PinPath], Reset clears what every kernel loaded there
// reads.
func (k *Kernel) Reset() error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if k.mem != nil {
		clear(k.mem)
	} else if err := bpfload.ClearArray(k.objs.CmsCountersPcpu, k.opts.layout().mapElements(), bpfload.Batch); err != nil {
		return fmt.Errorf("cms kernel: reset counters: %w", err)
	}
	if k.opts.Mode == ModeDetect {
		if err := bpfload.ClearArray(k.objs.CmsReported, cms.ReportSlots*k.opts.layout().epochs, bpfload.Batch); err != nil {
			return fmt.Errorf("cms kernel: reset reported flows: %w", err)
		}
	}
	if err := bpfload.ClearArray(k.objs.CmsStats, uint32(cmsCmsStatCMS_STAT_MAX), bpfload.Batch); err != nil {
		return fmt.Errorf("cms kernel: reset stats: %w", err)
	}
	return nil
}

// NextEvent returns the next reported flow (see [Event]), waiting at most wait for
// one (zero: do not wait). It returns [ErrNoEvent] when none arrived, and
// an error outside detector mode. The kernels loaded with one
// [Options.PinPath] share their events: read them through one at a time.
func (k *Kernel) NextEvent(wait time.Duration) (Event, error) {
	if err := k.enter(); err != nil {
		return Event{}, err
	}
	defer k.life.Exit()
	if k.events == nil {
		return Event{}, errors.New("cms kernel: events exist in detector mode only")
	}
	k.events.SetDeadline(time.Now().Add(wait))
	if err := k.events.ReadInto(&k.rec); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Event{}, ErrNoEvent
		}
		if errors.Is(err, os.ErrClosed) { // a Close began: it closes the reader first
			return Event{}, errClosed
		}
		return Event{}, fmt.Errorf("cms kernel: read event: %w", err)
	}
	return decodeEvent(k.rec.RawSample)
}

// Events drains the waiting events: the flows reported so far, each when
// its packet brought it to the threshold or when its first packet was
// dropped (see [Event]); a key may appear more than once ([HeavyFlows]
// lists each once).
func (k *Kernel) Events() ([]Event, error) {
	var out []Event
	for {
		e, err := k.NextEvent(0)
		if errors.Is(err, ErrNoEvent) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

// Close detaches nothing (close links yourself) and frees the kernel. It
// ends the wait of a NextEvent in progress (which returns an error) and
// waits for the other calls in progress; after it every method that
// returns an error fails with one saying the kernel is closed, and Close
// may be called again. The counters' memory mapping is released, so the
// kernel's maps are freed once nothing else holds them (a link attaching
// the program, a pin). Close of a nil *Kernel (a failed Load's) returns
// nil.
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	var err error
	if k.events != nil { // set by Load alone: reading it races with nothing
		err = k.events.Close() // safe beside a read, which it interrupts
	}
	return errors.Join(err, k.life.Close(func() error {
		err := errors.Join(bpfload.Munmap(k.mem), k.wait.Close(), k.objs.Close())
		k.mem, k.wait = nil, nil
		k.scratch, k.batchKeys, k.batchVals = nil, nil, nil
		return err
	}))
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN and returns
// its verdict, [VerdictDrop] or [VerdictPass]. Frames must be 14 to [MaxFrame]
// bytes; others are an error naming the range. Per-CPU counters are those
// of the CPU the calling thread runs on: see [PinThread].
func (k *Kernel) Run(frame []byte) (uint32, error) {
	if err := k.enterRun(frame); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Run(k.objs.XdpCms, "cms", frame)
}

// Bench runs the program repeat times on frame and returns the kernel's
// mean time per run. Frames must be 14 to [MaxFrame] bytes; repeat must
// be 0 to 2^32-1, and 0 runs the program once, as 1 does (the kernel's
// rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.enterRun(frame); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Bench(k.objs.XdpCms, "cms", frame, repeat)
}

// enterRun is enter for Run and Bench: it also refuses frames outside
// [14, MaxFrame()] (and then lets no call in).
func (k *Kernel) enterRun(frame []byte) error {
	if err := k.enter(); err != nil {
		return err
	}
	if n, m := len(frame), MaxFrame(); n < 14 || n > m {
		k.life.Exit()
		return fmt.Errorf("cms kernel: test run frames must be 14 to %d bytes, got %d", m, n)
	}
	return nil
}

// MaxFrame returns the longest frame [Kernel.Run] and [Kernel.Bench]
// accept: what BPF_PROG_TEST_RUN gives an XDP program as one linear
// buffer, a page less the XDP headroom (256 bytes) and struct
// skb_shared_info (320 bytes on 64-bit kernels) rounded up to the
// kernel's cache line, so 3520 bytes with 4 KiB pages (3328 on s390x,
// whose cache lines are 256 bytes). Newer kernels accept longer test frames and put the excess in
// fragments, older ones reject them; Run refuses them on every kernel.
func MaxFrame() int { return bpfload.MaxFrame() }

// PinThread locks the calling goroutine to its thread and the thread to
// one CPU, so that successive [Kernel.Run] calls use the same per-CPU
// counters (the detector's verdicts depend on them). The returned function
// undoes both.
func PinThread() (func(), error) {
	runtime.LockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("cms kernel: pin thread: %w", err)
	}
	cpu := 0
	for cpu < 1024 && !old.IsSet(cpu) {
		cpu++
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("cms kernel: pin thread: %w", err)
	}
	return func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	}, nil
}
