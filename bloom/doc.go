// Package bloom implements Bloom filters for flow keys: the classic k-hash
// [Filter] (k = 1 is the 1-hash filter), the cache-line [Blocked] filter and
// the [CountingFilter] with removal, over one bit layout that the XDP
// kernel in bloom/xdp reads and writes unchanged.
//
// Guarantees: no false negatives, ever (a counting filter keeps this through
// removals by never decrementing a saturated counter); false positives at
// the rate predicted by [FalsePositiveRate] (classic: (1 - (1 - 1/m)^(kn))^k;
// 1-hash: 1 - (1 - 1/m)^n) or [BlockedFalsePositiveRate].
//
// Sizing: [ParamsFor](n, fpr) gives m = ceil(-n ln fpr / (ln 2)^2) bits,
// 1.44 log2(1/fpr) per key, and k = round((m/n) ln 2); [ParamsForHashes]
// fixes k (k = 1 for the 1-hash filter); [BlockedParamsFor] adds the bits a
// blocked filter needs to meet the same rate. m is at most 2^32 - 1.
//
// Keys are byte slices hashed with flow.Hash64 and the filter's seed, or
// that hash itself (AddHash, ContainsHash), so one hash of a packet's key
// can feed several structures. The k positions of a key with hash h in a
// Filter or CountingFilter are flow.BitIndex(h, i, m) for i < k, the terms
// of a + i*b + i(i-1)/2*c on 32-bit integers (a and b the halves of h, c
// from one splitmix64 step) scaled into [0, m): triple hashing (Dillinger
// and Manolios, FMCAD 2004), whose false-positive rate is that of k
// independent hashes (except in filters of very few bits, where a few keys'
// positions collapse onto fewer bits: [ParamsFor] sizes for that), at two
// additions and a multiplication per bit. Bit j
// is bit j%64 of word j/64, words little-endian when encoded and in the
// kernel's map. Per-key methods never allocate.
//
// Batches: [Filter.AppendContains] and [Blocked.AppendContains] answer
// Contains for many keys, and [CountingFilter.RemoveBatch] removes many,
// with the results of the per-key loop. They hash a group of keys first
// and then touch the filter in a loop of a few instructions per key, so
// that once the filter outgrows the CPU's caches the misses of many keys
// overlap; the bench module measures them beside the loops
// (BenchmarkBloomPaired).
//
// The zero values are empty filters of no bits that contain no key (so a
// failed UnmarshalBinary into one leaves a filter answering "absent"); Add
// on one panics, since a dropped key would be a false negative. Build
// filters with the constructors. Filters are safe for concurrent readers.
// For lock-free concurrent writers, Filter and Blocked offer AddAtomic and
// ContainsAtomic (atomic OR and load of one word per bit); all other
// methods need exclusive access.
//
// # Encoding
//
// MarshalBinary writes, and UnmarshalBinary reads, one format for the three
// filter kinds (version 2):
//
//	offset  size  field
//	0       4     magic "DPBL"
//	4       1     version, 2
//	5       1     kind: 1 Filter, 2 Blocked, 3 CountingFilter
//	6       1     k, 1 to MaxHashes
//	7       1     cell width in bits: 1 (Filter, Blocked) or 4, 8, 16 (CountingFilter)
//	8       4     m, little-endian: bits, or counters
//	12      8     seed, little-endian
//	20      8*w   the w words of the filter, each little-endian (the kernel's map layout)
//	20+8*w  4     CRC-32C (Castagnoli) of all the bytes before it, little-endian
//
// A decoder checks every field, the exact length, that the padding bits
// after cell m-1 are zero, and the checksum, so a corrupted encoding is an
// error (matching [ErrCorrupt]) rather than a filter answering from
// damaged bits.
//
// Version 1 had the same fields, but its Filter and CountingFilter set the
// bits of another derivation (a splitmix64 step per bit, flow.Index, where
// version 2 takes flow.BitIndex). Read with version 2's positions, its
// filters would miss keys they hold, so it is refused with an error saying
// so; such a filter must be rebuilt from its keys.
//
// References: Bloom, "Space/time trade-offs in hash coding with allowable
// errors", CACM 13(7), 1970; Fan, Cao, Almeida and Broder, "Summary cache: a
// scalable wide-area web cache sharing protocol", IEEE/ACM ToN 8(3), 2000
// (counting filters); Putze, Sanders and Singler, "Cache-, hash- and
// space-efficient Bloom filters", WEA 2007 (blocked filters).
package bloom
