package flowradar

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/iblt"
)

// Limits on the parameters. They bound what [Table.UnmarshalBinary]
// accepts, so that a decoded header cannot ask for an absurd allocation.
// On a 32-bit platform [Params.Validate] also requires a table's encoding
// (24 bytes of header, FilterBits/8 and 56 bytes a cell) to fit in an
// int, which caps Cells below MaxCells: at 38,347,920 with the smallest
// filter and 28,760,942 with the largest (rounded down to a multiple of
// Hashes).
const (
	MaxHashes       = 8                    // counting-table sub-tables (k_c)
	MaxFilterHashes = 32                   // flow-filter bits per flow (k_f); bloom.MaxHashes
	MaxCells        = 1 << 26              // counting-table cells
	MaxFilterBits   = bloom.MaxBlockedBits // flow-filter bits (a multiple of bloom.BlockBits)
)

// Defaults, chosen after the NSDI'16 prototype for the counting table
// (four sub-tables with one hash each). The flow filter is a blocked Bloom
// filter ([bloom.Blocked]): every packet of a known flow tests its filter
// bits, and a blocked filter finds seven of them in one cache line from one
// block index and one mix of the key's hash, where a classic filter derives
// and loads each bit apart (the ten bits of the classic filter this one
// replaced were most of a known flow's 36 ns in Go).
const (
	DefaultHashes       = 4
	DefaultFilterHashes = 7
	// DefaultFilterBitsPerFlow gives, with 7 bits per flow in 512-bit
	// blocks, a false-positive rate of 6.6e-7 when the filter holds its
	// flows (bloom.BlockedFalsePositiveRate): the rate of the classic
	// filter it replaced when full (10 bits per flow in 36: 7.0e-7). Summed
	// over an epoch as the filter fills, about 0.011 flows per 1e5 are taken
	// for known (the classic filter: 0.007). A blocked filter needs more
	// bits than a classic one for a rate; this one pays with memory (64
	// bits per flow) rather than with more bits set per flow: 14 set in 44
	// would give 3.6e-7 in less memory, but every packet would test seven
	// more bits and derive a second mix (26 against 22 ns a known flow in
	// Go). Filter bits are cheap beside 56-byte cells (8 against 76 bytes
	// per flow).
	DefaultFilterBitsPerFlow = 64
	// DefaultCellsPerFlow is the counting-table load ParamsFor uses: the
	// peeling threshold of a 4-hash partitioned table is about 1.295
	// cells per flow, and 1.36 leaves room for finite-size effects. Below
	// about 1,600 flows ParamsFor gives more (see there).
	DefaultCellsPerFlow = 1.36
)

// smallSetSuccess is the single-decode success probability ParamsFor
// sizes small flow sets for (iblt.CellsFor).
const smallSetSuccess = 0.99

// Params are the dimensions and seeds of a FlowRadar table: the flow
// filter (a blocked Bloom filter) and the counting table. Two tables can be
// decoded together only if the collector knows each one's Params; they
// travel in the binary encoding.
type Params struct {
	Cells        uint32 // counting-table cells, a multiple of Hashes, at most MaxCells (see the limits)
	Hashes       int    // k_c: sub-tables, one hash each; a flow has one cell in each
	FilterBits   uint32 // flow-filter bits, a multiple of 512 (bloom.BlockBits)
	FilterHashes int    // k_f: bits set per flow in the filter, all in one 512-bit block
	Seed         uint64 // xxHash64 seed of the key's hash
}

// MaxFlows is the most flows [ParamsFor] sizes a table for: beyond it the
// counting table would need more than MaxCells cells at
// DefaultCellsPerFlow. On a 32-bit platform the most is 25,516,676
// flows, beyond which the table's encoding exceeds an int (see the
// limits above).
const MaxFlows = 49_344_752

// ParamsFor returns parameters for about flows flows per epoch, with the
// defaults above and the given seed. The counting table has
// DefaultCellsPerFlow cells per flow, or, for sets of up to about 1,600
// flows, where that load often fails to decode, the cells that decode all
// flows with probability 0.99 (as iblt.CellsFor sizes a 4-hash table: 1.48
// cells per flow at 309 flows, 1.92 at 50, 20 cells for 2 flows). Switches
// whose tables a collector decodes together should have different seeds:
// that is what makes network-wide decoding stronger than single decoding.
// Cells is rounded up to a multiple of Hashes and FilterBits to a multiple
// of 512; flows below 1 count as 1.
//
// Nothing is clamped: for more than [MaxFlows] flows the parameters exceed
// MaxCells (Cells saturates at 2^32-1 where it would overflow), and
// [Params.Validate], [NewTable] and [New] reject them with an error
// wrapping [ErrParams], as bloom.ParamsFor's are rejected above
// bloom.MaxBits. A table clamped to MaxCells would have been too small to
// decode (0.67 cells per flow for 1e8 flows): split such flow sets over
// several tables.
func ParamsFor(flows int, seed uint64) Params {
	if flows < 1 {
		flows = 1
	}
	cells := uint64(math.Ceil(float64(flows) * DefaultCellsPerFlow))
	// Small sets need more than the threshold's load: the 2-core threshold
	// fluctuates by O(1/sqrt(n)), and two flows sharing all four cells can
	// never be peeled (with n = 2 in 4 cells they always do). A FlowRadar
	// counting table peels as an IBLT of the same k does, so iblt.CellsFor
	// gives the size that decodes with probability smallSetSuccess; it
	// binds below about 1,600 flows.
	if c, err := iblt.CellsFor(flows, DefaultHashes, smallSetSuccess); err == nil && flows > 1 { // one flow always decodes
		cells = max(cells, uint64(c))
	}
	cells = (cells + DefaultHashes - 1) / DefaultHashes * DefaultHashes
	bits := uint64(math.MaxUint32) // saturated, before the product overflows
	if uint64(flows) < bits/DefaultFilterBitsPerFlow {
		bits = uint64(flows) * DefaultFilterBitsPerFlow
		bits = (bits + bloom.BlockBits - 1) / bloom.BlockBits * bloom.BlockBits
	}
	return Params{
		Cells:        uint32(min(cells, math.MaxUint32)),
		Hashes:       DefaultHashes,
		FilterBits:   uint32(min(bits, math.MaxUint32)),
		FilterHashes: DefaultFilterHashes,
		Seed:         seed,
	}
}

// Validate reports whether p describes a table this package can build.
func (p Params) Validate() error {
	switch {
	case p.Hashes < 1 || p.Hashes > MaxHashes:
		return fmt.Errorf("%w: hashes must be in [1, %d], got %d", ErrParams, MaxHashes, p.Hashes)
	case p.Cells == 0 || p.Cells > MaxCells || p.Cells%uint32(p.Hashes) != 0:
		return fmt.Errorf("%w: cells must be a positive multiple of hashes (%d) at most %d, got %d", ErrParams, p.Hashes, MaxCells, p.Cells)
	case p.FilterHashes < 1 || p.FilterHashes > MaxFilterHashes:
		return fmt.Errorf("%w: filter hashes must be in [1, %d], got %d", ErrParams, MaxFilterHashes, p.FilterHashes)
	case p.FilterBits == 0 || p.FilterBits > MaxFilterBits || p.FilterBits%bloom.BlockBits != 0:
		return fmt.Errorf("%w: filter bits must be a positive multiple of %d at most %d, got %d", ErrParams, bloom.BlockBits, uint32(MaxFilterBits), p.FilterBits)
	case headerBytes+p.sizeBytes() > math.MaxInt: // only on a 32-bit platform
		most := (math.MaxInt - headerBytes - uint64(p.FilterBits/8)) / CellBytes
		most -= most % uint64(p.Hashes)
		return fmt.Errorf("%w: cells must be at most %d with %d filter bits on a %d-bit platform (the table's encoding, %d + filter bits/8 + %d*cells bytes, must fit in an int), got %d",
			ErrParams, most, p.FilterBits, strconv.IntSize, headerBytes, CellBytes, p.Cells)
	}
	return nil
}

// FilterFPR predicts the flow filter's false-positive rate after flows
// distinct flows ([bloom.BlockedFalsePositiveRate]). A false positive
// makes the encoder take a new flow for a known one: its packets are
// counted, but the flow itself is not encoded.
func (p Params) FilterFPR(flows int) float64 {
	return bloom.BlockedFalsePositiveRate(uint64(p.FilterBits), p.FilterHashes, uint64(max(flows, 0)))
}

// filterParams are the flow filter's parameters as a bloom.Blocked.
func (p Params) filterParams() bloom.Params {
	return bloom.Params{Bits: uint64(p.FilterBits), Hashes: p.FilterHashes, Seed: p.Seed}
}

// CellsPerFlow returns Cells/flows, the load measure of the decode
// threshold (about 1.295 for 4 hashes). For flows < 1 (no flow: any
// table decodes) it returns +Inf.
func (p Params) CellsPerFlow(flows int) float64 {
	if flows < 1 {
		return math.Inf(1)
	}
	return float64(p.Cells) / float64(flows)
}

// SizeBytes is the memory of one epoch: filter plus counting table,
// FilterBits/8 + 56*Cells bytes (an [Encoder] holds two epochs). For
// parameters whose size exceeds an int, which [Params.Validate] rejects
// (only on a 32-bit platform: on a 64-bit one no uint32 Cells and
// FilterBits can), it returns math.MaxInt.
func (p Params) SizeBytes() int {
	return int(min(p.sizeBytes(), math.MaxInt))
}

// sizeBytes is SizeBytes computed in uint64, where it cannot wrap.
func (p Params) sizeBytes() uint64 {
	return uint64(p.FilterBits/8) + uint64(p.Cells)*CellBytes
}
