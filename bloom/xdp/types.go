package xdp

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Layout selects the filter kind the kernel reads.
type Layout uint32

const (
	Classic Layout = 0 // a bloom.Filter
	Blocked Layout = 1 // a bloom.Blocked
)

// String returns the layout's name: "classic" or "blocked".
func (l Layout) String() string {
	switch l {
	case Classic:
		return "classic"
	case Blocked:
		return "blocked"
	}
	return fmt.Sprintf("Layout(%d)", uint32(l))
}

// KeyMode selects the bytes of a packet's key that are hashed.
type KeyMode uint32

const (
	// KeyFlow hashes the canonical 5-tuple bytes ([flow.Key.Bytes]).
	KeyFlow KeyMode = 0
	// KeySource hashes the source address alone: 4 bytes (IPv4) or 16
	// bytes (IPv6), network byte order.
	KeySource KeyMode = 1
)

// Action is what the kernel does with members.
type Action uint32

const (
	// DropMembers drops the packets whose key is in the filter and passes
	// the rest: a blocklist.
	DropMembers Action = 0
	// PassMembers passes the packets whose key is in the filter and drops
	// the rest: an allowlist. Packets that do not parse still pass.
	PassMembers Action = 1
)

// XDP verdicts the kernel returns.
const (
	VerdictDrop uint32 = 1 // XDP_DROP
	VerdictPass uint32 = 2 // XDP_PASS
)

// Options configure the kernel at load time.
type Options struct {
	// Params are the filter's m, k and seed; the filters written to and
	// read from the kernel have exactly these.
	Params bloom.Params
	// Layout is Classic (Params from bloom.ParamsFor) or Blocked (Params
	// from bloom.BlockedParamsFor).
	Layout Layout
	// Key selects what is hashed: the 5-tuple or the source address.
	Key KeyMode
	// Action is what happens to members.
	Action Action
	// Learn inserts every parsed packet's key into the filter (atomic OR)
	// and passes every packet; Action is then unused, though Load still
	// requires one of the two values.
	Learn bool
	// PinPath, if not empty, is a directory of a BPF file system (such as
	// one under /sys/fs/bpf) in which Load pins the kernel's maps, or
	// takes up the maps that a load with the same options pinned there
	// before. Kernels loaded with one PinPath share their filter and
	// counters: several processes can drive one data plane (a writer and
	// a reader, say), and a process that restarts finds the filter (and,
	// in learn mode, the flows seen) as it left it; Load clears nothing it
	// takes up. The rule that a write must not run alongside another
	// holds across the kernels of one path as within one Kernel, though
	// nothing enforces it between processes. Load refuses a PinPath
	// holding a kernel loaded with other options, naming the load-time
	// constants that differ (bloom_cfg_seed, for instance). Pins outlive
	// the processes; [Unpin] removes them. Each Load has its own program:
	// attach one (and pin its link, with link.Pin, to keep it attached
	// when the process ends).
	// To upgrade the program without a gap, load the new one with the same
	// PinPath, open the link with link.LoadPinnedLink and Update it to the
	// new kernel's Program: the maps go on as they were.
	PinPath string
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil. It builds no filter (a
// maximal one takes 512 MiB).
func (o Options) Validate() error {
	var err error
	switch o.Layout {
	case Classic:
		err = o.Params.Validate()
	case Blocked:
		err = o.Params.ValidateBlocked()
	default:
		return fmt.Errorf("bloom kernel: layout must be Classic (0) or Blocked (1), got %d", o.Layout)
	}
	if err != nil {
		return bpfload.Reprefix(err, "bloom: ", "bloom kernel: Params: ")
	}
	if o.Key != KeyFlow && o.Key != KeySource {
		return fmt.Errorf("bloom kernel: key mode must be KeyFlow (0) or KeySource (1), got %d", o.Key)
	}
	if o.Action != DropMembers && o.Action != PassMembers {
		return fmt.Errorf("bloom kernel: action must be DropMembers (0) or PassMembers (1), got %d", o.Action)
	}
	return nil
}

// words returns the number of 64-bit words of the filter.
func (o Options) words() int { return int((o.Params.Bits + 63) / 64) }

// blocks is the number of 512-bit blocks of the filter map: eight words
// each.
func (o Options) blocks() int { return (o.words() + 7) / 8 }

// maxFlatBytes is the largest classic filter the kernel finds in one map
// element: 4 MiB (KMALLOC_MAX_SIZE with 4 KiB pages, the largest value an
// array map takes). 2^25 bits hold a million keys at a false-positive
// rate of 0.1%.
const maxFlatBytes = 4 << 20

// flat reports whether the filter map holds the filter in one element
// (flatWords words) rather than a block per element: a classic filter of
// up to maxFlatBytes, whose k bits then take one map lookup, not k. A
// blocked filter's bits are in one block and take one lookup anyway.
func (o Options) flat() bool {
	return o.Layout == Classic && 8*o.flatWords() <= maxFlatBytes
}

// flatWords is the size in words of the one element of a flat filter:
// its words rounded up to a power of two, and to one block at least, so
// that the kernel bounds a word's index with a mask, not a test.
func (o Options) flatWords() int { return max(8, 1<<bits.Len(uint(o.words()-1))) }

// cells returns the kernel's bloom_cfg_cells: bits, or blocks.
func (o Options) cells() uint32 {
	if o.Layout == Blocked {
		return uint32(o.Params.Bits / bloom.BlockBits)
	}
	return uint32(o.Params.Bits)
}

// KeyBytes returns the bytes of k that the kernel hashes in the given mode:
// add these to a filter to match packets. It aliases k and never allocates;
// k must not be nil.
func KeyBytes(k *flow.Key, mode KeyMode) []byte {
	b := k.Bytes()
	if mode == KeySource {
		if k.Is6() {
			return b[:16]
		}
		return b[:4]
	}
	return b
}

// Stats are the kernel's counters summed over CPUs, counted since the Load
// that made them (with [Options.PinPath], the load that pinned them) or
// the last [Kernel.ResetStats]. Every packet counts in Passed or Dropped;
// those that do not parse also count in Malformed (truncated or
// malformed, flow.ErrTruncated or flow.ErrMalformed) or NotIP.
type Stats struct {
	Passed, Dropped, Malformed, NotIP uint64
}

// Packets returns the number of packets the kernel has seen: Passed plus
// Dropped (every packet is one or the other).
func (s Stats) Packets() uint64 { return s.Passed + s.Dropped }

// Model is the kernel written in Go: [Model.Run] returns the verdict the
// kernel returns for a frame and makes the same change to the filter and
// the counters. Tests run every frame through both. Set Filter for the
// Classic layout and Blocked for the Blocked one, built with
// Options.Params (as [Kernel.WriteFilter] and [Kernel.WriteBlocked]
// require); the other is unused.
type Model struct {
	Options
	Filter  *bloom.Filter
	Blocked *bloom.Blocked
	Stats   Stats
}

// Run runs the model on one frame (as the kernel sees it: at most its
// linear part) and returns the kernel's verdict. A model that no kernel
// could be (Options that [Load] refuses, or no filter of the layout, or a
// filter whose m, k or seed differ from Options.Params) gets an error
// saying so, on every frame, and counts nothing.
func (m *Model) Run(frame []byte) (uint32, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	info, err := flow.Parse(frame)
	if err != nil {
		if flow.OutcomeOf(err) == flow.OutcomeNotIP {
			m.Stats.NotIP++
		} else {
			m.Stats.Malformed++
		}
		m.Stats.Passed++
		return VerdictPass, nil
	}
	key := KeyBytes(&info.Key, m.Key)
	if m.Learn {
		if m.Layout == Blocked {
			m.Blocked.Add(key)
		} else {
			m.Filter.Add(key)
		}
		m.Stats.Passed++
		return VerdictPass, nil
	}
	var member bool
	if m.Layout == Blocked {
		member = m.Blocked.Contains(key)
	} else {
		member = m.Filter.Contains(key)
	}
	if member == (m.Action == DropMembers) {
		m.Stats.Dropped++
		return VerdictDrop, nil
	}
	m.Stats.Passed++
	return VerdictPass, nil
}

// check returns the error of Run for a model no kernel could be.
func (m *Model) check() error {
	if err := m.Validate(); err != nil {
		return err
	}
	var p bloom.Params
	name := "Filter"
	if m.Layout == Blocked {
		if m.Blocked == nil {
			return errors.New("bloom model: Run with the Blocked layout and a nil Model.Blocked (set it to a bloom.Blocked of Options.Params)")
		}
		p, name = m.Blocked.Params(), "Blocked"
	} else {
		if m.Filter == nil {
			return errors.New("bloom model: Run with the Classic layout and a nil Model.Filter (set it to a bloom.Filter of Options.Params)")
		}
		p = m.Filter.Params()
	}
	if q := m.Params; p.Bits != q.Bits || p.Hashes != q.Hashes || p.Seed != q.Seed {
		return fmt.Errorf("bloom model: Model.%s has bits %d, hashes %d, seed %#x; Options.Params have bits %d, hashes %d, seed %#x",
			name, p.Bits, p.Hashes, p.Seed, q.Bits, q.Hashes, q.Seed)
	}
	return nil
}
