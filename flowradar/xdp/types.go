package xdp

import (
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Stats are the kernel's counters summed over CPUs, counted since the
// Load or the last [Kernel.ResetStats]: a Flip does not reset them, and an
// epoch's counts are the difference of two readings (which, taken under
// traffic, may include the next epoch's first packets). With
// [Options.PinPath] the counters are those of every kernel on the pins:
// counted since the load that pinned them, or the last ResetStats of any
// of those kernels.
type Stats struct {
	// Outcomes counts packets by parse outcome, indexed by [flow.Outcome].
	Outcomes [4]uint64
	// NewFlows counts packets the kernel took as a flow's first.
	NewFlows uint64
	// Missing counts failed map lookups (never, when the sizes agree).
	Missing uint64
}

// Packets returns the number of packets the kernel saw.
func (s Stats) Packets() uint64 {
	var n uint64
	for _, v := range s.Outcomes {
		n += v
	}
	return n
}

// Options configure the kernel at load time.
type Options struct {
	// Params are the table's dimensions and seed (flowradar.ParamsFor).
	Params flowradar.Params
	// PerCPU gives each CPU its own filter and table, updated without
	// atomic operations, merged when read. Whether that is cheaper a
	// packet depends on the CPU's price for an atomic operation: about
	// half the shared table's cost on one VM, 10 to 20% more on another
	// (the README's kernel table); CPUs contending for a shared cell's
	// cache line make the shared table dearer. A flow seen on two CPUs is
	// XORed into the merged cells twice and does not decode, so
	// [Kernel.Read] and [Kernel.Flip] need every flow to stay on one CPU
	// (receive-side scaling on the 5-tuple). Where flows move between CPUs
	// (on a veth, or in generic XDP, the program runs on the sending CPU),
	// read the CPUs' tables one by one with [Kernel.FlipCPUs] or
	// [Kernel.ReadCPUs] and sum each flow's decoded counters. Even with
	// RSS the merge is that of one table per CPU, which can differ from
	// one shared table of all packets: each CPU's filter knows its own
	// flows only, so a flow that would be a filter false positive among
	// all flows can be new on its CPU.
	PerCPU bool
	// PinPath, if not empty, is a directory of a BPF file system (such as
	// one under /sys/fs/bpf) in which Load pins the kernel's maps, or
	// takes up the maps that a load with the same options pinned there
	// before. Kernels loaded with one PinPath share the epoch number, the
	// filters and cells of both epochs, and the counters: a packet that
	// one kernel's program counts is in every kernel's Read and Stats, a
	// Flip through one moves them all to the other epoch, and a process
	// that restarts finds the tables, the epoch and the counters as it
	// left them (Load clears and resets none of them). Both modes pin
	// all their maps, those of the mode not in use (one entry each)
	// included. Each Load has its own program, memory mappings and read
	// buffers: attach its program yourself (and pin the link, with
	// link.Pin, to keep the program attached when the process ends).
	// To upgrade the program without a gap, load the new one with the same
	// PinPath, open the link with link.LoadPinnedLink and Update it to the
	// new kernel's Program: the maps go on as they were.
	//
	// Load refuses a PinPath holding a kernel loaded with other options,
	// with an error naming each load-time constant that differs: fr_seed,
	// fr_k, fr_sub, fr_fk and fr_blocks (Params: Seed, Hashes,
	// Cells/Hashes, FilterHashes and FilterBits/512) and fr_percpu
	// (PerCPU). Loads with one PinPath may run at once, in one process or
	// several. Pins outlive the processes; [Unpin] removes them.
	//
	// Let one process end the epochs. Flip's wait covers the programs of
	// every process: it is an RCU grace period, which no program run that
	// began before it outlasts, whoever loaded the program. But Flip and
	// Clear change the maps every kernel on the pins reads: a Flip clears
	// the epoch that the previous Flip, in any process, returned, so two
	// processes that Flip can clear an epoch while the other reads it.
	// Other processes can Read the ended epoch, 1 - [Kernel.Epoch], until
	// the next Flip, as within one process. [Kernel.ResetStats] zeroes
	// the counters of all the kernels.
	PinPath string
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil.
func (o Options) Validate() error {
	if err := o.Params.Validate(); err != nil {
		return bpfload.Reprefix(err, "flowradar: ", "flowradar kernel: ")
	}
	return nil
}

// Encode is the Go model of the kernel: it adds every frame that
// [flow.Parse] accepts to t, with the frame's length as its size, and
// returns the parse outcomes. A frame must be what the kernel sees, since
// the kernel counts the bytes it was given: a test run (BPF_PROG_TEST_RUN)
// gives it at most 3520 bytes with 4 KiB pages (3328 on s390x) in one
// buffer, and newer kernels put the rest of a longer frame in fragments
// that the program never reads.
func Encode(t *flowradar.Table, frames [][]byte) (outcomes [4]uint64) {
	for _, f := range frames {
		info, err := flow.Parse(f)
		outcomes[flow.OutcomeOf(err)]++
		if err == nil {
			t.Add(&info.Key, uint32(len(f)))
		}
	}
	return outcomes
}
