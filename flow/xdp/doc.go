// Package xdp is the reference kernel of package flow: an XDP program that
// parses every packet with the C twin of [flow.Parse], hashes its key with
// the C twin of [flow.Key.Hash], and hands both to user space, then passes
// the packet on (XDP_PASS, always).
//
// Maps: flow_events, a ring buffer with one record per packet (when
// [Options.Events] is set); flow_stats, per-CPU packet counts by parse
// outcome ([flow.Outcome]) plus records lost to a full ring; flow_digest,
// per-CPU XOR of the hashes of every parsed key, which user space compares
// with the same XOR computed in Go to check a whole trace in one number.
//
// The kernel sees only the linear part of a frame (in native XDP at most
// a page less headroom on most drivers; generic XDP hands over the whole
// frame, such as a 64 KiB datagram on loopback); package flow sees the
// whole frame.
// Headers never reach past the linear part in practice; the replay tests
// compare both on the same bytes.
//
// Loading needs Linux 5.18 or newer (the shared parser's global function
// and bpf_xdp_load_bytes) and BPF privileges: root, or CAP_BPF,
// CAP_PERFMON (without it the verifier refuses the parser's packet-pointer
// arithmetic) and CAP_NET_ADMIN (without it the kernel loads no XDP
// program, and it is also what attaching to an interface takes).
// Elsewhere [Load] returns an error matching [ebpf.ErrNotSupported].
package xdp
