package flowradar

import "errors"

// Sentinel errors, matched with [errors.Is]. Every error returned by this
// package wraps one of them with the details.
var (
	// ErrDecodeIncomplete: peeling stopped with cells that still hold flows
	// (the table was loaded above its decode threshold). The flows decoded
	// so far are returned beside it.
	ErrDecodeIncomplete = errors.New("flowradar: decode incomplete")
	// ErrCorrupt: the table contradicts itself (a flow's cell with no flow
	// left in it, a residue in an empty cell, a flow counted as new twice:
	// cells left with FlowCount 2 and a zero FlowXOR): it
	// was not written by an Encoder with these parameters, or it was
	// damaged, or a flow-filter false positive made it look so, or a flow
	// was counted on two CPUs (see [Table.Decode] and [FlowDecode]).
	ErrCorrupt = errors.New("flowradar: table is inconsistent")
	// ErrParams: invalid parameters or mismatched tables.
	ErrParams = errors.New("flowradar: invalid parameters")
	// ErrFormat: bytes given to UnmarshalBinary are not a table.
	ErrFormat = errors.New("flowradar: invalid encoding")
)
