package bloom

import "errors"

// Sentinel errors, matched with [errors.Is].
var (
	// ErrIncompatible: two filters differ in kind, size, k or seed, so they
	// cannot be combined.
	ErrIncompatible = errors.New("bloom: incompatible filters")
	// ErrNotPresent: [CountingFilter.Remove] of a key the filter does not
	// contain. The filter is unchanged.
	ErrNotPresent = errors.New("bloom: remove of a key that is not in the filter")
	// ErrCorrupt: UnmarshalBinary met bytes that are not a valid encoding.
	ErrCorrupt = errors.New("bloom: corrupt encoding")
)

// Misuse of a zero value (see [Filter]): an insertion (Add, AddHash, the
// atomic and test-and-add forms) panics with one of the errZeroAdd
// errors, and MarshalBinary returns errZeroMarshal.
var (
	errZeroAdd         = errors.New("bloom: insert (Add, AddAtomic, TestAndAdd) into a zero Filter, which has no bits; build one with New")
	errZeroAddBlocked  = errors.New("bloom: insert (Add, AddAtomic, TestAndAdd) into a zero Blocked, which has no bits; build one with NewBlocked")
	errZeroAddCounting = errors.New("bloom: insert (Add, AddHash) into a zero CountingFilter, which has no counters; build one with NewCounting")
	errZeroMarshal     = errors.New("bloom: MarshalBinary of a zero filter, which has no encoding")
)
