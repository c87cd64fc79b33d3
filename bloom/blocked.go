package bloom

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/dataplane-go/dataplane/flow"
)

// Block layout constants.
const (
	blockWords   = BlockBits / 64 // 8 words per block
	fieldBits    = 9              // log2(BlockBits): one in-block bit position
	fieldsPerMix = 7              // 9-bit fields taken from one 64-bit mix
)

// Blocked is a blocked Bloom filter: each key sets its k bits inside one
// 512-bit block (one 64-byte cache line), so a lookup touches one cache line
// (Putze, Sanders and Singler, WEA 2007). Key x with h = flow.Hash64(x, seed)
// uses block b = flow.Reduce(h, m/512) and, for i < k, the in-block bit
//
//	(flow.Mix(h, i/7) >> (9*(i%7))) & 511
//
// (seven 9-bit fields per mix). Block b is words 8b to 8b+7; in-block bit j
// is bit j%64 of word 8b + j/64, so bit j of the filter is bit j%64 of word
// j/64 as in [Filter].
//
// Blocks fill unevenly, so a Blocked filter needs more bits than a Filter
// for the same rate; [BlockedParamsFor] sizes it by the exact rate
// [BlockedFalsePositiveRate]. Build one with [NewBlocked]. The zero value
// is a filter of no blocks, and it, concurrency and copying are as for
// [Filter].
type Blocked struct {
	words   []uint64
	nblocks uint32
	k       uint32
	seed    uint64
}

// NewBlocked returns an empty Blocked filter with parameters p; p.Bits must
// be a multiple of BlockBits.
func NewBlocked(p Params) (*Blocked, error) {
	if err := p.ValidateBlocked(); err != nil {
		return nil, err
	}
	nb := uint32(p.Bits / BlockBits)
	return &Blocked{words: make([]uint64, blockWords*int(nb)), nblocks: nb, k: uint32(p.Hashes), seed: p.Seed}, nil
}

// MustNewBlocked is NewBlocked for parameters known to be valid; it panics on
// an error.
func MustNewBlocked(p Params) *Blocked {
	f, err := NewBlocked(p)
	if err != nil {
		panic(err)
	}
	return f
}

// Params returns the filter's parameters.
func (f *Blocked) Params() Params {
	return Params{Bits: f.Bits(), Hashes: int(f.k), Seed: f.seed}
}

// Bits returns m, the number of bits (512 per block).
func (f *Blocked) Bits() uint64 { return uint64(f.nblocks) * BlockBits }

// Hashes returns k, the number of bits set per key.
func (f *Blocked) Hashes() int { return int(f.k) }

// Seed returns the seed of the key hash.
func (f *Blocked) Seed() uint64 { return f.seed }

// SizeBytes returns the memory held by the bits.
func (f *Blocked) SizeBytes() int { return 8 * len(f.words) }

// Words returns the filter's words, aliased (see [Filter.Words]); block b is
// words 8b to 8b+7.
func (f *Blocked) Words() []uint64 { return f.words }

// block returns the block of hash h, and false for the zero value, which
// has none. The explicit bounds check replaces the slice expression's (the
// compiler drops that one), so it costs nothing.
func (f *Blocked) block(h uint64) (*[blockWords]uint64, bool) {
	w := f.words
	b := uint(flow.Reduce(h, f.nblocks)) * blockWords
	if b+blockWords > uint(len(w)) {
		return nil, false
	}
	return (*[blockWords]uint64)(w[b : b+blockWords]), true
}

// Add inserts key.
func (f *Blocked) Add(key []byte) { f.AddHash(flow.Hash64(key, f.seed)) }

// Contains reports whether key may have been added.
func (f *Blocked) Contains(key []byte) bool { return f.contains(key, 0, true) }

// AddHash inserts the key whose hash is h = flow.Hash64(key, f.Seed()).
func (f *Blocked) AddHash(h uint64) {
	blk, ok := f.block(h)
	if !ok {
		panic(errZeroAddBlocked)
	}
	x := flow.Mix(h, 0)
	left, mi := uint32(fieldsPerMix), uint32(0)
	for i := uint32(0); i < f.k; i++ {
		if left == 0 { // next seven fields
			mi++
			x = flow.Mix(h, mi)
			left = fieldsPerMix
		}
		blk[(x>>6)&7] |= 1 << (x & 63)
		x >>= fieldBits
		left--
	}
}

// ContainsHash is Contains for the key whose hash is h.
func (f *Blocked) ContainsHash(h uint64) bool { return f.contains(nil, h, false) }

// TestAndAdd inserts key and reports whether it was already present (all
// its bits set before): false means the key is certainly new; true is wrong
// for a new key with the filter's false-positive rate. A filter of the flows
// seen so far tells a flow's first packet from the rest this way.
func (f *Blocked) TestAndAdd(key []byte) bool { return f.TestAndAddHash(flow.Hash64(key, f.seed)) }

// TestAndAddHash is TestAndAdd for the key whose hash is h. A key already
// present leaves the filter unwritten (no store, so its cache line stays
// clean).
//
// For seven bits per key (one mix: BlockedParamsFor's k at 1% and 0.1%)
// the test is written out here, the same as contains's for a whole mix,
// rather than called: a key already present, the common case in a table
// of flows, then costs one call, not two.
func (f *Blocked) TestAndAddHash(h uint64) bool {
	if f.k != fieldsPerMix {
		if f.contains(nil, h, false) {
			return true
		}
	} else if blk, ok := f.block(h); ok {
		x := flow.Splitmix(h + golden1) // flow.Mix(h, 0)
		all := blk[x>>6&7] >> (x & 63) &
			(blk[x>>(fieldBits+6)&7] >> (x >> fieldBits & 63)) &
			(blk[x>>(2*fieldBits+6)&7] >> (x >> (2 * fieldBits) & 63)) &
			(blk[x>>(3*fieldBits+6)&7] >> (x >> (3 * fieldBits) & 63)) &
			(blk[x>>(4*fieldBits+6)&7] >> (x >> (4 * fieldBits) & 63)) &
			(blk[x>>(5*fieldBits+6)&7] >> (x >> (5 * fieldBits) & 63)) &
			(blk[x>>(6*fieldBits+6)&7] >> (x >> (6 * fieldBits) & 63))
		if all&1 != 0 {
			return true
		}
	}
	f.AddHash(h)
	return false
}

// contains is Contains and ContainsHash in one body, hashing key if hashKey
// is set (see Filter.contains for why).
//
// All k bits lie in one cache line, so it tests them all without a branch
// (ANDing them) rather than stopping at the first zero: a mispredicted early
// exit costs more than the few remaining register operations. The fields of
// the last mix (1 to 7: all of them when k <= 7, as BlockedParamsFor gives
// at 1% and 0.1%) are tested by straight-line code entered at the field
// count, with constant shifts.
func (f *Blocked) contains(key []byte, h uint64, hashKey bool) bool {
	if hashKey {
		h = flow.Hash64(key, f.seed)
	}
	blk, found := f.block(h)
	if !found {
		return false // the zero value contains no key
	}
	ok := uint64(1)
	s := h + golden1 // splitmix64 state: flow.Mix(h, i) = flow.Splitmix(h + (i+1)*flow.Golden)
	left := f.k
	for ; left > fieldsPerMix; left -= fieldsPerMix { // whole mixes, when k > 7
		x := flow.Splitmix(s) // seven fields, in straight-line code
		s += golden1
		ok &= blk[x>>6&7] >> (x & 63) &
			(blk[x>>(fieldBits+6)&7] >> (x >> fieldBits & 63)) &
			(blk[x>>(2*fieldBits+6)&7] >> (x >> (2 * fieldBits) & 63)) &
			(blk[x>>(3*fieldBits+6)&7] >> (x >> (3 * fieldBits) & 63)) &
			(blk[x>>(4*fieldBits+6)&7] >> (x >> (4 * fieldBits) & 63)) &
			(blk[x>>(5*fieldBits+6)&7] >> (x >> (5 * fieldBits) & 63)) &
			(blk[x>>(6*fieldBits+6)&7] >> (x >> (6 * fieldBits) & 63))
	}
	// The last mix, with 1 to 7 fields. Field t of x is bit (x>>(9t))&511
	// of the block: bit (x>>(9t))&63 of word (x>>(9t+6))&7.
	x := flow.Splitmix(s)
	switch left {
	case 7:
		ok &= blk[x>>(6*fieldBits+6)&7] >> (x >> (6 * fieldBits) & 63)
		fallthrough
	case 6:
		ok &= blk[x>>(5*fieldBits+6)&7] >> (x >> (5 * fieldBits) & 63)
		fallthrough
	case 5:
		ok &= blk[x>>(4*fieldBits+6)&7] >> (x >> (4 * fieldBits) & 63)
		fallthrough
	case 4:
		ok &= blk[x>>(3*fieldBits+6)&7] >> (x >> (3 * fieldBits) & 63)
		fallthrough
	case 3:
		ok &= blk[x>>(2*fieldBits+6)&7] >> (x >> (2 * fieldBits) & 63)
		fallthrough
	case 2:
		ok &= blk[x>>(fieldBits+6)&7] >> (x >> fieldBits & 63)
		fallthrough
	default:
		ok &= blk[x>>6&7] >> (x & 63)
	}
	return ok&1 != 0
}

// AddAtomic is Add for concurrent use (see [Filter.AddAtomic]).
func (f *Blocked) AddAtomic(key []byte) { f.AddHashAtomic(flow.Hash64(key, f.seed)) }

// ContainsAtomic is Contains for use concurrently with AddAtomic.
func (f *Blocked) ContainsAtomic(key []byte) bool {
	return f.ContainsHashAtomic(flow.Hash64(key, f.seed))
}

// AddHashAtomic is AddHash with atomic word updates.
func (f *Blocked) AddHashAtomic(h uint64) {
	blk, ok := f.block(h)
	if !ok {
		panic(errZeroAddBlocked)
	}
	x := flow.Mix(h, 0)
	left, mi := uint32(fieldsPerMix), uint32(0)
	for i := uint32(0); i < f.k; i++ {
		if left == 0 {
			mi++
			x = flow.Mix(h, mi)
			left = fieldsPerMix
		}
		atomic.OrUint64(&blk[(x>>6)&7], 1<<(x&63))
		x >>= fieldBits
		left--
	}
}

// ContainsHashAtomic is ContainsHash with atomic word loads.
func (f *Blocked) ContainsHashAtomic(h uint64) bool {
	blk, found := f.block(h)
	if !found {
		return false // the zero value contains no key
	}
	x := flow.Mix(h, 0)
	ok := uint64(1)
	left, mi := uint32(fieldsPerMix), uint32(0)
	for i := uint32(0); i < f.k; i++ {
		if left == 0 {
			mi++
			x = flow.Mix(h, mi)
			left = fieldsPerMix
		}
		ok &= atomic.LoadUint64(&blk[(x>>6)&7]) >> (x & 63)
		x >>= fieldBits
		left--
	}
	return ok&1 != 0
}

// Reset empties the filter.
func (f *Blocked) Reset() { clear(f.words) }

// Clone returns an independent copy of the filter.
func (f *Blocked) Clone() *Blocked {
	c := *f
	c.words = append([]uint64(nil), f.words...)
	return &c
}

// Equal reports whether f and g have the same parameters and bits.
func (f *Blocked) Equal(g *Blocked) bool {
	if g == nil || f.nblocks != g.nblocks || f.k != g.k || f.seed != g.seed {
		return false
	}
	for i, w := range f.words {
		if g.words[i] != w {
			return false
		}
	}
	return true
}

// Union makes f the union of f and g (see [Filter.Union]).
func (f *Blocked) Union(g *Blocked) error {
	if g == nil {
		return errNilArg("blocked filter")
	}
	if err := compatible("blocked filter", f.nblocks*BlockBits, g.nblocks*BlockBits, f.k, g.k, f.seed, g.seed); err != nil {
		return err
	}
	for i, w := range g.words {
		f.words[i] |= w
	}
	return nil
}

// Intersect makes f the bitwise AND of f and g (see [Filter.Intersect]).
func (f *Blocked) Intersect(g *Blocked) error {
	if g == nil {
		return errNilArg("blocked filter")
	}
	if err := compatible("blocked filter", f.nblocks*BlockBits, g.nblocks*BlockBits, f.k, g.k, f.seed, g.seed); err != nil {
		return err
	}
	for i, w := range g.words {
		f.words[i] &= w
	}
	return nil
}

// SetBits returns the number of bits set.
func (f *Blocked) SetBits() uint64 { return popcount(f.words) }

// FillRatio returns the fraction of bits set; 0 for the zero value.
func (f *Blocked) FillRatio() float64 {
	if f.nblocks == 0 {
		return 0
	}
	return float64(f.SetBits()) / float64(f.Bits())
}

// EstimatedCount estimates the number of distinct keys added: the sum over
// blocks of the estimate of [Filter.EstimatedCount] for a 512-bit filter,
// which follows the uneven fill of the blocks. It is +Inf if a block is full.
func (f *Blocked) EstimatedCount() float64 {
	var sum float64
	for b := 0; b < len(f.words); b += blockWords {
		x := 0
		for _, w := range f.words[b : b+blockWords] {
			x += bits.OnesCount64(w)
		}
		sum += estimate(BlockBits, float64(f.k), float64(x))
	}
	return sum
}

// FalsePositiveRate returns the predicted rate of the filter now: the mean
// over blocks of (fill of the block)^k; 0 for the zero value.
func (f *Blocked) FalsePositiveRate() float64 {
	if f.nblocks == 0 {
		return 0
	}
	var sum float64
	for b := 0; b < len(f.words); b += blockWords {
		x := 0
		for _, w := range f.words[b : b+blockWords] {
			x += bits.OnesCount64(w)
		}
		sum += math.Pow(float64(x)/BlockBits, float64(f.k))
	}
	return sum / float64(f.nblocks)
}

// MarshalBinary encodes the filter (kind 2 of the format in the package
// documentation's "Encoding"); the zero value has no encoding and gives an
// error.
func (f *Blocked) MarshalBinary() ([]byte, error) {
	if f.k == 0 {
		return nil, errZeroMarshal
	}
	return f.AppendBinary(make([]byte, 0, headerLen+trailerLen+8*len(f.words)))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (f *Blocked) AppendBinary(b []byte) ([]byte, error) {
	if f.k == 0 {
		return b, errZeroMarshal
	}
	return appendEncoding(b, header{kind: kindBlocked, k: uint8(f.k), width: 1, m: f.nblocks * BlockBits, seed: f.seed}, f.words), nil
}

// UnmarshalBinary replaces f by the filter encoded in b, after checking
// every field; on an error (matching ErrCorrupt) f is unchanged.
func (f *Blocked) UnmarshalBinary(b []byte) error {
	h, words, err := decodeEncoding(b, kindBlocked)
	if err != nil {
		return err
	}
	*f = Blocked{words: words, nblocks: h.m / BlockBits, k: uint32(h.k), seed: h.seed}
	return nil
}
