//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded digest kernel. Close it when done. It holds two
// digests, epochs 0 and 1, and writes one at a time ([Kernel.Epoch]);
// [Kernel.Flip] ends the epoch written and returns its table whole while
// traffic goes on. Its methods may run concurrently with packets (see
// Table, Clear and Reset for what a read or a clear under traffic sees),
// and with each other except Flip, which must not overlap another Flip or
// a Clear (with [Options.PinPath], through any kernel on the path). Close
// may be called at any time: it waits for the calls in progress, and the
// calls after it fail. The zero Kernel is not valid: like a closed one,
// every method that returns an error returns one saying the kernel is
// closed or was never loaded, and Program returns nil (the zero Kernel)
// or the closed program, whose runs fail. Close may be called again.
type Kernel struct {
	objs ibltObjects
	opts Options
	wait *bpfload.Waiter // Flip's wait for the programs still writing the ended epoch
	// The shared cell map mapped into memory (nil per-CPU, whose map
	// cannot be): Read copies an epoch out and Clear zeroes it, where
	// batch lookups and updates of the same cells cost system calls.
	mem  []byte
	life bpfload.Life // held by every call but Close and Program (see enter)
	// keys and vals hold a read's batches of per-CPU chunks (at most
	// bpfload.BatchBytes of values), kept from one read to the next, which
	// then allocates nothing; mu guards them.
	mu   sync.Mutex
	keys []uint32
	vals []ibltIbltChunk
}

var errClosed = errors.New("iblt kernel: closed or never loaded (use Load)")

// enter lets a call in (it must then k.life.Exit), or returns errClosed
// for a closed Kernel or one not made by Load (the zero Kernel), whose
// maps and program are gone or nil. Only the exported methods enter; the
// helpers they call do not, as a call that entered twice could wait on a
// Close that waits on it.
func (k *Kernel) enter() error {
	if !k.life.Enter() {
		return errClosed
	}
	if k.objs.XdpIblt == nil {
		k.life.Exit()
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options, with empty digests and
// statistics, writing epoch 0; with [Options.PinPath], with the digests,
// the epoch and the statistics pinned there, if any, as they are. The
// error matches [ebpf.ErrNotSupported] where BPF is unavailable and
// [os.ErrPermission] without the privileges the package doc lists, and
// carries the verifier log if the kernel rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadIblt()
	if err != nil {
		return nil, fmt.Errorf("load iblt kernel: %w", err)
	}
	if err := Configure(spec, opts); err != nil {
		return nil, err
	}
	k := &Kernel{opts: opts}
	if k.wait, err = bpfload.NewWaiter(); err != nil {
		return nil, fmt.Errorf("load iblt kernel: %w", err)
	}
	if err := bpfload.LoadPinned(spec, "iblt", opts.PinPath, &k.objs); err != nil {
		k.wait.Close()
		return nil, err
	}
	if opts.Shared {
		if k.mem, err = bpfload.Mmap(k.objs.IbltSharedCells); err != nil {
			k.Close()
			return nil, fmt.Errorf("load iblt kernel: map the cells: %w", err)
		}
	}
	return k, nil
}

// Unpin removes the pins that loads with [Options.PinPath] dir made: the
// maps and the load-time constants. A pin that is not there is no error.
// Kernels still loaded keep their maps, and go on sharing them; the next
// Load with that PinPath starts with empty digests and statistics,
// writing epoch 0, and shares nothing with them.
func Unpin(dir string) error {
	spec, err := loadIblt()
	if err != nil {
		return fmt.Errorf("iblt kernel: unpin: %w", err)
	}
	return bpfload.Unpin(spec, "iblt", dir)
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadIblt() }

// Configure sets opts on spec: the load-time constants and the size of the
// cell map in use, two tables of opts.Cells cells, one per epoch (the other
// cell map keeps one entry). A nil spec is an error (after the options are
// checked).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if spec == nil {
		return errors.New("iblt kernel: Configure of a nil spec (use Spec)")
	}
	shared := uint32(0)
	if opts.Shared {
		shared = 1
	}
	if err := bpfload.SetVars(spec, "iblt", map[string]any{
		ibltVarIbltSeed:      opts.Seed,
		ibltVarIbltCheckSeed: iblt.ChecksumSeed(opts.Seed),
		ibltVarIbltK:         uint32(opts.Hashes),
		ibltVarIbltSub:       uint32(opts.Cells / opts.Hashes),
		ibltVarIbltShared:    shared,
		ibltVarIbltStride:    uint32(opts.stride()),
	}); err != nil {
		return err
	}
	inUse, unused := ibltMapIbltCells, ibltMapIbltSharedCells
	if opts.Shared {
		inUse, unused = unused, inUse
	}
	// Two tables, epoch e in cells e*stride to e*stride+Cells-1 (Cells is
	// at most iblt.MaxCells, 2^28: twice that, rounded up, fits the 32-bit
	// key), each map element a cell (shared) or a chunk of them (per CPU).
	spec.Maps[inUse].MaxEntries = uint32(opts.elements())
	spec.Maps[unused].MaxEntries = 1
	return nil
}

// chunk is how many cells an element of the per-CPU cell map holds: the
// kernel's IBLT_CHUNK (TestLayout checks the two agree).
const chunk = len(ibltIbltChunk{}.Cell)

// stride returns the cell number from one epoch's table to the next's in
// the cell map of o's mode: Cells, rounded up per CPU to a whole number of
// chunks, so that each epoch starts a chunk.
func (o Options) stride() int {
	if o.Shared {
		return o.Cells
	}
	return (o.Cells + chunk - 1) / chunk * chunk
}

// elements returns how many elements the cell map of o's mode holds: the
// two epochs' cells (shared) or chunks (per CPU).
func (o Options) elements() int {
	if o.Shared {
		return 2 * o.Cells
	}
	return 2 * o.stride() / chunk
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpIblt }

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
	return bpfload.Attach(k.objs.XdpIblt, "iblt", ifindex, 0)
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN (a test or
// report run, without attaching) and returns its verdict (always XDP_PASS).
// Frames must be 14 bytes (an Ethernet header) to 3520 bytes with 4 KiB
// pages (3328 on s390x: what a test run gives XDP in one buffer; newer
// kernels take longer frames but show the program only that much); others
// are an error naming the length.
func (k *Kernel) Run(frame []byte) (uint32, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Run(k.objs.XdpIblt, "iblt", frame)
}

// Bench runs the program repeat times on frame and returns the kernel's
// mean time per run. Every run inserts the frame again. Frames are as for
// Run; repeat must be 0 to 2^32-1, and 0 runs the program once, as 1
// does (the kernel's rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Bench(k.objs.XdpIblt, "iblt", frame, repeat)
}

// cells returns the cell map in use, which holds both epochs' tables.
func (k *Kernel) cells() *ebpf.Map {
	if k.opts.Shared {
		return k.objs.IbltSharedCells
	}
	return k.objs.IbltCells
}

// Epoch returns the epoch the kernel writes (0 or 1).
func (k *Kernel) Epoch() (int, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return k.epoch()
}

// epoch reads the epoch number the kernel writes.
func (k *Kernel) epoch() (int, error) { return bpfload.ReadEpoch("iblt", k.objs.IbltEpoch) }

// Table reads the digest of the epoch the kernel writes ([Kernel.Epoch])
// back as an iblt.Table, summing the CPUs' tables when they are per CPU.
// The kernel keeps running; packets it sees during the read may be counted
// in some cells and not others, so read a quiet kernel (or one detached)
// for a consistent table, or use [Kernel.Flip], which reads an epoch the
// kernel no longer writes.
func (k *Kernel) Table() (*iblt.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	e, err := k.epoch()
	if err != nil {
		return nil, err
	}
	return k.read(e)
}

// Read returns the digest of epoch 0 or 1 as an iblt.Table (any other
// epoch is an error), summing the CPUs' tables when they are per CPU. Read
// the epoch the kernel does not write for a consistent table: after
// [Kernel.Flip], the epoch that ended is 1 - [Kernel.Epoch], and it stays
// unchanged until the next Flip.
func (k *Kernel) Read(epoch int) (*iblt.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("iblt", epoch); err != nil {
		return nil, err
	}
	return k.read(epoch)
}

// ReadInto is Read into t, which it overwrites whole, rather than into a
// new table. t must have the kernel's Params ([Options.Params]): one that
// an earlier Read or Flip returned, say, or that iblt.New made; any other
// table is an error, and is left unchanged. A collector that reads every
// epoch can keep a table and read into it: ReadInto then allocates
// nothing, where Read allocates a table each time. A read that fails (the
// error says where) may leave t partly overwritten.
func (k *Kernel) ReadInto(epoch int, t *iblt.Table) error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("iblt", epoch); err != nil {
		return err
	}
	if err := k.checkInto(t); err != nil {
		return err
	}
	t.Reset()
	return k.fill(epoch, t)
}

// checkInto returns an error unless t is a table of the kernel's Params.
func (k *Kernel) checkInto(t *iblt.Table) error {
	if t == nil || t.Words() == nil {
		return errors.New("iblt kernel: read into a nil or zero Table; make one with iblt.New(opts.Params())")
	}
	if p := t.Params(); p != k.opts.Params() {
		return fmt.Errorf("iblt kernel: read into a table of %v, want the kernel's %v", p, k.opts.Params())
	}
	return nil
}

// read reads the table of epoch (0 or 1) into a new table.
func (k *Kernel) read(epoch int) (*iblt.Table, error) {
	t, err := iblt.New(k.opts.Params())
	if err != nil {
		return nil, err
	}
	if err := k.fill(epoch, t); err != nil {
		return nil, err
	}
	return t, nil
}

// fill adds the cells of epoch (0 or 1) to t: cells epoch*stride to
// epoch*stride+Cells-1 of the cell map, and no others.
func (k *Kernel) fill(epoch int, t *iblt.Table) error {
	m := k.cells()
	if want := k.opts.elements(); m.MaxEntries() != uint32(want) { // a map made by another loader
		return fmt.Errorf("iblt kernel: read cells of epoch %d: the cell map holds %d elements, want %d (two epochs of %d cells)", epoch, m.MaxEntries(), want, k.opts.Cells)
	}
	words, stride := t.Words(), t.CellWords()
	if k.mem != nil {
		cells, err := k.mapped(epoch)
		if err != nil {
			return fmt.Errorf("iblt kernel: read cells of epoch %d: %w", epoch, err)
		}
		for c := range cells {
			addCell(words[c*stride:(c+1)*stride], &cells[c])
		}
		return nil
	}
	cpus, err := ebpf.PossibleCPU() // copies of each chunk a batch returns
	if err != nil {
		return fmt.Errorf("iblt kernel: %w", err)
	}
	// The epoch's chunks, in batches the kernel keeps.
	n := uint32(k.opts.stride() / chunk)
	start := uint32(epoch) * n
	batch := bpfload.BatchLen(n, cpus, int(unsafe.Sizeof(ibltIbltChunk{})))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = bpfload.Grow(k.keys, batch)
	k.vals = bpfload.Grow(k.vals, batch*cpus)
	keys, vals := k.keys, k.vals
	err = bpfload.ReadRange(m, start, n, keys, vals, func(key uint32, i int) error {
		first := int(key-start) * chunk // the chunk's first cell
		for s := range min(chunk, k.opts.Cells-first) {
			cell := words[(first+s)*stride : (first+s+1)*stride]
			for j := i * cpus; j < (i+1)*cpus; j++ {
				addCell(cell, &vals[j].Cell[s])
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("iblt kernel: read cells of epoch %d: %w", epoch, err)
	}
	return nil
}

// mapped returns epoch's cells in the shared map's memory mapping: cells
// epoch*Cells to epoch*Cells+Cells-1, host order.
func (k *Kernel) mapped(epoch int) ([]ibltIbltCell, error) {
	const size = int(unsafe.Sizeof(ibltIbltCell{}))
	n := k.opts.Cells
	if len(k.mem) < 2*n*size {
		return nil, fmt.Errorf("the mapping holds %d bytes, want %d (two epochs of %d cells)", len(k.mem), 2*n*size, n)
	}
	all := unsafe.Slice((*ibltIbltCell)(unsafe.Pointer(unsafe.SliceData(k.mem))), 2*n)
	return all[epoch*n : (epoch+1)*n], nil
}

// addCell merges a kernel cell into the table's words, as iblt.Table.Merge.
func addCell(w []uint64, c *ibltIbltCell) {
	w[0] += uint64(c.Count)
	w[1] += c.ValueSum
	w[2] ^= c.HashSum
	for j, x := range c.KeySum {
		w[3+j] ^= x
	}
}

// Clear empties the digest of epoch 0 or 1 (any other epoch is an error).
// It clears the cells one after another, not all at once (a memory clear
// of the shared map's mapping, batch updates of the per-CPU one): clear
// the epoch the kernel writes ([Kernel.Epoch]) only while no packet
// arrives, since a packet the program handles meanwhile may land in a
// cleared cell and not in another, which no later digest can cancel.
// [Kernel.Flip] clears the epoch the kernel does not write.
func (k *Kernel) Clear(epoch int) error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("iblt", epoch); err != nil {
		return err
	}
	return k.clear(epoch)
}

// clear is Clear of a checked epoch.
func (k *Kernel) clear(epoch int) error {
	if k.mem != nil {
		cells, err := k.mapped(epoch)
		if err != nil {
			return fmt.Errorf("iblt kernel: clear epoch %d: %w", epoch, err)
		}
		clear(cells)
		return nil
	}
	n := k.opts.stride() / chunk
	if err := bpfload.ClearRange(k.cells(), uint32(epoch*n), uint32(n), bpfload.Batch/chunk); err != nil {
		return fmt.Errorf("iblt kernel: clear epoch %d: %w", epoch, err)
	}
	return nil
}

// Flip ends the epoch: it clears the other epoch (idle since the last
// Flip), points the kernel at it, waits until every run of the program
// that began before that has ended (a packet that read the old epoch
// number writes the old epoch, however long its CPU was held up: the wait
// is the kernel's own, an RCU grace period, not a guess of time, and
// covers the programs of every kernel on an [Options.PinPath]) and reads
// back the epoch the kernel wrote, every packet of it, each in all of its
// cells. That epoch stays in the map unchanged until the next Flip clears
// it, so [Kernel.Read] can read it again. Flip is not safe for concurrent
// use, nor, with [Options.PinPath], concurrent with a Flip or a Clear
// through another kernel on the path.
//
// The order makes a failure safe to retry: if the clear fails, the kernel
// still writes the same epoch and a retry returns it whole, but the other
// epoch, the table the previous Flip returned, may be left partly cleared
// (Read it before calling Flip if it is needed again); if the wait or the
// read fails, the epoch has ended, the error says which, and Read(epoch)
// reads it until the next Flip (after a failed wait, once the packets
// still running have ended: a fraction of a millisecond). Calling Flip
// again instead ends the epoch after that, and the ended one is lost.
func (k *Kernel) Flip() (*iblt.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	e, err := k.endEpoch()
	if err != nil {
		return nil, err
	}
	t, err := k.read(e)
	if err != nil {
		return nil, bpfload.EndedReadError("iblt", e, err)
	}
	return t, nil
}

// FlipInto is Flip reading the ended epoch into t, as [Kernel.ReadInto]
// does. A t of other Params is an error before the epoch ends.
func (k *Kernel) FlipInto(t *iblt.Table) error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := k.checkInto(t); err != nil {
		return err
	}
	e, err := k.endEpoch()
	if err != nil {
		return err
	}
	t.Reset()
	if err := k.fill(e, t); err != nil {
		return bpfload.EndedReadError("iblt", e, err)
	}
	return nil
}

// endEpoch ends the epoch the kernel writes and returns it (see Flip).
func (k *Kernel) endEpoch() (int, error) {
	return bpfload.EndEpoch("iblt", k.objs.IbltEpoch, k.wait, k.clear)
}

// Reset empties the digests of both epochs and zeroes the statistics
// ([Kernel.Stats]); the kernel goes on writing the same epoch. It clears
// the cells one after another, not all at once: a packet the program
// handles meanwhile may land in a cleared cell and not in another, which
// no later digest can cancel. Reset while no traffic reaches the program (before
// attaching it, or after detaching it); under traffic, use [Kernel.Flip].
func (k *Kernel) Reset() error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if k.mem != nil {
		clear(k.mem)
	} else if err := bpfload.ClearArray(k.cells(), uint32(k.opts.elements()), bpfload.Batch/chunk); err != nil {
		return fmt.Errorf("iblt kernel: reset cells: %w", err)
	}
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("iblt kernel: %w", err)
	}
	stats := make([]uint64, n)
	for i := uint32(0); i < uint32(ibltIbltStatIBLT_STAT_MAX); i++ {
		if err := k.objs.IbltStats.Update(i, stats, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("iblt kernel: reset stats: %w", err)
		}
	}
	return nil
}

// Stats sums the per-CPU counters, with no allocation.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	if err := k.enter(); err != nil {
		return s, err
	}
	defer k.life.Exit()
	var sums [ibltIbltStatIBLT_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(k.objs.IbltStats, sums[:]); err != nil {
		return s, fmt.Errorf("iblt kernel: read stats: %w", err)
	}
	n := copy(s.Outcomes[:], sums[:])
	for _, v := range sums[n:] {
		s.MissingCells += v
	}
	return s, nil
}

// Close frees the kernel (detach links yourself first). It waits for the
// calls in progress; after it every method that returns an error fails
// with one saying the kernel is closed, and Close may be called again.
func (k *Kernel) Close() error {
	if k == nil {
		return nil // what a failed Load returns: nothing to free
	}
	return k.life.Close(func() error {
		err := errors.Join(k.objs.Close(), k.wait.Close(), bpfload.Munmap(k.mem))
		k.mem, k.keys, k.vals = nil, nil, nil
		return err
	})
}
