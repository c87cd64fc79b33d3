package cms

import "errors"

// ErrIncompatible is returned (wrapped) by [Sketch.Merge] and [Sum] when two
// sketches differ in width, depth, seed or update mode, or when one of them
// is nil or the zero Sketch.
var ErrIncompatible = errors.New("cms: incompatible sketches")

// ErrCorrupt is returned (wrapped) by [Sketch.UnmarshalBinary] and
// [FromCounters] when the bytes or counters cannot be a sketch.
var ErrCorrupt = errors.New("cms: corrupt sketch")
