package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// ErrNoEvent is returned by [Kernel.NextEvent] when no event is waiting.
var ErrNoEvent = errors.New("cms kernel: no event waiting")

// Mode selects what the kernel does with each packet.
type Mode uint32

// Modes, equal to enum cms_mode in cms.bpf.c (a test checks it).
const (
	ModeShared Mode = 0 // sketch, one shared array, atomic adds
	ModePerCPU Mode = 1 // sketch, per-CPU arrays summed on read
	ModeDetect Mode = 2 // the lab's heavy-hitter detector (drops)
)

// String returns the mode's name: "shared", "per-cpu" or "detect".
func (m Mode) String() string {
	switch m {
	case ModeShared:
		return "shared"
	case ModePerCPU:
		return "per-cpu"
	case ModeDetect:
		return "detect"
	}
	return fmt.Sprintf("Mode(%d)", uint32(m))
}

// XDP verdicts the kernel returns, as bloom/xdp's: every packet passes but
// those the detector drops.
const (
	VerdictDrop uint32 = 1 // XDP_DROP
	VerdictPass uint32 = 2 // XDP_PASS
)

// Options configure the kernel at load time.
type Options struct {
	// Params are the sketch's width, depth and seed. Conservative update is
	// not offered by the kernel (it must be false). Width and Depth have
	// no default, in any mode: the same Params build the Go model
	// ([cms.NewDetector], [cms.New]), which rejects zero, and
	// [Kernel.Sketch] returns a sketch with exactly these Params. The lab's
	// detector is [cms.LabParams] (d = 2).
	Params cms.Params
	// Mode selects sketch or detector.
	Mode Mode
	// Threshold is the detector's threshold (ModeDetect); zero means
	// [cms.DefaultThreshold], the lab's 1000. The sketch modes have none:
	// Load refuses a Threshold with them.
	Threshold uint32
	// EventsBytes is the ring buffer's size for detector events: a power of
	// two from the page size (4096 bytes on most machines, 64 KiB on some
	// arm64 and ppc64 kernels) to 2^30; zero means 256 KiB, room for 3,276
	// events (each takes 80 bytes of ring: 72 of event, 8 of record
	// header). It applies to ModeDetect only: the sketch modes send no
	// events and get a ring of one page, though a value out of range is
	// refused in every mode.
	EventsBytes int
	// Epochs keeps two sketches in the kernel: packets count in one, the
	// current epoch, while the other holds the last epoch that ended.
	// [Kernel.Flip] ends the current epoch and returns its sketch whole,
	// every packet of the epoch in every row (unless a counter saturated)
	// and no packet of another, under traffic; [Kernel.Reset] cannot
	// promise that (it clears counters while packets may be counting). It
	// doubles the counters' memory and costs the kernel one more map
	// lookup a packet.
	//
	// In detector mode an epoch is an interval of the lab's detector
	// under traffic: it starts with zero counters and no flow reported,
	// as after [cms.Detector.Reset], and every packet is judged by the
	// counters and reports of the epoch it counts in ([Event].Epoch
	// names it). A flow dropped at the end of one epoch passes in the
	// next until it reaches the threshold again, and is reported again.
	// The report cache doubles too.
	Epochs bool
	// PinPath, if not empty, is a directory of a BPF file system (such as
	// one under /sys/fs/bpf) in which Load pins the kernel's maps, or
	// takes up, as they are, the maps that a load with the same options
	// pinned there before. Kernels loaded with one PinPath share the
	// counters, the statistics, the epoch, the detector's memory of
	// reported flows and the ring buffer of events: several processes can
	// drive one data plane (a collector and a reader, say), and a process
	// that restarts finds the sketch, the epoch and the statistics as it
	// left them. Every mode shares its counters: the shared array, which
	// each Kernel maps into its memory, or the per-CPU copies, one per
	// CPU and not per kernel, which the programs of all the kernels
	// count in (so the detector drops a flow whose packets reached the
	// threshold on a CPU, whichever kernel's program they went through).
	// A Kernel keeps none of that state: every read reads the maps, so a
	// packet counted through one kernel, or an epoch ended through one,
	// is seen at once through the others.
	//
	// What changes the state changes it for all: a Reset clears it, and
	// a Flip or Clear ends or clears the epoch, of every kernel of the
	// PinPath. The rule that a Flip must not overlap another Flip, a
	// Clear or a Reset holds across them, in whatever process: end
	// epochs through one kernel.
	//
	// The ring buffer of events has one read position, which the kernels
	// move without locking each other out: an event read through one is
	// gone for the others, and two reading at once can read the same
	// event twice, or misread one. Read events through one kernel at a
	// time; one loaded after a restart reads the events left unread.
	//
	// Load refuses a PinPath holding a kernel loaded with other options,
	// naming the load-time constants that differ: cms_seed, cms_width
	// and cms_depth (Params), cms_chunks (the width's layout), cms_run_mode
	// (Mode), cms_threshold (Threshold) and cms_epochs (Epochs). In
	// detector mode it also refuses another ring size, naming
	// EventsBytes. Pins outlive the processes; [Unpin] removes them. Each
	// Load has its own program: attach one (and pin its link, with
	// link.Pin, to keep it attached when the process ends).
	// To upgrade the program without a gap, load the new one with the same
	// PinPath, open the link with link.LoadPinnedLink and Update it to the
	// new kernel's Program: the maps go on as they were.
	PinPath string
}

// DefaultEventsBytes is the ring size when Options.EventsBytes is zero.
const DefaultEventsBytes = 256 << 10

func (o Options) threshold() uint32 {
	if o.Threshold == 0 {
		return cms.DefaultThreshold
	}
	return o.Threshold
}

func (o Options) eventsBytes() int {
	if o.EventsBytes == 0 {
		return DefaultEventsBytes
	}
	return o.EventsBytes
}

// Validate checks the options as Load does before it loads anything, so
// without privileges or a BPF-capable kernel (on any OS), and returns the
// error Load would return for them, or nil.
func (o Options) Validate() error {
	if err := o.Params.Validate(); err != nil {
		if o.Mode == ModeDetect && o.Params.Depth == 0 {
			return prefixed(fmt.Errorf("%w (the lab's detector has d = 2: cms.LabParams)", err))
		}
		return prefixed(err)
	}
	if o.Params.Conservative {
		return fmt.Errorf("cms kernel: conservative update is not offered by the kernel, got Conservative true")
	}
	if o.Mode > ModeDetect {
		return fmt.Errorf("cms kernel: mode must be shared, per-cpu or detect, got %d", uint32(o.Mode))
	}
	if o.Threshold != 0 && o.Mode != ModeDetect {
		return fmt.Errorf("cms kernel: Threshold is the detector's (ModeDetect); the %s sketch has none, got %d", o.Mode, o.Threshold)
	}
	if n, page := o.eventsBytes(), os.Getpagesize(); n < page || n&(n-1) != 0 || n > 1<<30 {
		return fmt.Errorf("cms kernel: EventsBytes must be a power of two from the page size, %d, to 2^30, got %d", page, o.EventsBytes)
	}
	return nil
}

// prefixed returns err, an error of package cms, with "cms kernel: " in
// place of its "cms: ".
func prefixed(err error) error { return bpfload.Reprefix(err, "cms: ", "cms kernel: ") }

// Stats are the kernel's counters summed over CPUs.
type Stats struct {
	// Outcomes counts packets by parse outcome, indexed by [flow.Outcome].
	Outcomes [4]uint64
	// Dropped counts detector drops.
	Dropped uint64
	// Events counts events sent (crossings and first drops, see [Event]);
	// EventsLost those lost to a full ring buffer. The flow's next
	// dropped packet tries again, so while the ring stays full a flow
	// counts here once per dropped packet.
	Events, EventsLost uint64
	// SatMissed counts increments lost near saturation (shared mode, a
	// counter at or above 2^32-65537 losing four compare-and-swap races).
	SatMissed uint64
}

// Packets returns the number of packets the kernel has seen: the sum of
// Outcomes (every packet has one).
func (s Stats) Packets() uint64 {
	var n uint64
	for _, v := range s.Outcomes {
		n += v
	}
	return n
}

// Event reports a flow of the detector (detector mode), as
// [cms.Detector.FilterReport] does: Report is [cms.ReportCrossed] when the
// flow's packet brought its minimum counter to the threshold (that packet
// passed; the flow's next one is dropped), [cms.ReportDropped] when a
// packet of a flow not reported before was dropped (other flows filled its
// counters). Every flow the detector drops is reported, once per CPU
// unless another reported flow took its report slot (see
// [cms.ReportSlots]), so the same key may be reported more than once;
// with [Options.Epochs], again in each epoch it is detected in.
type Event struct {
	Key      flow.Key
	Hash     uint64     // the key's hash under the sketch's seed
	Estimate uint32     // the flow's minimum counter: the threshold when crossed, at least it when dropped
	CPU      uint32     // the CPU whose counters it was detected on
	Report   cms.Report // why it was reported
	Epoch    int        // the epoch whose counters it was detected on (0 or 1; always 0 without Options.Epochs)
}

// HeavyFlows returns the distinct flows that events name, in the order of
// their first report: the heavy flows by key, however often each was
// reported (once per CPU that detected it, and again after another flow
// took its report slot). It returns nil for no events.
func HeavyFlows(events []Event) []flow.Key {
	var keys []flow.Key
	seen := make(map[flow.Key]bool, len(events))
	for _, e := range events {
		if !seen[e.Key] {
			seen[e.Key] = true
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// eventSize is sizeof(struct cms_event): flow_key (48) + hash (8) +
// estimate (4) + cpu (4) + report (4) + epoch (4). A test checks it
// against the generated type.
const eventSize = 72

// decodeEvent decodes a struct cms_event in host byte order.
func decodeEvent(b []byte) (Event, error) {
	if len(b) < eventSize {
		return Event{}, fmt.Errorf("cms kernel: event of %d bytes, want %d", len(b), eventSize)
	}
	ne := binary.NativeEndian
	key, err := bpfload.FlowKey(b)
	if err != nil {
		return Event{}, fmt.Errorf("cms kernel: bad key in event: %w", err)
	}
	r := ne.Uint32(b[64:])
	if r != uint32(cms.ReportCrossed) && r != uint32(cms.ReportDropped) {
		return Event{}, fmt.Errorf("cms kernel: event with report %d, want %d (crossed) or %d (dropped)", r, cms.ReportCrossed, cms.ReportDropped)
	}
	ep := ne.Uint32(b[68:])
	if ep > 1 {
		return Event{}, fmt.Errorf("cms kernel: event of epoch %d, want 0 or 1", ep)
	}
	return Event{Key: key, Hash: ne.Uint64(b[48:]), Estimate: ne.Uint32(b[56:]), CPU: ne.Uint32(b[60:]), Report: cms.Report(r), Epoch: int(ep)}, nil
}
