package maglev

import "errors"

// ErrCorrupt is wrapped by [Table.UnmarshalBinary] for input that is not an
// encoded table.
var ErrCorrupt = errors.New("maglev: corrupt table encoding")
