// Package xdp is the reference kernel of package bloom: an XDP filter over
// exactly the bit layout of [bloom.Filter] and [bloom.Blocked]. Each packet
// is parsed with the C twin of [flow.Parse]; its key (the 5-tuple, or the
// source address alone: [KeyBytes]) is hashed with the filter's seed and
// looked up. Members are dropped ([DropMembers], a blocklist) or are the
// only packets passed ([PassMembers], an allowlist). In learn mode the
// kernel inserts every key with an atomic OR and passes every packet, so
// user space can read back the set of flows seen ([Kernel.Filter]).
// Packets that do not parse always pass.
//
// Maps: bloom_words, the filter's 512-bit blocks of eight 64-bit words
// (bit j is bit j%64 of word j/64, host byte order; the words in order,
// block b holding words 8b to 8b+7), sized by the loader: a block per
// element for a blocked filter, whose k bits then take one map lookup, and
// for a classic filter over 4 MiB; a classic filter of up to 4 MiB in one
// element (its size rounded up to a power of two), so that its k bits,
// spread over the filter, take one lookup too. It is memory-mapped, so
// the loader writes and reads a whole filter with one copy. bloom_stats:
// per-CPU counters ([Stats]). The filter's m, k and seed, the layout, key
// mode, action and learn mode are load-time constants ([Options]).
// [Model] is the same kernel in Go; the tests run every fixture and every
// packet of the shared captures through both.
//
// Loading needs Linux 5.18 or newer (the shared parser's global function
// and bpf_xdp_load_bytes) and BPF privileges: root, or CAP_BPF,
// CAP_PERFMON (without it the verifier refuses the parser's packet-pointer
// arithmetic) and CAP_NET_ADMIN (without it the kernel loads no XDP
// program, and it is also what attaching to an interface takes).
// Elsewhere [Load] returns an error matching [ebpf.ErrNotSupported].
package xdp
