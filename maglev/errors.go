package maglev

import "errors"

// ErrNoBackend is returned by [Bounded.Assign] callers' helpers and wrapped
// by constructors when a request needs at least one backend with a non-zero
// weight and there is none.
var ErrNoBackend = errors.New("maglev: no backend with a non-zero weight")

// ErrCorrupt is wrapped by [Table.UnmarshalBinary] for input that is not an
// encoded table.
var ErrCorrupt = errors.New("maglev: corrupt table encoding")
