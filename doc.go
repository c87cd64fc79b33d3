// Package dataplane is a library of packet-processing data structures and
// algorithms, each written twice: in Go, and as a BPF/XDP reference kernel
// that the Linux verifier accepts. The two agree bit for bit, so a Go
// control plane or collector can drive or decode a kernel data plane.
//
// # Packages
//
//   - [github.com/dataplane-go/dataplane/flow]: the flow key, its canonical
//     bytes, the seeded hash, the index derivation and the frame parser.
//   - [github.com/dataplane-go/dataplane/capture]: reading and writing
//     captures, amplifying them, generating synthetic traces.
//   - [github.com/dataplane-go/dataplane/bloom]: Bloom, blocked and
//     counting Bloom filters.
//   - [github.com/dataplane-go/dataplane/cms]: count-min sketch, top-k and
//     heavy-hitter detection.
//   - [github.com/dataplane-go/dataplane/iblt]: invertible Bloom lookup
//     tables, strata estimation and rateless set reconciliation.
//   - [github.com/dataplane-go/dataplane/flowradar]: FlowRadar encoding and
//     network-wide decoding.
//   - [github.com/dataplane-go/dataplane/maglev]: Maglev and ring
//     consistent hashing.
//
// Each has its kernel and loader in an xdp subpackage.
//
// # The contract between Go and the kernels
//
// Key bytes: IPv4 src(4) dst(4) sport(2) dport(2) proto(1), 13 bytes; IPv6
// the same with 16-byte addresses, 37 bytes; network byte order. Hash:
// xxHash64 of the key bytes with a 64-bit seed (flow.Hash64). Indexes:
// index i of a key with hash h in a table of m cells is flow.Index(h, i,
// m), a splitmix64 step per index and a multiply-shift reduction; the bits
// of a classic or counting Bloom filter, which share one array, are
// flow.BitIndex(h, i, m), triple hashing from the halves of h. The C
// twins live in internal/bpf/include (hash.h, flow.h, parsing.h); golden
// vectors in flow/testdata are checked by both, and the kernel tests replay
// every packet of the shared captures through kernel and Go.
//
// # Conventions
//
// Each structure is built from a Params value, which can be filled in by
// hand or computed from intent by a sizing helper: bloom.ParamsFor (n
// keys, false-positive rate), cms.ParamsFor (epsilon, delta),
// iblt.ParamsFor (differences, key length, success probability),
// flowradar.ParamsFor (flows) and maglev.SizeFor (backends). The bloom,
// cms and flowradar helpers return Params alone and report bad input, or
// sizes beyond the limits, through Params.Validate and the constructor;
// iblt.ParamsFor and maglev.SizeFor return an error at once. Constructors
// are New (returning an error) and MustNew (panicking, for tests and
// literals). The zero value of a structure is not valid.
//
// Keys are byte slices in bloom, cms.Sketch and iblt (for flows, the
// canonical bytes of flow.Key.Bytes, or the 40-byte flow.Key.Padded
// where one length must serve IPv4 and IPv6); cms.TopK takes flow.Key
// values, and flowradar, maglev.Table.PickKey and bloom/xdp.KeyBytes take
// a *flow.Key (a key is 38 bytes: a pointer spares the per-packet copy),
// as do flow.Key's own Bytes and Hash, so those two need an addressable
// Key, not a function's result. Methods whose name ends in
// Hash take h = flow.Hash64(key, seed) instead of the key, so that one
// hash per packet can feed several structures built with the same seed.
//
// Errors are matched with [errors.Is] against each package's sentinels:
// ErrIncompatible for merging structures of different shapes or seeds
// (flowradar, whose tables merge only in a network, has ErrParams),
// ErrCorrupt or ErrFormat for encodings that do not decode (FlowRadar's
// and iblt's ErrCorrupt mean an inconsistent table or symbol stream), and
// ErrDecodeIncomplete where peeling stalls, beside what was recovered.
//
// # Running the kernels and the benchmarks
//
// Kernels need Linux 5.18+ and BPF privileges. Their tests load them with
// internal/kerneltest and run them with BPF_PROG_TEST_RUN; without
// privileges they skip, unless DATAPLANE_REQUIRE_KERNEL=1. Tests and
// benchmarks read real captures from the directory in DATAPLANE_TRAFFIC_DIR.
// Benchmarks report ns/packet and a quality metric with b.ReportMetric;
// kernel benchmarks add the XDP_DROP floor measured in the same loop. The
// bench module compares with other Go libraries. The main command,
// cmd/dataplane, replays a capture (or an embedded default trace) through
// every package and prints what each saw and how fast.
package dataplane
