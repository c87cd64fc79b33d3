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
