//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Kernel is the loaded bloom kernel. Close it when done.
type Kernel struct {
	objs bloomObjects
	opts Options
}

// Load loads the kernel with the given options and an empty filter. The
// error matches [ebpf.ErrNotSupported] where BPF is unavailable, and carries
// the verifier log if the kernel rejects the program.
func Load(opts Options) (*Kernel, error) {
	if err := opts.validate(); err != nil {
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
	if err := bpfload.Load(spec, "bloom", &k.objs); err != nil {
		return nil, err
	}
	return k, nil
}

// Spec returns the kernel's CollectionSpec, for tests that load it
// themselves.
func Spec() (*ebpf.CollectionSpec, error) { return loadBloom() }

// Configure sets opts on spec: the load-time constants and the size of the
// filter map (one entry per 512-bit block of eight words).
func Configure(spec *ebpf.CollectionSpec, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	learn := uint32(0)
	if opts.Learn {
		learn = 1
	}
	if err := bpfload.SetVars(spec, "bloom", map[string]any{
		bloomVarBloomCfgSeed:    opts.Params.Seed,
		bloomVarBloomCfgK:       uint32(opts.Params.Hashes),
		bloomVarBloomCfgCells:   opts.cells(),
		bloomVarBloomCfgLayout:  uint32(opts.Layout),
		bloomVarBloomCfgKeyMode: uint32(opts.Key),
		bloomVarBloomCfgAction:  uint32(opts.Action),
		bloomVarBloomCfgLearn:   learn,
	}); err != nil {
		return err
	}
	spec.Maps[bloomMapBloomWords].MaxEntries = uint32(opts.blocks())
	return nil
}

// Program returns the XDP program, for attaching or test runs. It stays
// owned by k.
func (k *Kernel) Program() *ebpf.Program { return k.objs.XdpBloom }

// Attach attaches the program to the interface with the given index in the
// default XDP mode. Close the link to detach.
func (k *Kernel) Attach(ifindex int) (link.Link, error) {
	l, err := link.AttachXDP(link.XDPOptions{Program: k.objs.XdpBloom, Interface: ifindex})
	if err != nil {
		return nil, fmt.Errorf("attach bloom kernel to interface %d: %w", ifindex, err)
	}
	return l, nil
}

// Run runs the program once on frame with BPF_PROG_TEST_RUN and returns its
// verdict (counters and, in learn mode, the filter change as for a real
// packet). frame must hold at least an Ethernet header.
func (k *Kernel) Run(frame []byte) (uint32, error) {
	v, err := k.objs.XdpBloom.Run(&ebpf.RunOptions{Data: frame, Repeat: 1})
	if err != nil {
		return 0, fmt.Errorf("bloom kernel: test run on a %d-byte frame: %w", len(frame), err)
	}
	return v, nil
}

// Bench runs the program repeat times on frame with BPF_PROG_TEST_RUN and
// returns the kernel's mean time per run.
func (k *Kernel) Bench(frame []byte, repeat int) (time.Duration, error) {
	_, d, err := k.objs.XdpBloom.Benchmark(frame, repeat, nil)
	if err != nil {
		return 0, fmt.Errorf("bloom kernel: benchmark on a %d-byte frame: %w", len(frame), err)
	}
	return d, nil
}

// WriteFilter replaces the kernel's filter by f, which must have the
// loaded Params and the Classic layout.
//
// The words are written in batches while packets keep flowing, each word
// whole: a packet racing with the write may test some words of the old
// filter and some of the new. A key in both filters is found throughout;
// a key in only one of them may get either verdict until WriteFilter
// returns. (In learn mode, bits the kernel sets during the write may be
// overwritten.)
func (k *Kernel) WriteFilter(f *bloom.Filter) error {
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

// batch is the number of blocks per map syscall.
const batch = 1 << 11

// writeWords writes words into the kernel's blocks, the last one padded
// with zero words.
func (k *Kernel) writeWords(words []uint64) error {
	m := k.objs.BloomWords
	n := k.opts.blocks()
	keys := make([]uint32, min(batch, n))
	vals := make([]bloomBloomBlock, min(batch, n))
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		ks, vs := keys[:end-start], vals[:end-start]
		for i := range ks {
			ks[i] = uint32(start + i)
			vs[i] = bloomBloomBlock{}
			copy(vs[i].W[:], words[min(8*(start+i), len(words)):])
		}
		if _, err := m.BatchUpdate(ks, vs, nil); err != nil {
			if !errors.Is(err, ebpf.ErrNotSupported) {
				return fmt.Errorf("bloom kernel: write blocks %d to %d: %w", start, end, err)
			}
			for i, key := range ks { // kernels before 5.6: one block per call
				if err := m.Put(key, &vs[i]); err != nil {
					return fmt.Errorf("bloom kernel: write block %d: %w", key, err)
				}
			}
		}
	}
	return nil
}

// readWords reads the kernel's blocks into words (whose length is the
// filter's word count: a classic filter's padding words are dropped).
func (k *Kernel) readWords(words []uint64) error {
	m := k.objs.BloomWords
	var v bloomBloomBlock
	for b := 0; 8*b < len(words); b++ {
		if err := m.Lookup(uint32(b), &v); err != nil {
			return fmt.Errorf("bloom kernel: read block %d: %w", b, err)
		}
		copy(words[8*b:], v.W[:])
	}
	return nil
}

// Filter returns a copy of the kernel's filter (Classic layout): in learn
// mode, the keys of every packet seen.
func (k *Kernel) Filter() (*bloom.Filter, error) {
	if k.opts.Layout != Classic {
		return nil, errors.New("bloom kernel: Filter on a kernel loaded with the Blocked layout; use Blocked")
	}
	f := bloom.MustNew(k.opts.Params)
	return f, k.readWords(f.Words())
}

// Blocked is Filter for the Blocked layout.
func (k *Kernel) Blocked() (*bloom.Blocked, error) {
	if k.opts.Layout != Blocked {
		return nil, errors.New("bloom kernel: Blocked on a kernel loaded with the Classic layout; use Filter")
	}
	f := bloom.MustNewBlocked(k.opts.Params)
	return f, k.readWords(f.Words())
}

// Stats sums the per-CPU counters.
func (k *Kernel) Stats() (Stats, error) {
	var s Stats
	dst := []*uint64{&s.Passed, &s.Dropped, &s.Malformed, &s.NotIP}
	for i := uint32(0); i < uint32(bloomBloomStatBLOOM_STAT_MAX); i++ {
		var per []uint64
		if err := k.objs.BloomStats.Lookup(i, &per); err != nil {
			return s, fmt.Errorf("bloom kernel: read stats: %w", err)
		}
		for _, v := range per {
			*dst[i] += v
		}
	}
	return s, nil
}

// Close detaches nothing (close links yourself) and frees the kernel.
func (k *Kernel) Close() error { return k.objs.Close() }
