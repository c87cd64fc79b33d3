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

// Misuse of a zero value (see [Filter]): Add panics with one of the
// errZeroAdd errors, and MarshalBinary returns errZeroMarshal.
var (
	errZeroAdd         = errors.New("bloom: Add on a zero Filter; build one with New")
	errZeroAddBlocked  = errors.New("bloom: Add on a zero Blocked; build one with NewBlocked")
	errZeroAddCounting = errors.New("bloom: Add on a zero CountingFilter; build one with NewCounting")
	errZeroMarshal     = errors.New("bloom: MarshalBinary of a zero filter, which has no encoding")
)
