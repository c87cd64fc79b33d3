package flowradar

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dataplane-go/dataplane/flow"
)

// Flow is a decoded flow and its counters for the epoch.
type Flow struct {
	Key     flow.Key
	Packets uint64
	Bytes   uint64
}

// Decoded is the result of [Table.Decode] and [Table.DecodeInto]. One that
// a decode filled keeps its memory for the next DecodeInto into it, which
// rewrites its Flows and Remainder: see there before copying one.
type Decoded struct {
	// Flows are the decoded flows, in decoding order.
	Flows []Flow
	// Remainder is a copy of the table with the decoded flows removed:
	// empty after a complete decode, otherwise the cells peeling could not
	// resolve (input for a network-wide decode or a larger table). A flow
	// is removed from all of its cells or from none, also when Decode
	// stops on ErrCorrupt.
	Remainder *Table
	// Stuck counts the remainder's cells still holding flows.
	Stuck int

	own   *Table   // the Remainder a decode made, which DecodeInto may rewrite
	stack []uint32 // the peeling stack, kept for the next DecodeInto
}

// pure reports whether cell i of t holds exactly one flow that really
// belongs there: FlowCount 1, a well-formed padded key in FlowXOR, the
// key hashing to cell i and present in the flow filter. The last two
// checks keep a damaged cell from inventing a flow.
func (t *Table) pure(i uint32, idx *[MaxHashes]uint32) (flow.Key, bool) {
	if t.cnt[i].FlowCount != 1 {
		return flow.Key{}, false
	}
	k, ok := keyOf(&t.xor[i])
	if !ok {
		return k, false
	}
	in := t.locate(&k, idx)
	for s := 0; s < t.p.Hashes; s++ {
		if idx[s] == i {
			return k, in
		}
	}
	return k, false
}

// Decode is the paper's SingleDecode (NSDI'16 §4.1): it repeatedly finds
// a pure cell, reads its flow and counters, and removes the flow from its
// other cells, until no pure cell is left. t is not changed.
//
// On a complete decode it returns every flow with its exact counters and
// a nil error. Otherwise the decoded flows come with an error: wrapping
// [ErrDecodeIncomplete] when cells still hold flows (see
// [Decoded.Remainder]), [ErrCorrupt] when the table contradicts itself,
// and both when both apply. The table contradicts itself when counters
// are left in cells without flows (a flow-filter false positive, whose
// packets were counted but whose key never was, or a damaged table), when
// removing a flow takes more packets or bytes than one of its cells
// holds (such a false positive's packets charged to some flows and taken
// from others: the counts are then wrong, even where every cell ends
// empty), when a cell left holding flows has FlowCount 2 and a zero
// FlowXOR (one flow counted as new twice, see [ErrCorrupt]), and when a
// flow must be removed from a cell with no flow in it. At that last one
// Decode stops at once, with no residue check; Stuck then counts the
// cells holding flows at that point. A decoded flow always hashes to its
// cells and is in the filter; a damaged table yields an error, never a
// panic. The zero Table gives an error wrapping [ErrParams].
//
// Decode allocates a new Decoded, the copy of t included; a collector that
// decodes every epoch can reuse one with [Table.DecodeInto].
func (t *Table) Decode() (Decoded, error) {
	var d Decoded
	err := t.DecodeInto(&d)
	return d, err
}

// DecodeInto is [Table.Decode] into d, reusing the memory of the last
// decode into d: the array of d.Flows, the Remainder that decode made (if
// it has t's Params) and the peeling stack. A collector that decodes each
// epoch into one Decoded allocates nothing once the arrays have grown to
// an epoch's size, except for the error of a decode that fails and at
// the first decode after a change of Params.
//
// d ends as Decode would return it. Its Flows and Remainder are written
// over the last decode's, so a copy of d (prev := d) changes with the
// next DecodeInto into d: copy what must outlive it
// (append([]Flow(nil), d.Flows...), d.Remainder.Clone()), and give each
// goroutine a Decoded of its own. A Remainder the caller set, or one of
// other Params, is replaced and left as it was; decoding d.Remainder
// itself into d decodes it in place.
//
// It returns an error wrapping [ErrParams], changing nothing, when d is
// nil or t is the zero Table.
func (t *Table) DecodeInto(d *Decoded) error {
	if !t.valid() {
		return errZero("the table")
	}
	if d == nil {
		return fmt.Errorf("%w: DecodeInto needs a *Decoded to decode into, got nil", ErrParams)
	}
	flows := t.Flows() // before decoding, which may be in place
	w := d.Remainder
	switch {
	case w != d.own || !w.valid() || w.p != t.p || len(w.cnt) != len(t.cnt) || len(w.filter.Words()) != len(t.filter.Words()):
		w = t.Clone() // none, or not d's to write, or of other Params
	case w != t:
		w.copyFrom(t)
	}
	// Each decoded flow empties its pure cell, so at most Cells flows; the
	// FlowCounts of a damaged table may claim far more.
	*d = Decoded{Remainder: w, Flows: slices.Grow(d.Flows[:0], min(flows, len(w.cnt))), own: w, stack: d.stack[:0]}
	stack := d.stack
	for i := range w.cnt {
		if w.cnt[i].FlowCount == 1 {
			stack = append(stack, uint32(i))
		}
	}
	var idx [MaxHashes]uint32
	var halt error // a removal from a cell without a flow: stop at once
	// Removals that took more packets or bytes than a cell held: counters
	// never wrap within an epoch, so the table contradicts itself (the
	// packets of a flow-filter false positive, charged to some flows and
	// taken from others, or damage), though the cells may end empty.
	under := 0
peel:
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k, ok := w.pure(i, &idx)
		if !ok {
			continue
		}
		c := w.cnt[i]
		f := Flow{Key: k, Packets: uint64(c.PacketCount), Bytes: c.ByteCount}
		p := k.Padded()
		n := w.p.Hashes
		// Check every cell before changing any, so that the Remainder
		// returned with the error holds each flow whole.
		for s := 0; s < n; s++ {
			if w.cnt[idx[s]].FlowCount == 0 {
				halt = fmt.Errorf("%w: flow %v removed from cell %d, which holds no flow", ErrCorrupt, k, idx[s])
				break peel
			}
		}
		for s := 0; s < n; s++ {
			o := &w.cnt[idx[s]]
			if o.PacketCount < c.PacketCount || o.ByteCount < c.ByteCount {
				under++
			}
			o.FlowCount--
			xorKey(&w.xor[idx[s]], &p)
			o.PacketCount -= c.PacketCount
			o.ByteCount -= c.ByteCount
			if o.FlowCount == 1 {
				stack = append(stack, idx[s])
			}
		}
		d.Flows = append(d.Flows, f)
	}
	residue, twice := 0, 0
	for i := range w.cnt {
		c := &w.cnt[i]
		switch {
		case c.FlowCount != 0:
			d.Stuck++
			if cancelled(c, &w.xor[i]) {
				twice++
			}
		case halt != nil:
			// Stopped before peeling ended: no residue check.
		case c.PacketCount != 0 || c.ByteCount != 0 || w.xor[i] != [XORBytes]byte{}:
			residue++
		}
	}
	// Both sentinels may apply: a contradiction does not stop cells from
	// holding flows (FlowDecode reports both too).
	var errs []error
	if halt != nil {
		errs = append(errs, halt)
	}
	if under > 0 {
		errs = append(errs, fmt.Errorf("%w: %d flows decoded, %d removals took more packets or bytes than a cell held", ErrCorrupt, len(d.Flows), under))
	}
	if residue > 0 {
		errs = append(errs, fmt.Errorf("%w: %d flows decoded, counters left in %d cells that hold no flow", ErrCorrupt, len(d.Flows), residue))
	}
	if twice > 0 {
		errs = append(errs, errCountedTwice(twice))
	}
	d.stack = stack[:0]
	if d.Stuck > 0 {
		errs = append(errs, fmt.Errorf("%w: %d flows decoded, %d of %d cells still hold flows (%d flows, %.2f cells per flow: ParamsFor sizes a table for an epoch's flows; DecodeNetwork decodes switches together)",
			ErrDecodeIncomplete, len(d.Flows), d.Stuck, len(w.cnt), flows, t.p.CellsPerFlow(flows)))
	}
	return errors.Join(errs...)
}

// cancelled reports whether a cell holding flows has FlowCount 2 and a
// zero FlowXOR: two flows whose keys are equal, that is one flow counted
// as new twice (or damage). No table size decodes such a cell. Only 2 is
// proof: four or more distinct flows can XOR to zero (keys that differ
// only in a port, 1000 to 1003, do).
func cancelled(c *counts, xor *[XORBytes]byte) bool {
	return c.FlowCount == 2 && *xor == [XORBytes]byte{}
}

// errCountedTwice is the error for n cells that are [cancelled].
func errCountedTwice(n int) error {
	return fmt.Errorf("%w: %d cells still holding flows have FlowCount 2 and a zero FlowXOR: a flow was counted as new twice (seen on two CPUs with per-CPU tables, first packets racing in shared ones, or damage), which no table size decodes", ErrCorrupt, n)
}
