//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded digest kernel. Close it when done. Its methods may
// run concurrently with each other and with packets (see Table and Reset
// for what a read or a reset under traffic sees), but Close must not
// overlap any other call. The zero Kernel is not valid: like a closed one, every method that returns an error
// returns one saying the kernel is closed or was never loaded, and
// Program returns nil (the zero Kernel) or the closed program, whose runs
// fail. Close may be called again.
type Kernel struct {
	objs   ibltObjects
	opts   Options
	closed bool
}

var errClosed = errors.New("iblt kernel: closed or never loaded (use Load)")

// ready returns errClosed for a closed Kernel or one not made by Load (the
// zero Kernel), whose maps and program are gone or nil.
func (k *Kernel) ready() error {
	if k.closed || k.objs.XdpIblt == nil {
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options. The error matches
// [ebpf.ErrNotSupported] where BPF is unavailable and [os.ErrPermission]
// without the privileges the package doc lists, and carries the verifier
// log if the kernel rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.validate(); err != nil {
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
	if err := bpfload.Load(spec, "iblt", &k.objs); err != nil {
		return nil, err
	}
	return k, nil
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadIblt() }

// Configure sets opts on spec: the load-time constants and the size of the
// table map in use (the other cell map keeps one entry). A nil spec is an
// error (after the options are checked).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.validate(); err != nil {
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
	}); err != nil {
		return err
	}
	inUse, unused := ibltMapIbltCells, ibltMapIbltSharedCells
	if opts.Shared {
		inUse, unused = unused, inUse
	}
	spec.Maps[inUse].MaxEntries = uint32(opts.Cells)
	spec.Maps[unused].MaxEntries = 1
	return nil
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpIblt }

// Attach attaches the program to the interface with the given index in
// the default XDP mode (native where the driver has it, generic
// otherwise). An index that names no interface of the calling thread's
// network namespace is an error saying so. Close the link to detach.
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	if err := k.ready(); err != nil {
		return nil, err
	}
	return bpfload.Attach(k.objs.XdpIblt, "iblt", ifindex, 0)
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN (a test or
// report run, without attaching) and returns its verdict (always XDP_PASS).
// Frames must be 14 bytes (an Ethernet header) to a page less 576 bytes
// (3520 with 4 KiB pages: what a test run gives XDP in one buffer; newer
// kernels take longer frames but show the program only that much); others
// are an error naming the length.
func (k *Kernel) Run(frame []byte) (uint32, error) {
	if err := k.ready(); err != nil {
		return 0, err
	}
	return bpfload.Run(k.objs.XdpIblt, "iblt", frame)
}

// Bench runs the program repeat times on frame and returns the kernel's
// mean time per run. Every run inserts the frame again. Frames are as for
// Run; repeat must be 0 to 2^32-1, and 0 runs the program once, as 1
// does (the kernel's rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.ready(); err != nil {
		return 0, err
	}
	return bpfload.Bench(k.objs.XdpIblt, "iblt", frame, repeat)
}

// Table reads the digest back as an iblt.Table, summing the CPUs' tables
// when they are per CPU. The kernel keeps running; packets it sees during
// the read may be counted in some cells and not others, so read a quiet
// kernel (or one detached) for a consistent table.
func (k *Kernel) Table() (*iblt.Table, error) {
	if err := k.ready(); err != nil {
		return nil, err
	}
	t, err := iblt.New(k.opts.Params())
	if err != nil {
		return nil, err
	}
	m, cpus := k.objs.IbltCells, 1 // cpus: copies of each cell a batch returns
	if k.opts.Shared {
		m = k.objs.IbltSharedCells
	} else if cpus, err = ebpf.PossibleCPU(); err != nil {
		return nil, fmt.Errorf("iblt kernel: %w", err)
	}
	words, stride := t.Words(), t.CellWords()
	keys := make([]uint32, min(bpfload.Batch, k.opts.Cells))
	vals := make([]ibltIbltCell, len(keys)*cpus)
	if err := bpfload.ReadArray(m, keys, vals, func(key uint32, i int) error {
		if int(key) >= k.opts.Cells {
			return fmt.Errorf("cell %d beyond %d", key, k.opts.Cells)
		}
		cell := words[int(key)*stride : (int(key)+1)*stride]
		for j := i * cpus; j < (i+1)*cpus; j++ {
			addCell(cell, &vals[j])
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("iblt kernel: read cells: %w", err)
	}
	return t, nil
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

// Reset empties the digest and zeroes the statistics ([Kernel.Stats]). It
// clears the cells in batches, not all at once: a packet the program
// handles meanwhile may land in a cleared cell and not in another, which
// no later digest can cancel. Reset while no traffic reaches the program
// (before attaching it, or after detaching it).
func (k *Kernel) Reset() error {
	if err := k.ready(); err != nil {
		return err
	}
	cells := k.objs.IbltCells
	if k.opts.Shared {
		cells = k.objs.IbltSharedCells
	}
	if err := bpfload.ClearArray[ibltIbltCell](cells, uint32(k.opts.Cells), bpfload.Batch); err != nil {
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

// Stats sums the per-CPU counters.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	if err := k.ready(); err != nil {
		return s, err
	}
	sums, err := bpfload.SumPerCPU(k.objs.IbltStats, uint32(ibltIbltStatIBLT_STAT_MAX))
	if err != nil {
		return s, fmt.Errorf("iblt kernel: read stats: %w", err)
	}
	n := copy(s.Outcomes[:], sums)
	for _, v := range sums[n:] {
		s.MissingCells += v
	}
	return s, nil
}

// Close frees the kernel (detach links yourself first). After Close every
// method that returns an error fails with one saying the kernel is
// closed, and Close may be called again.
func (k *Kernel) Close() error {
	k.closed = true
	return errors.Join(k.objs.Close())
}
