// Package xdp is the reference kernel of package cms: an XDP program that
// parses every frame with the shared parser, hashes its flow key with the
// shared hash and updates the counters of a count-min sketch as
// [cms.Sketch] does (d rows of w uint32 counters, counter of row r at
// column flow.Index(h, r, w)), so [Kernel.Sketch] reads the kernel's map
// back as a cms.Sketch equal, counter for counter, to the Go sketch of the
// same packets. The map's memory is not the Go []uint32: the counters maps
// hold a row per element (padded to 8 bytes), so the element a packet
// updates does not depend on its hash and the kernel looks it up while it
// hashes (about 1 ns saved a row in the per-CPU modes); rows wider than an
// element may be (8192 counters in a per-CPU map, whose values the kernel
// bounds at 32 KiB; 2^20 in the shared one, 4 MiB) are cut into chunks of
// that many counters, whose lookup waits for the hash again, the last
// chunk of a row allocated whole (a width just over a multiple of the
// chunk takes up to 32 KiB more a row and CPU, or 4 MiB more a row
// shared). [Kernel.Counters] reads them back in the Go order, row-major.
// [Kernel.SketchInto] reads them into a sketch the caller keeps, for a
// collector that polls the kernel without allocating a sketch each time.
//
// Modes ([Mode]):
//
//   - [ModeShared]: one array for all CPUs, atomic adds (saturating near
//     2^32). The map is memory-mapped, so reading it is one copy.
//   - [ModePerCPU]: one copy of the counters per CPU, plain adds; the loader
//     sums the copies with saturation, which equals [cms.Sum] of per-CPU
//     sketches.
//   - [ModeDetect]: the heavy-hitter detector of the lab described in
//     package cms, modelled in Go by [cms.Detector.FilterReport]:
//     per-CPU counters, d rows as set in [Options] (the lab has d = 2: use
//     [cms.LabParams]; Depth has no default); a packet whose flow's minimum
//     counter has reached the threshold is dropped (XDP_DROP) and not
//     counted; any other is counted and passed.
//
// In detector mode the kernel reports flows through a ring buffer
// ([Kernel.Events], [Event]): the packet that brings a flow's minimum to
// the threshold ([cms.ReportCrossed]; the flow that added the last
// increment, which may be a small one whose counters others filled), and
// the first dropped packet of a flow not reported before
// ([cms.ReportDropped]; a flow whose counters colliding flows filled is
// dropped without ever crossing). So every flow the detector drops is
// named, once on each CPU that drops it, and again only if another
// reported flow took its slot in the per-CPU report cache
// ([cms.ReportSlots] flow hashes): reports may repeat, never miss. A
// report lost to a full ring buffer ([Stats].EventsLost) is not
// remembered, so the flow's next dropped packet on that CPU reports it
// (only a flow that sends nothing more after the loss stays unnamed, or,
// with epochs, nothing more in that epoch).
// [HeavyFlows] lists each reported flow once. They cost about one ring
// buffer record per heavy flow while fewer dropped flows than report slots
// are active at once (with many more, reports repeat, at worst one per
// dropped packet). Each CPU
// detects over its own counters: with RSS every packet of a flow reaches
// one CPU, so that is the lab's detector per CPU; a flow spread over CPUs
// can be reported once per CPU, and passes up to the threshold on each.
// On a veth, and in generic XDP, the program runs on the CPU of the
// sender, so a sender that moves between CPUs spreads its flows: pin it
// for one threshold per flow.
//
// [Kernel.Reset] starts a new interval, as [cms.Detector.Reset] does:
// counters, statistics and the memory of reported flows go back to zero
// while the kernel stays attached. Under traffic it is approximate: a
// packet counting while the counters are cleared may stay in some rows
// and not others. Every mode offers exact intervals instead: with
// [Options.Epochs] the map holds two sketches, packets count in the one
// the epoch names, and [Kernel.Flip] switches epochs, waits for the
// packets still counting in the old one (an RCU grace period, not a guess
// of time) and returns its sketch, every packet of the interval in every
// row (unless a counter saturated), N included, as the iblt and flowradar
// kernels do their tables; [Kernel.FlipInto] reads it into a sketch the
// caller keeps, allocating nothing. The detector then keeps a memory
// of reported flows per epoch too, so each epoch is a fresh interval of
// the lab's detector, as after [cms.Detector.Reset], and each [Event]
// names the epoch it was detected in. Epochs cost the kernel one more map
// lookup a packet and double the counters' memory.
//
// Every frame that parses counts once, whatever its IP protocol (the lab's
// parser knows only TCP and UDP; here ICMP and other protocols are flows
// with zero ports). Truncated, malformed and non-IP frames pass untouched
// and are counted by outcome in [Stats].
//
// Loading needs Linux 5.18 or newer (the shared parser's global function and
// bpf_xdp_load_bytes; atomic compare-and-swap, ring buffer) and BPF
// privileges: root, or CAP_BPF, CAP_PERFMON (without it the verifier
// refuses the parser's packet-pointer arithmetic) and CAP_NET_ADMIN
// (without it the kernel loads no XDP program, and it is also what
// attaching to an interface takes). Elsewhere [Load] returns an
// error matching ebpf.ErrNotSupported. N, the total of the
// sketch, is not a map of its own: it is the parsed packets less the
// detector's drops, both in the statistics ([Kernel.Total]); an epoch's N
// is the largest of its row sums (every packet adds one to each row, so
// they are equal unless a counter saturated).
package xdp
