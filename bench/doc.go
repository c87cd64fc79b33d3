// Package bench compares this module's structures with other Go libraries
// on captured traffic. It is a module of its own so that the peers never
// enter the main module's go.mod.
//
// # Running
//
// Point DATAPLANE_TRAFFIC_DIR at a directory of pcap/pcapng captures
// (/path/to/captures below); without it the benchmarks and tests on
// captured traffic skip, and the test binary says so once on stderr:
//
//	cd bench && DATAPLANE_TRAFFIC_DIR=/path/to/captures go test -run '^$' -bench . -benchmem
//
// The full -bench . takes about 5 minutes on a 2-core VM. Go's default
// test timeout is 10 minutes, so -count N (N > 1) also needs -timeout 0.
// -benchtime=1x runs every benchmark once, a quick check (CI does that);
// the decode-rate and threshold benchmarks (FlowRadar_SingleDecodeRate,
// FlowRadar_NetworkDecodeRate, IBLT_Threshold) are meant to be run that
// way.
//
// Without -v the benchmarks print nothing of their own, so the output is
// what benchstat reads. The two FlowRadar decode-rate benchmarks report
// their figures as metrics of each row (decode-rate and full-decodes, the
// fraction of the 5 seeds that decoded completely; single-decode-rate,
// network-decode-rate, exact-counter-rate) and with -v also log them as
// one table after their last row (indented, as b.Log output is):
//
//	go test -run '^$' -bench 'FlowRadar_.*DecodeRate' -benchtime=1x -v
//
// Without -v, benchstat draws the same table from the rows, one per
// metric:
//
//	benchstat -filter .name:FlowRadar_SingleDecodeRate -row /cells-per-flow -col /flows bench.txt
//
// # Naming
//
// Every sub-benchmark name is a list of key=value components, which
// benchstat reads as configuration keys (/key in its -col, -row, -table
// and -filter options), in this order:
//
//   - parameters: fpr=, n=, eps=, k=, d= (differences), L= (key length in
//     bytes), m= (table size), v= (ring points per backend), flows=,
//     cells-per-flow=, capture= (a capture file's name without its
//     extensions, or all), cache= (warm: the same keys every iteration;
//     cold: fresh ones);
//   - op=, the operation, where a benchmark times more than one: add,
//     contains-hit (members), contains-miss (keys never added), remove,
//     estimate, topk-add (a top-k tracker's Add), subtract, list, hash,
//     pick, hash+pick, assign+release;
//   - impl=, the implementation: this library's is dataplane or
//     dataplane-VARIANT (dataplane-blocked, dataplane-conservative,
//     dataplane-standard, dataplane-maglev, dataplane-ring,
//     dataplane-ring-bounded; a -batch suffix: through the batch method),
//     a peer's is its library (bits-and-blooms, holiman, blobloom, boom for
//     tylertreat/BoomFilters, gopacket, dgryski-go-maglev, kkdai-maglev,
//     ...), and gomap is a Go map;
//   - vs=, in the benchmarks that race ours against others in the same
//     iterations (BloomPaired, CMSRatio, MaglevPaired): what impl= races,
//     a peer (bits-and-blooms, blobloom, boom), a group of them
//     (maglev-peers, ring-peers: the ns/NAME and x-NAME metrics name each),
//     or own-sketch (CMSRatio: the same library's sketch Add, for
//     x-sketch).
//
// In the sketch rows (CMS, CMSRatio's op=add), impl=dataplane is standard
// update and dataplane-conservative conservative update; in the top-k rows
// (CMSTopK, CMSRatio's op=topk-add), dataplane is the tracker with
// conservative update and dataplane-standard with standard update. The
// benchmarks without a peer (the IBLT ones, FlowRadar_SingleDecodeRate,
// FlowRadar_NetworkDecodeRate) have no impl=. For example:
//
//	BenchmarkBloom/fpr=0.01/op=contains-hit/impl=bits-and-blooms
//	BenchmarkBloomPaired/n=100000/fpr=0.01/op=remove/impl=dataplane-batch/vs=boom
//	BenchmarkCMSRatio/k=1000/eps=1e-05/op=topk-add/impl=dataplane/vs=boom
//	BenchmarkFlowRadar_Encode/flows=10000/impl=gomap
//
// # Comparing implementations
//
// benchstat (golang.org/x/perf/cmd/benchstat; it has no release tags, so
// pin a pseudo-version) puts implementations side by side with -col
// /impl; -table .name gives each benchmark function its own tables, with
// only its implementations as columns:
//
//	go test -run '^$' -bench 'Bloom$|CMS$|FlowParse' -count 6 -timeout 0 > bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -table .name -col /impl bench.txt
//
// The first column (the impl= value benchstat met first in its input) is
// the base the others are compared with; -col '/impl@(boom dataplane)'
// chooses the columns and their order. benchstat needs 6 samples
// (-count 6) for a confidence interval. In the raced benchmarks the ratios
// (x-peer, x-boom, x-NAME) already compare within a row; there -col /impl
// sets ours per key and batched side by side, and -filter /vs:blobloom
// keeps one peer. To compare two runs (before and after a change), give
// benchstat both files without -col: the files are the columns, and each
// impl= keeps rows of its own.
//
// # Reading ns/op
//
// An iteration processes a batch (1024 or 4096 keys, a capture, a chunk
// of packets, a whole decode), so ns/op is never a per-key figure; read
// the ns/packet, ns/key or ms/... metrics. ns/op covers everything the
// iteration does outside b.StopTimer, in particular:
//
//   - in the paired benchmarks, where the libraries take turns in the same
//     iterations (BloomPaired, CMSRatio), both libraries' batches (and
//     CMSRatio's bound contender);
//   - in IBLT_Insert, the xxHash64 loop and the index-floor loop as well as
//     the Inserts; in CountingBloom and BloomPaired's op=remove rows,
//     adding the removed batch back.
//
// FlowRadar_Encode's impl=dataplane rows stop the timer around their
// index-floor loop, so there ns/op is the Adds alone.
//
// # Metrics
//
// Times (lower is better):
//
//   - ns/packet, ns/key: wall-clock nanoseconds per packet (flow key) or key
//     of the operation the row names; in IBLT_Insert, ns/key is Insert alone.
//   - cpu-ns/key, cpu-ns/remove: the same in the thread's CPU time
//     (CLOCK_THREAD_CPUTIME_ID), which leaves out waiting for a core on a
//     shared host (Bloom; CountingBloom's Remove).
//   - ours-cpu-ns/key, peer-cpu-ns/key: the CPU time per key of each side of
//     a BloomPaired pair.
//   - ns/NAME (CMSRatio, MaglevPaired): wall-clock ns per packet of
//     contender NAME of the race (ns/dataplane, ns/boom, ns/bound,
//     ns/dgryski-go-maglev, ...).
//   - index-ns/packet (FlowRadar_Encode): the per-packet hash and index
//     derivation alone, a lower bound of ns/packet for the layout.
//   - xxhash-ns/key (IBLT_Insert): one xxHash64 of the key.
//   - sender-ns/key (IBLT_RatelessReceiver): the rateless sender's time per
//     key of its set to produce the symbols.
//   - ms/decode, ms/list, ms/reconcile: milliseconds per FlowRadar decode,
//     IBLT List, rateless reconciliation; min-ms/reconcile: the fastest one.
//
// Ratios, peer time over our time (above 1: we are faster):
//
//   - x-peer (BloomPaired): the peer's CPU time over ours.
//   - x-NAME (MaglevPaired): library NAME's time over ours, raced batch for
//     batch (this library's Maglev table against the other Maglev
//     libraries, its ring against the other rings).
//   - x-boom (CMSRatio): BoomFilters' time over ours; x-boom-batch: over
//     ours through the batch method (AddBatch).
//   - x-boom-bound (CMSRatio): BoomFilters' Add time over the bound
//     contender (the key hash and row indexes, no counter touched): the
//     largest x-boom our Add could reach.
//
// Ratios, this row's cost relative to the named thing (above 1: it costs
// more):
//
//   - x-flow (FlowParse, impl=gopacket rows): gopacket's time over
//     flow.Parse's on the same capture, in the same iterations (Parse's
//     pass with the timer stopped, out of ns/op).
//   - x-xxhash64 (IBLT_Insert): one Insert over one xxHash64 of the key;
//     floor-x-xxhash64: the hash and cell indexes every Insert computes,
//     over one xxHash64 (a lower bound of x-xxhash64).
//   - x-sketch (CMSRatio vs=own-sketch rows): the library's top-k update
//     over its sketch work alone.
//   - x-threshold (IBLT_Threshold): the measured cells per difference over
//     the theoretical peeling threshold for k hashes.
//   - sender/(insert*log2d) (IBLT_RatelessReceiver): sender-ns/key over one
//     classic Insert times log2(d) (target: at most 2).
//
// Memory (lower is better): bits/key (Bloom filters: bits per member);
// bytes (CMS: the sketch); bytes/flow (FlowRadar_Encode: the encoder's
// two epochs, or the Go map's live heap) and epoch-bytes/flow (one epoch).
//
// Accuracy and decoding:
//
//   - fpr: measured false-positive rate over keys never added (compare with
//     the fpr in the row's name).
//   - abs-err-top, max-err-top, abs-err-all, max-err-all (CMS): mean and
//     maximum overestimate, in packets, over the 1000 largest flows and over
//     all flows (lower is better).
//   - recall (CMSTopK): share of the reported top k truly among the k
//     largest (1 is best).
//   - decode-rate: FlowRadar: the fraction of flows decoded; IBLT
//     SubtractList: the fraction of Lists that recovered every difference
//     (1 is best). full-decodes: the fraction of seeds whose table decoded
//     completely. single-decode-rate, network-decode-rate,
//     exact-counter-rate (FlowRadar_NetworkDecodeRate): flows decoded by
//     the busiest switch alone, flows decoded network-wide, counters
//     recovered exactly (1 is best).
//   - cells/diff (IBLT): cells per difference, of the table (SubtractList)
//     or the smallest listing 99% of trials (Threshold; lower is better).
//   - symbols/diff, p99-symbols/diff (IBLT rateless): coded symbols per
//     difference, mean and 99th percentile (lower is better); sessions: how
//     many sessions they are over.
//   - estimate/true (IBLT_Estimator): the estimated difference count over
//     the true one (1 is best).
//
// Balance and disruption (MaglevLookup, 200k flows over 1000 backends):
//
//   - max/mean-load: the busiest backend's flows over the mean; sampling
//     alone puts it near uniform-max/mean (about 1.23), the figure of a
//     perfectly uniform assignment of as many flows.
//   - load-sd/uniform: the standard deviation of the backends' loads over
//     that of a perfectly uniform assignment (1: as even as a perfect hash;
//     above 1: the structure's own imbalance).
//   - remap-frac: the fraction of flows that move when one backend leaves;
//     remap/ideal: remap-frac times N (1: only the leaving backend's flows
//     move; higher is worse).
package bench
