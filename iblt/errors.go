package iblt

import (
	"errors"
	"fmt"
)

// ErrDecodeIncomplete is wrapped by the error that [Table.List] returns
// when peeling stalls: the table holds more entries than it can list (or
// was corrupted). Match it with [errors.Is]. The entries listed before the
// stall are returned beside it, unverified: their keys are genuine but
// their values and sides can be wrong when the table holds residues or
// corruption (see [Table.List]). [Estimator.Estimate] wraps it when even
// its sparsest stratum stalls, beside a lower bound.
var ErrDecodeIncomplete = errors.New("iblt: decode incomplete")

// ErrIncompatible is wrapped by the error that [Table.Subtract] and
// [Table.Merge] return when the two tables differ in shape or seed, when
// either is the zero Table or the argument is nil (those errors match
// [ErrInvalid] too), and by [Estimator.Subtract]'s for estimators that
// differ or an argument that is the zero Estimator or nil (matching
// ErrInvalid too).
var ErrIncompatible = errors.New("iblt: tables are incompatible")

// ErrInvalid is wrapped by the error that the methods of a zero
// [Estimator] return (it was not made by [NewEstimator]), by the errors of
// [Table.Insert], [Table.Delete], [Table.List], [Table.Subtract],
// [Table.Merge], [Table.MarshalBinary] and [Table.AppendBinary] on a zero
// [Table] (not made by [New]), or given one, by that of [Encoder.Add] on a
// zero [Encoder], and by those of [Decoder.AddLocal] and
// [Decoder.AddSymbol] on a zero [Decoder].
var ErrInvalid = errors.New("iblt: invalid zero value")

var errZeroTable = fmt.Errorf("%w: the zero Table has no cells; use New", ErrInvalid)

var errZeroDecoder = fmt.Errorf("%w: the zero Decoder has no key length; use NewDecoder", ErrInvalid)

// errZeroOperand is the error of Subtract and Merge when either table is
// the zero Table: a zero Table is compatible with nothing, so the error
// matches ErrIncompatible as well as ErrInvalid.
var errZeroOperand = fmt.Errorf("%w: the zero Table has no cells; use New (%w)", ErrIncompatible, ErrInvalid)

// ErrFormat is matched by the errors of [Table.UnmarshalBinary] and
// [Estimator.UnmarshalBinary]: the bytes are not an encoding this package
// wrote (wrong magic, version, shape or length, or non-zero padding).
// ([ErrCorrupt] is about coded symbols, not encodings.)
var ErrFormat = errors.New("iblt: invalid encoding")

// formatError keeps an encoding error's message and makes it match
// ErrFormat as well as what it wraps.
type formatError struct{ err error }

func (e formatError) Error() string   { return e.err.Error() }
func (e formatError) Unwrap() []error { return []error{ErrFormat, e.err} }

// ErrDuplicateKey is wrapped by the error that [Encoder.Add] and
// [Decoder.AddLocal] return for a key already added: the rateless code
// sums keys by XOR, so two copies of a key would cancel and no peer could
// decode the set. The coder is left unchanged. Match it with [errors.Is].
var ErrDuplicateKey = errors.New("iblt: duplicate key")

// ErrCorrupt is wrapped by the error that [Decoder.AddSymbol] returns once
// the coded symbols received are proven not to be the symbols of any set
// of keys under the decoder's key length and seed: bits changed in
// transit, symbols lost, repeated or reordered, or a sender using another
// seed or key length. [Decoder.AddSymbol] documents what is detected.
// Match it with [errors.Is].
var ErrCorrupt = errors.New("iblt: corrupt or mismatched coded symbols")
