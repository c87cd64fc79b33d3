// Package iblt implements invertible Bloom lookup tables (IBLTs): tables
// of fixed-length keys with 64-bit values that can list their contents,
// so that two hosts can find the difference of their sets by exchanging
// a table sized by the difference, not by the sets.
//
// A [Table] has m cells split into k disjoint sub-tables of m/k cells; a
// key goes to one cell of each, cell flow.Index(h, i, m/k) of sub-table i
// with h = flow.Hash64(key, Seed). Each cell holds a count, the wrapping
// sum of values, the XOR of the keys and the XOR of a 64-bit key checksum
// (flow.Hash64(key, [ChecksumSeed](Seed))). [Table.List] peels: it takes a
// pure cell (count +1 or -1, checksum equal to the checksum of the key
// sum, and the cell one of that key's own cells), reports its key and
// removes the key from its other cells, until no pure cell is left. After
// [Table.Subtract] of two tables built with equal [Params], the inserted
// side lists the entries only in the first and the deleted side those only
// in the second. A key inserted twice cancels in the key sum and cannot be
// listed; keys are a set.
//
// Guarantees: a listing without error is proven (the listed entries rebuild
// the table exactly), and exact for a table of whole entries: a value
// residue (a key whose values differ across a Subtract) or a corrupted
// value can lie in exactly the cells of a listed key and be listed, with no
// trace, as part of its value (see [Table.Subtract]). When peeling stalls,
// List returns what it peeled
// beside an error wrapping [ErrDecodeIncomplete]; those entries are exact
// for a table built by Insert alone, but in general they cannot be verified:
// a corrupted cell or a key whose values differ across a Subtract can make
// one carry a wrong value or sit on the wrong side (see [Table.List]). List
// succeeds with high probability while m exceeds c_k times the number of
// entries, c_3 = 1.222 and c_4 = 1.295 (Goodrich and Mitzenmacher, Table 1).
// [CellsFor] and [ParamsFor] add the margin small tables need, including the
// failure floor (two keys sharing all k cells, about d(d-1)/2*(k/m)^k), which
// is lower for k = 4 than for k = 3, so k = 4 wins at small d.
// [Table.ListInto] lists into a [Listing] kept from call to call, and
// [Table.ListDifferenceInto] lists the difference of two tables there
// without changing either: once the Listing has grown, neither allocates.
// When the difference is unknown, estimate it with an [Estimator], or use
// the rateless [Encoder] and [Decoder], which need no size at all. Their
// keys must be a set as well, and this is checked: adding a key twice is
// an error wrapping [ErrDuplicateKey]. The Decoder checks the symbols it
// receives and reports a stream proven corrupt or mismatched (another seed
// or key length) with [ErrCorrupt]; once [Decoder.Done], the symbols
// received are exactly those of the decoded sets, which a symbol lost or
// reordered can make another set's than the sender's when the sets are
// small (see [Decoder.AddSymbol]).
//
// Memory layout (shared with the kernel in iblt/xdp): cell c of sub-table
// i is cell number i*(m/k)+c; a cell is 3+ceil(KeyLen/8) little-endian
// 64-bit words: count (int64, two's complement), value sum, checksum XOR,
// then the key XOR packed little-endian with zero padding. See
// [Table.Words] and [Table.MarshalBinary].
//
// Insert, Delete and Get never allocate. The zero Table is not valid; use
// [New]. A Table is not safe for concurrent writers. Seeds need not be
// secret for correctness, but an attacker who knows the seed can choose
// keys that share cells and make listing fail: use a secret per-instance
// seed when keys are attacker-chosen.
//
// References: Goodrich and Mitzenmacher, "Invertible Bloom Lookup
// Tables", Allerton 2011 (arXiv:1101.2245); Eppstein, Goodrich, Uyeda and
// Varghese, "What's the Difference? Efficient Set Reconciliation without
// Prior Context", SIGCOMM 2011 (the strata estimator); Yang, Gilad and
// Alizadeh, "Practical Rateless Set Reconciliation", SIGCOMM 2024 (the
// rateless code).
package iblt
