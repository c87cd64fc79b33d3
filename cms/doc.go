// Package cms implements a count-min sketch: a fixed table of d rows of w
// counters whose per-key estimates never fall below the true count and
// exceed it by at most eps*N with probability at least 1-delta, N being the
// total added (Cormode and Muthukrishnan, Theorem 1; the theorem assumes
// pairwise-independent hash functions, which xxHash64 and the splitmix64
// mixes that pick the columns are not proven to be: the tests check the
// bound on real and generated traffic instead). On top of it sit a
// top-k tracker ([TopK]) and a threshold detector ([Detector]) that models
// the heavy-hitter lab of an eBPF/P4 networking course, called "the lab" in
// these docs: key each packet on its 5-tuple, count flows in a counting
// Bloom filter with k = 2 hash functions (a sketch of d = 2 rows, see
// [LabParams]), and drop a flow's packets once the least of its counters
// reaches [DefaultThreshold], 1000 packets; cms/xdp runs it per packet.
//
// # Sizing
//
// [ParamsFor] turns (eps, delta) into w = ceil(e/eps) and
// d = ceil(ln(1/delta)); [Params.Epsilon] and [Params.Delta] predict the
// error of a given (w, d). Memory is 4*w*d bytes.
//
// # Layout (shared with the kernel in cms/xdp)
//
// Counters are uint32, row-major: the counter of row r for a key with flow
// hash h (see [flow.Hash64]) is counters[r*w + flow.Index(h, r, w)].
// [Sketch.MarshalBinary] writes them little-endian. The kernel updates the
// same counters (row r, column flow.Index(h, r, w)) in maps of its own
// layout, a row or a chunk of one per element, and its loader reads them
// back in this order, so the kernel's counters and [Sketch.Counters] agree
// word for word. Counters saturate at 2^32-1 instead of wrapping, so an
// estimate never falls below the true count even past 2^32 (it is then
// clamped at 2^32-1).
//
// # Conservative update
//
// With [Params.Conservative] an Add raises only the counters that are
// below the key's new estimate, to that estimate (Estan and Varghese,
// "New directions in traffic measurement and accounting", SIGCOMM 2002,
// section 3.3.2). Each counter is at most what standard update would hold,
// so estimates are never worse and still never below the true count.
// Counts cannot be removed (there is no Add with a negative count in
// either mode).
//
// # Batches
//
// [Sketch.AddBatch], [Sketch.AddHashes] and [TopK.AddBatch] take many keys
// at once and leave exactly what a loop of Add leaves. They compute the
// counter positions of a group of keys first and then update the counters
// in a loop of a few instructions each, so when the sketch is larger than
// the CPU's caches the misses of many keys overlap instead of those of one
// or two. In cache they cost about what the loop does. The bench module
// measures them beside Add (BenchmarkCMSRatio).
//
// # Zero value and concurrency
//
// The zero Sketch is not valid; use [New] (on the zero Sketch Add counts
// nothing and MarshalBinary and Merge fail). The zero [TopK], [Detector]
// and [Concurrent] are as harmless: they count nothing and report nothing.
// Add and Estimate never allocate. A Sketch is not safe for concurrent
// writers. For several cores either give each worker (each CPU, as the
// kernel's per-CPU maps do) its own Sketch and combine them on read with
// [Sketch.Merge] or [Sum], which is exact because standard counters are
// sums; or share one [Concurrent] sketch, whose Add uses atomic
// compare-and-swap per counter and no lock.
//
// Reference: Cormode and Muthukrishnan, "An improved data stream summary:
// the count-min sketch and its applications", J. Algorithms 55(1), 2005.
package cms
