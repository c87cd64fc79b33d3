// Package maglev implements Maglev consistent hashing and ring consistent
// hashing with virtual nodes, for layer-4 load balancers that must send
// every packet of a flow to the same backend without sharing state.
//
// A [Table] is the Maglev lookup table (Eisenbud et al., NSDI 2016, section
// 3.4, Pseudocode 1): M entries (M prime, default 65537), each the index of
// a backend. Backend i has offset = h1(name) mod M and skip = h2(name) mod
// (M-1) + 1 and prefers the entries (offset + j*skip) mod M in that order;
// the backends take turns claiming their next preferred empty entry.
// Guarantees: unweighted, every backend owns floor(M/N) or ceil(M/N)
// entries; weighted, the Sainte-Lague apportionment of M by weight (each
// count is w/D rounded to nearest for one divisor D near W/M, so equal
// weights own counts within one entry of each other; the roundings of
// many small backends add up on the large ones: with one backend of
// weight 1000 and 100 of weight 1 in 65537 entries, the large one owns
// 59537 entries, 42 (0.07%) fewer than M*w/W); weight 0 owns none, and
// neither does a weight so small that w/D rounds to 0 (about w < W/(2M):
// in 65537 entries, weight 1 beside one of weight 1000000);
// the table depends only on the set of (name, weight) pairs, the size and
// the seed, never on the order they are given in. Removing or adding a
// backend moves more than the ideal 1/N of the flows, and more than a
// ring does, the more so the fewer entries each backend owns: in 65537
// entries, about 1.0 times 1/N at N = 10, 1.6 times at N = 100 and 6.2
// times at N = 655 (the mean of [Moved] over 20 seeds, one backend removed
// or added); measure yours with [Moved] and [MovedFlows]. Size M above 100*N
// for a 1% spread ([SizeFor]).
//
// Lookup: [Table.Pick](h) is entries[((h>>32) * M) >> 32] ([flow.Reduce]),
// one multiply and one load, no allocation. The kernel computes the same
// index from the same xxHash64 of the flow key (maglev/xdp). Entries are
// uint32 backend indexes (NoBackend when no backend has a weight), which is
// exactly the layout of the kernel's table map: one u32 per entry (the
// loader in maglev/xdp writes each backend's slot in place of its index;
// the kernel drops a packet whose entry is NoBackend).
//
// Building keeps no N x M permutation array: each backend's position
// advances by its skip, and a bitmap of M bits marks the taken entries, so
// scratch memory is M/8 bytes plus about 40 per backend (its offset, skip,
// weight and cursor; 64 when the weights differ, for the turn heap): 47
// KiB at N = 1000, M = 65537, plus at most 4*sqrt(M) bytes for the last
// entries.
//
// A [Ring] places VirtualNodes*weight points per backend at xxHash64 of
// the name and point number, and picks the first point at or after the
// flow's hash; [Bounded] adds the bounded-load rule of Mirrokni, Thorup and
// Zadimoghaddam (SODA 2018).
//
// Concurrency: tables and rings are immutable. Readers load the current
// table from an atomic.Pointer[maglev.Table]; a writer builds the next one
// with [Table.Update] and stores it. No lock is needed and a reader sees
// either the old or the new table, never a mix. The zero Table and zero
// Ring are empty (Pick reports false), and the zero [Bounded] assigns no
// flow. A Bounded is not safe for concurrent use.
//
// Backend names and weights may come from users: they are validated (1 to
// 255 bytes, unique) and never panic. The seed is not secret: an attacker
// who controls flow hashes can aim flows at one backend whatever the table,
// so key the flow hash (not this package's seed) if that matters.
package maglev
