// Package xdp is the FlowRadar encoder as an XDP program: every packet the
// parser accepts (flow.Parse rules) is counted in the flow filter and the
// counting table of package flowradar, in BPF array maps with exactly the
// Go layout ([flowradar.Cell], the filter's 512-bit blocks), so that
// [Kernel.Read] returns a [flowradar.Table] that the collector decodes as
// is. Every packet is passed (XDP_PASS), malformed ones included; per-CPU
// counters count parse outcomes, new flows and failed lookups.
//
// Epochs are double-buffered: a one-entry array map holds the epoch the
// program writes, and [Kernel.Flip] clears the other epoch, points the
// program at it, waits for the runs that began before (the kernel's RCU
// grace period: a packet that read the old epoch is in it, however late)
// and reads back the one it wrote, which stays frozen until the next Flip,
// like [flowradar.Encoder.Flip]. [Kernel.FlipInto] and [Kernel.ReadInto]
// read into a table the caller keeps instead of a new one: they allocate
// nothing, and with the shared maps take a third to a fifth of Flip's
// and Read's time (BenchmarkKernelRead). A collector that also decodes
// with [flowradar.Table.DecodeInto] keeps its memory from one epoch to the
// next (see the package example).
//
// Maps: flowradar_epoch (key 0, value the epoch written), flowradar_filter0
// and _filter1 (key b, value filter block b: words 8b to 8b+7, bits 512b
// to 512b+511; a flow's bits are all in one block, found with one lookup),
// flowradar_cells0 and _cells1 (key s*Cells/Hashes+i, value struct
// flowradar_cell = flowradar.Cell), flowradar_stats (per CPU). With
// [Options.PerCPU] the four table maps are flowradar_pcpu_filter0, _filter1,
// _cells0 and _cells1 instead, per-CPU arrays that [Kernel.Read] merges
// and [Kernel.ReadCPUs] returns one by one (the shared ones then keep one
// entry). The per-CPU filters have the shared ones' layout; the per-CPU
// cells hold 64 cells an element: key j, value struct
// flowradar_cell_chunk, cells 64j to 64j+63 of the table above, so that
// cell i is slot i%64 of element i/64, in ceil(Cells/64) elements (the
// last one's slots past Cells are never written, and Read ignores them).
// Sizes and the seed are load-time constants set from the [Options] given
// to [Load]. With [Options.PinPath], all these maps, of both modes, are
// pinned by these names, beside flowradar_opts, which holds the constants
// (see [Unpin]). The shared table maps are memory-mappable
// (BPF_F_MMAPABLE), and the loader reads and clears them through
// mappings. Per-CPU maps cannot be mapped: the loader reads and clears
// them with batch system calls, whose cost is about the same per element
// whatever its size, hence the chunks of 64 cells (BenchmarkKernelRead
// measures both modes).
//
// Concurrency, shared tables (the default): updates are atomic (fetch-OR of
// filter words, atomic adds and XORs of cells); a known flow's packet only
// reads the filter. With [Options.PerCPU] each CPU updates its own copy
// with plain loads and stores, and a flow seen on two CPUs is new on each
// (see [Options.PerCPU]): [Kernel.ReadCPUs] then decodes it per CPU. In
// shared tables a flow is new for the CPU whose
// fetch-OR set one of its filter bits; when two CPUs process a flow's first
// packets at the same instant both may see it as new. Either way its cells
// become undecodable (XORed twice, counted twice); Decode reports it as
// [flowradar.ErrCorrupt] when such a cell is left holding that flow alone.
// Receive-side scaling on the 5-tuple keeps a flow on one CPU, which
// rules that out; test runs use one CPU.
//
// Loading needs Linux 5.18 or newer (the shared parser's global function
// and bpf_xdp_load_bytes) and BPF privileges: root, or CAP_BPF,
// CAP_PERFMON (without it the verifier refuses the parser's packet-pointer
// arithmetic) and CAP_NET_ADMIN (without it the kernel loads no XDP
// program, and it is also what attaching to an interface takes).
// Elsewhere [Load] returns an error matching [ebpf.ErrNotSupported].
package xdp
