package maglev

import "errors"

// ErrNoBackend names the state of a table or ring without a backend of
// non-zero weight. No function of this package returns it: such a
// [Table] or [Ring] is valid, and its Pick (or [Bounded.Assign]) reports
// ok false instead. Callers may use it for their own errors.
var ErrNoBackend = errors.New("maglev: no backend with a non-zero weight")

// ErrCorrupt is wrapped by [Table.UnmarshalBinary] for input that is not an
// encoded table.
var ErrCorrupt = errors.New("maglev: corrupt table encoding")
