//go:build linux

package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded encoder. Close it when done; Close may be called
// at any time: it waits for the calls in progress, and after it every
// method that touches the maps returns an error saying the kernel is
// closed. The zero Kernel is not valid: like a closed one, those methods
// return that error; Options and Params return zero values and Program
// returns nil.
type Kernel struct {
	objs flowradarObjects
	p    flowradar.Params
	o    Options
	wait *bpfload.Waiter // Flip's wait for the programs still writing the ended epoch
	// The shared maps of each epoch mapped into memory (nil with PerCPU,
	// whose maps cannot be): Read copies an epoch out and Clear zeroes it
	// in a few milliseconds where batch lookups and updates of the same
	// elements took tens. The per-CPU cells maps, read and cleared with
	// batches, hold 64 cells an element for that reason: the batches'
	// cost is about the same per element whatever its size.
	filterMem, cellsMem [2][]byte
	life                bpfload.Life // held by every call that touches the maps but Close (see enter)
	// scratch holds the cells of a table being read (Read, Flip) while
	// they are merged, before they are copied into the table; the batch
	// buffers hold a read's batches of per-CPU elements (at most
	// bpfload.BatchBytes of values). All are kept from one read to the
	// next, which then allocates nothing: a fresh buffer of a table's
	// size costs more to allocate, in page faults, than the read itself.
	// mu guards them.
	mu         sync.Mutex
	scratch    []flowradar.Cell
	batchKeys  []uint32
	blockBatch []flowradarFrBlock
	chunkBatch []flowradarFlowradarCellChunk
}

// cellChunk is how many cells one element of a per-CPU cells map holds
// (FR_CELL_CHUNK): cell i is slot i%cellChunk of element i/cellChunk.
const cellChunk = 64

// The generated chunk type must hold cellChunk cells: a build where it
// does not fails here.
var _ = [1]struct{}{}[len(flowradarFlowradarCellChunk{}.Cell)-cellChunk]

// chunks returns how many elements a per-CPU cells map of n cells has:
// ceil(n / cellChunk).
func chunks(n uint32) uint32 { return uint32((uint64(n) + cellChunk - 1) / cellChunk) }

var errClosed = errors.New("flowradar kernel: closed or never loaded (use Load)")

// enter lets a call in (it must then k.life.Exit), or returns errClosed
// for a closed Kernel or one not made by Load (the zero Kernel), whose
// maps and program are gone or nil. Only the exported methods enter; the
// helpers they call do not, as a call that entered twice could wait on a
// Close that waits on it.
func (k *Kernel) enter() error {
	if !k.life.Enter() {
		return errClosed
	}
	if k.objs.XdpFlowradar == nil {
		k.life.Exit()
		return errClosed
	}
	return nil
}

// Load loads the kernel with the given options, with empty tables, epoch
// 0 the one written and zero counters (with [Options.PinPath], the
// tables, the epoch and the counters pinned there, if any, as they are:
// Load changes none of them). The error matches [ebpf.ErrNotSupported]
// where BPF is unavailable and [os.ErrPermission] without the privileges
// the package doc lists, and carries the verifier log if the kernel
// rejects the program.
func Load(o Options) (*Kernel, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadFlowradar()
	if err != nil {
		return nil, fmt.Errorf("load flowradar kernel: %w", err)
	}
	if err := Configure(spec, o); err != nil {
		return nil, err
	}
	k := &Kernel{p: o.Params, o: o}
	if k.wait, err = bpfload.NewWaiter(); err != nil {
		return nil, fmt.Errorf("load flowradar kernel: %w", err)
	}
	if err := bpfload.LoadPinned(spec, "flowradar", o.PinPath, &k.objs); err != nil {
		k.wait.Close()
		return nil, err
	}
	if !o.PerCPU {
		for e := range 2 {
			fm, cm := k.maps(e)
			if k.filterMem[e], err = bpfload.Mmap(fm); err == nil {
				k.cellsMem[e], err = bpfload.Mmap(cm)
			}
			if err != nil {
				k.Close()
				return nil, fmt.Errorf("load flowradar kernel: map epoch %d: %w", e, err)
			}
		}
	}
	return k, nil
}

// Unpin removes the pins that loads with [Options.PinPath] dir made: the
// maps and the load-time constants. A pin that is not there is no error.
// Kernels still loaded keep their maps, and their programs, if attached,
// go on counting in them, out of reach of later loads; the next Load with
// that PinPath starts with empty tables, epoch 0 and zero counters.
func Unpin(dir string) error {
	spec, err := loadFlowradar()
	if err != nil {
		return fmt.Errorf("flowradar kernel: unpin: %w", err)
	}
	return bpfload.Unpin(spec, "flowradar", dir)
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadFlowradar() }

// Configure sets the load-time constants and map sizes of o on spec; the
// maps of the mode not in use get one entry. A per-CPU cells map holds 64
// cells an element, so it gets ceil(Params.Cells / 64) entries. A nil
// spec is an error (after the options are checked).
func Configure(spec *ebpf.CollectionSpec, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if spec == nil {
		return errors.New("flowradar kernel: Configure of a nil spec (use Spec)")
	}
	p := o.Params
	percpu := uint32(0)
	if o.PerCPU {
		percpu = 1
	}
	if err := bpfload.SetVars(spec, "flowradar", map[string]any{
		flowradarVarFrPercpu: percpu,
		flowradarVarFrSeed:   p.Seed,
		flowradarVarFrK:      uint32(p.Hashes),
		flowradarVarFrSub:    p.Cells / uint32(p.Hashes),
		flowradarVarFrFk:     uint32(p.FilterHashes),
		flowradarVarFrBlocks: p.FilterBits / bloom.BlockBits,
	}); err != nil {
		return err
	}
	filters := []string{flowradarMapFlowradarFilter0, flowradarMapFlowradarFilter1}
	cells := []string{flowradarMapFlowradarCells0, flowradarMapFlowradarCells1}
	pfilters := []string{flowradarMapFlowradarPcpuFilter0, flowradarMapFlowradarPcpuFilter1}
	pcells := []string{flowradarMapFlowradarPcpuCells0, flowradarMapFlowradarPcpuCells1}
	if o.PerCPU {
		filters, pfilters = pfilters, filters
		cells, pcells = pcells, cells
	}
	n := p.Cells
	if o.PerCPU {
		n = chunks(p.Cells)
	}
	for i := range 2 {
		spec.Maps[filters[i]].MaxEntries = p.FilterBits / bloom.BlockBits
		spec.Maps[cells[i]].MaxEntries = n
		spec.Maps[pfilters[i]].MaxEntries = 1
		spec.Maps[pcells[i]].MaxEntries = 1
	}
	return nil
}

// Options returns the options the kernel was loaded with.
func (k *Kernel) Options() Options { return k.o }

// Params returns the parameters the kernel was loaded with.
func (k *Kernel) Params() flowradar.Params { return k.p }

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpFlowradar }

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
	return bpfload.Run(k.objs.XdpFlowradar, "flowradar", frame)
}

// Bench runs the program repeat times on frame and returns the kernel's
// mean time per run. Every run counts the frame again, as a packet. Frames are as for Run; repeat must be 0 to
// 2^32-1, and 0 runs the program once, as 1 does (the kernel's rule).
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.Bench(k.objs.XdpFlowradar, "flowradar", frame, repeat)
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
	return bpfload.Attach(k.objs.XdpFlowradar, "flowradar", ifindex, 0)
}

// Epoch returns the epoch the kernel writes (0 or 1).
func (k *Kernel) Epoch() (int, error) {
	if err := k.enter(); err != nil {
		return 0, err
	}
	defer k.life.Exit()
	return bpfload.ReadEpoch("flowradar", k.objs.FlowradarEpoch)
}

func (k *Kernel) maps(epoch int) (filter, cells *ebpf.Map) {
	if k.o.PerCPU {
		if epoch&1 == 1 {
			return k.objs.FlowradarPcpuFilter1, k.objs.FlowradarPcpuCells1
		}
		return k.objs.FlowradarPcpuFilter0, k.objs.FlowradarPcpuCells0
	}
	if epoch&1 == 1 {
		return k.objs.FlowradarFilter1, k.objs.FlowradarCells1
	}
	return k.objs.FlowradarFilter0, k.objs.FlowradarCells0
}

// Read returns the tables of epoch 0 or 1 as a flowradar.Table (any
// other epoch is an error). Read the epoch the kernel does not write (see
// [Kernel.Flip]) for a consistent table. With [Options.PerCPU] the CPUs'
// tables are merged, which decodes only when no flow was seen on two CPUs;
// [Kernel.ReadCPUs] returns them one by one. Read and Flip keep a buffer of
// Params.Cells cells in the Kernel from one call to the next, until Close;
// several goroutines may Read at once.
func (k *Kernel) Read(epoch int) (*flowradar.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	ts, err := k.read(epoch, false)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// ReadInto is Read into t, which it overwrites whole, rather than into a
// new table. t must have the kernel's Params: one that an earlier Read or
// Flip returned, say, or that flowradar.NewTable(k.Params()) made; any
// other table is an error, and is left unchanged. A collector that reads
// every epoch can keep two tables and read into the one it is done with:
// ReadInto then allocates nothing, where Read allocates a table of the
// epoch's size each time. A read that fails (the error says where) may
// leave t partly overwritten.
func (k *Kernel) ReadInto(epoch int, t *flowradar.Table) error {
	if t == nil {
		return errNilTable
	}
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("flowradar", epoch); err != nil {
		return err
	}
	if err := k.checkInto(t); err != nil {
		return err
	}
	tables := [1]*flowradar.Table{t}
	return k.fill(epoch, tables[:])
}

// ReadCPUs returns the tables of epoch 0 or 1 as Read does, but with
// [Options.PerCPU] one table per possible CPU, in CPU order, without
// merging them (without PerCPU, the one shared table). Each CPU's filter
// and cells form a whole table of the packets that CPU saw, so each can be
// decoded on its own, and summing a flow's counters over the CPUs' decoded
// flows gives its exact total even when its packets were spread over
// several CPUs, which the merged table of Read cannot decode. That is
// what happens where XDP runs on the sending CPU rather than on the one
// receive-side scaling picks: on a veth, or in generic XDP.
//
// [Kernel.FlipCPUs] ends an epoch and reads it this way. After a Flip,
// the epoch that ended is 1 - [Kernel.Epoch]: it stays readable until the
// next Flip.
func (k *Kernel) ReadCPUs(epoch int) ([]*flowradar.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	return k.read(epoch, true)
}

// cpus returns the number of copies of each element a batch lookup
// returns: the possible CPUs with per-CPU maps, else 1.
func (k *Kernel) cpus() (int, error) {
	if !k.o.PerCPU {
		return 1, nil
	}
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return 0, fmt.Errorf("flowradar kernel: %w", err)
	}
	return n, nil
}

// read returns new tables of epoch: one per possible CPU when split is
// set and the maps are per-CPU, else one, the CPUs' copies merged.
func (k *Kernel) read(epoch int, split bool) ([]*flowradar.Table, error) {
	if err := bpfload.CheckEpoch("flowradar", epoch); err != nil {
		return nil, err
	}
	n := 1
	if split {
		var err error
		if n, err = k.cpus(); err != nil {
			return nil, err
		}
	}
	tables := make([]*flowradar.Table, n)
	if err := k.fill(epoch, tables); err != nil {
		return nil, err
	}
	return tables, nil
}

// fill reads epoch into tables, making the nil ones: one table, the CPUs'
// copies merged, or one per CPU (len(tables) = k.cpus()).
func (k *Kernel) fill(epoch int, tables []*flowradar.Table) error {
	fm, cm := k.maps(epoch)
	cpus, err := k.cpus()
	if err != nil {
		return err
	}
	// dst(c) is the table that CPU c's copy of an element goes to.
	n, dst := len(tables), func(int) int { return 0 }
	if n > 1 {
		dst = func(c int) int { return c }
	}
	filters := make([][]uint64, n)
	cells := make([][]flowradar.Cell, n)
	// The kernel's buffers, reused from read to read (see Kernel.scratch).
	k.mu.Lock()
	defer k.mu.Unlock()
	if n == 1 {
		// One table: its cells are merged in the scratch buffer.
		if len(k.scratch) != int(k.p.Cells) {
			k.scratch = make([]flowradar.Cell, k.p.Cells)
		} else {
			clear(k.scratch)
		}
		cells[0] = k.scratch
	}
	for i, t := range tables {
		if t == nil {
			if t, err = flowradar.NewTable(k.p); err != nil {
				return err
			}
			tables[i] = t
		}
		filters[i] = t.Filter()
		if cells[i] == nil {
			cells[i] = make([]flowradar.Cell, k.p.Cells)
		}
	}
	if k.cellsMem[epoch] != nil {
		if err := k.readMapped(epoch, filters[0], cells[0]); err != nil {
			return err
		}
		if err := tables[0].SetCells(cells[0]); err != nil {
			return fmt.Errorf("flowradar kernel: read cells of epoch %d: %w", epoch, err)
		}
		return nil
	}
	// Batches of per-CPU elements, every CPU's copy of each: the filter's
	// blocks, then the cells' chunks.
	nblocks, nchunks := uint32(len(filters[0])/8), chunks(k.p.Cells)
	fb := bpfload.BatchLen(nblocks, cpus, int(unsafe.Sizeof(flowradarFrBlock{})))
	cb := bpfload.BatchLen(nchunks, cpus, int(unsafe.Sizeof(flowradarFlowradarCellChunk{})))
	k.batchKeys = bpfload.Grow(k.batchKeys, max(fb, cb))
	k.blockBatch = bpfload.Grow(k.blockBatch, fb*cpus)
	k.chunkBatch = bpfload.Grow(k.chunkBatch, cb*cpus)
	blocks, vals := k.blockBatch, k.chunkBatch
	if err := bpfload.ReadRange(fm, 0, nblocks, k.batchKeys[:fb], blocks, func(key uint32, i int) error {
		if key >= nblocks {
			return fmt.Errorf("filter block %d beyond %d", key, nblocks)
		}
		for _, f := range filters {
			clear(f[8*key : 8*key+8])
		}
		for c, b := range blocks[i*cpus : (i+1)*cpus] { // per CPU: ORed
			w := filters[dst(c)][8*key : 8*key+8]
			for j, x := range b.W {
				w[j] |= x
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("flowradar kernel: read filter of epoch %d: %w", epoch, err)
	}
	// The per-CPU cells: chunk j holds cells 64j to 64j+63, of which the
	// last chunk's past Params.Cells are not the table's (never written).
	if err := bpfload.ReadRange(cm, 0, nchunks, k.batchKeys[:cb], vals, func(key uint32, i int) error {
		if key >= nchunks {
			return fmt.Errorf("cell chunk %d beyond %d", key, nchunks)
		}
		first := int(key) * cellChunk
		n := min(cellChunk, len(cells[0])-first)
		for c := range cpus { // per CPU: merged
			dc, v := cells[dst(c)][first:first+n], &vals[i*cpus+c].Cell
			for j := range dc {
				mergeCell(&dc[j], &v[j])
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("flowradar kernel: read cells of epoch %d: %w", epoch, err)
	}
	for i, t := range tables {
		if err := t.SetCells(cells[i]); err != nil {
			return fmt.Errorf("flowradar kernel: read cells of epoch %d: %w", epoch, err)
		}
	}
	return nil
}

var errNilTable = errors.New("flowradar kernel: read into a nil table; make one with flowradar.NewTable(k.Params())")

// checkInto returns an error unless t is a table of the kernel's Params.
func (k *Kernel) checkInto(t *flowradar.Table) error {
	if p := t.Params(); p != k.p {
		if p == (flowradar.Params{}) {
			return errors.New("flowradar kernel: read into the zero Table; make one with flowradar.NewTable(k.Params())")
		}
		return fmt.Errorf("flowradar kernel: read into a table of %v, want the kernel's %v", p, k.p)
	}
	return nil
}

// readMapped copies epoch's shared filter and cells out of their mappings
// into filter and cells. The filter words and the cells are in host order
// on both sides.
func (k *Kernel) readMapped(epoch int, filter []uint64, cells []flowradar.Cell) error {
	fmem, cmem := k.filterMem[epoch], k.cellsMem[epoch]
	if n := 8 * len(filter); len(fmem) < n {
		return fmt.Errorf("flowradar kernel: read filter of epoch %d: the map holds %d bytes, want %d", epoch, len(fmem), n)
	}
	copy(filter, unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(fmem))), len(filter)))
	const size = int(unsafe.Sizeof(flowradarFlowradarCell{}))
	if n := size * len(cells); len(cmem) < n {
		return fmt.Errorf("flowradar kernel: read cells of epoch %d: the map holds %d bytes, want %d", epoch, len(cmem), n)
	}
	vals := unsafe.Slice((*flowradarFlowradarCell)(unsafe.Pointer(unsafe.SliceData(cmem))), len(cells))
	for i := range cells {
		mergeCell(&cells[i], &vals[i])
	}
	return nil
}

// mergeCell adds a kernel cell into c: FlowXOR XORed, counters summed.
func mergeCell(c *flowradar.Cell, v *flowradarFlowradarCell) {
	for w, x := range v.FlowXor {
		b := c.FlowXOR[8*w:]
		// The kernel XORed the padded key as memory words: host order.
		binary.NativeEndian.PutUint64(b, binary.NativeEndian.Uint64(b)^x)
	}
	c.FlowCount += v.FlowCount
	c.PacketCount += v.PacketCount
	c.ByteCount += v.ByteCount
}

// Clear empties the tables of epoch 0 or 1 (any other epoch is an
// error). Clear the epoch the kernel writes ([Kernel.Epoch]) only while
// no packet arrives: it empties the filter, then the cells, one after
// another (a memory clear of the shared tables' mappings, batch updates
// of the per-CPU ones), and packets counted meanwhile leave the two out
// of step (a flow's key cleared from some of its cells and not from
// others, or XORed in twice), so that the epoch's table may not decode.
// [Kernel.Flip] clears the epoch the kernel does not write.
func (k *Kernel) Clear(epoch int) error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	if err := bpfload.CheckEpoch("flowradar", epoch); err != nil {
		return err
	}
	return k.clear(epoch)
}

// clear is Clear of a checked epoch.
func (k *Kernel) clear(epoch int) error {
	if k.cellsMem[epoch] != nil {
		clear(k.filterMem[epoch])
		clear(k.cellsMem[epoch])
		return nil
	}
	fm, cm := k.maps(epoch)
	if err := bpfload.ClearArray(fm, k.p.FilterBits/bloom.BlockBits, bpfload.Batch); err != nil {
		return fmt.Errorf("flowradar kernel: clear epoch %d filter: %w", epoch, err)
	}
	if err := bpfload.ClearRange(cm, 0, chunks(k.p.Cells), bpfload.Batch); err != nil {
		return fmt.Errorf("flowradar kernel: clear epoch %d cells: %w", epoch, err)
	}
	return nil
}

// Flip ends the epoch, as [flowradar.Encoder.Flip] does: it clears the
// other epoch (idle since the last Flip), points the kernel at it, waits
// until every run of the program that began before that has ended (a
// packet that read the old epoch number writes the old epoch, however
// long its CPU was held up: the wait is the kernel's own, an RCU grace
// period, not a guess of time) and reads back the epoch the kernel
// wrote, every packet of it. That epoch stays in the maps unchanged until
// the next Flip clears it, so [Kernel.Read] can read it again. Flip is not
// safe for concurrent use.
//
// The order makes a failure safe to retry: if the clear fails, the kernel
// still writes the same epoch and a retry returns it whole, but the other
// epoch, the table the previous Flip returned, may be left partly cleared
// (Read it before calling Flip if it is needed again); if the read fails,
// the epoch has ended, the error says which, and Read(epoch) reads it
// again until the next Flip.
//
// With [Options.PinPath], Flip ends the epoch of every kernel on the
// pins, and its wait covers their programs too. It must not run at the
// same time as a Flip or Clear through another kernel on the pins, in
// this process or another (see PinPath).
func (k *Kernel) Flip() (*flowradar.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	ts, err := k.flip(false)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// FlipCPUs is Flip returning the ended epoch as [Kernel.ReadCPUs] does:
// with [Options.PerCPU], one table per possible CPU, each decodable on its
// own where the merged table of Flip is not (flows that moved between
// CPUs, as on a veth).
func (k *Kernel) FlipCPUs() ([]*flowradar.Table, error) {
	if err := k.enter(); err != nil {
		return nil, err
	}
	defer k.life.Exit()
	return k.flip(true)
}

// FlipInto is Flip reading the ended epoch into t, as [Kernel.ReadInto]
// does. A t of other Params is an error before the epoch ends.
func (k *Kernel) FlipInto(t *flowradar.Table) error {
	if t == nil {
		return errNilTable
	}
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
	tables := [1]*flowradar.Table{t}
	if err := k.fill(e, tables[:]); err != nil {
		return bpfload.EndedReadError("flowradar", e, err)
	}
	return nil
}

// flip is Flip, returning the ended epoch's tables as read(e, split).
func (k *Kernel) flip(split bool) ([]*flowradar.Table, error) {
	e, err := k.endEpoch()
	if err != nil {
		return nil, err
	}
	ts, err := k.read(e, split)
	if err != nil {
		return nil, bpfload.EndedReadError("flowradar", e, err)
	}
	return ts, nil
}

// endEpoch ends the epoch the kernel writes and returns it (see Flip).
func (k *Kernel) endEpoch() (int, error) {
	return bpfload.EndEpoch("flowradar", k.objs.FlowradarEpoch, k.wait, k.clear)
}

// Stats sums the per-CPU counters, with no allocation.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	if err := k.enter(); err != nil {
		return s, err
	}
	defer k.life.Exit()
	var sums [flowradarFlowradarStatFR_STAT_MAX]uint64
	if err := bpfload.SumPerCPU(k.objs.FlowradarStats, sums[:]); err != nil {
		return s, fmt.Errorf("flowradar kernel: read stats: %w", err)
	}
	copy(s.Outcomes[:], sums[:])
	s.NewFlows = sums[flowradarFlowradarStatFR_STAT_NEW_FLOW]
	for _, v := range sums[flowradarFlowradarStatFR_STAT_MISSING:] {
		s.Missing += v
	}
	return s, nil
}

// ResetStats zeroes the per-CPU counters (with [Options.PinPath], those
// that every kernel on the pins counts in and reads), with no allocation.
func (k *Kernel) ResetStats() error {
	if err := k.enter(); err != nil {
		return err
	}
	defer k.life.Exit()
	const n = uint32(flowradarFlowradarStatFR_STAT_MAX)
	if err := bpfload.ClearArray(k.objs.FlowradarStats, n, int(n)); err != nil {
		return fmt.Errorf("flowradar kernel: reset stats: %w", err)
	}
	return nil
}

// Close frees the kernel (detach links yourself first). It waits for the
// calls in progress; after it, Epoch, Read, Clear, Flip, Stats,
// ResetStats and Attach return an error saying the kernel is closed, and
// a second Close does nothing; Program returns the closed program, whose
// runs fail. Close of a nil *Kernel (a failed Load's) returns nil. With
// [Options.PinPath], the pinned maps stay, with what they hold, for the
// next Load; [Unpin] removes them.
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	return k.life.Close(func() error {
		k.scratch, k.batchKeys, k.blockBatch, k.chunkBatch = nil, nil, nil, nil
		err := errors.Join(k.objs.Close(), k.wait.Close())
		for e := range 2 {
			err = errors.Join(err, bpfload.Munmap(k.filterMem[e]), bpfload.Munmap(k.cellsMem[e]))
			k.filterMem[e], k.cellsMem[e] = nil, nil
		}
		return err
	})
}
