package bloom

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/dataplane-go/dataplane/flow"
)

// CountingFilter is a counting Bloom filter (Fan, Cao, Almeida and Broder,
// "Summary cache", IEEE/ACM ToN 8(3), 2000): m counters of 4, 8 or 16 bits,
// packed 64/width to a little-endian word (counter j is bits (j%c)*width to
// (j%c)*width+width-1 of word j/c, with c = 64/width). A key uses counters
// flow.BitIndex(h, i, m) for i < k, the positions of the same key's bits in
// a [Filter] of m bits.
//
// Counters saturate at 2^width - 1 and a saturated counter is never
// decremented, so no key that was added and not removed is ever reported
// absent; the price is that a saturated counter never returns to zero. With
// 4-bit counters and the optimal k a counter saturates with probability
// about 1.37e-15 x m (Fan et al., section V.C).
//
// The zero value is an empty filter of no counters: Contains answers
// false, Count 0 and Remove ErrNotPresent for every key, and Add panics (as
// for [Filter]); build a filter with [NewCounting]. A CountingFilter is
// safe for concurrent readers, not for a writer alongside anyone else.
type CountingFilter struct {
	words []uint64
	m     uint32
	k     uint32
	seed  uint64
	lgc   uint32 // log2(counters per word)
	lgw   uint32 // log2(width)
	max   uint64 // 2^width - 1
}

// NewCounting returns an empty CountingFilter with p.Bits counters of width
// bits each (4, 8 or 16) and p.Hashes hashes. Size p with [ParamsFor] as for
// a Filter: the counters take width times the memory of the bits. On a
// 32-bit platform the filter's encoding (the counters' memory and 24
// bytes) must also fit in an int, which allows at most 4,294,967,232
// 4-bit, 2,147,483,616 8-bit or 1,073,741,808 16-bit counters; NewCounting
// returns an error for more, before allocating.
func NewCounting(p Params, width int) (*CountingFilter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if width != 4 && width != 8 && width != 16 {
		return nil, fmt.Errorf("bloom: counter width must be 4, 8 or 16 bits, got %d", width)
	}
	if most := maxCounters(width); p.Bits > most {
		return nil, fmt.Errorf("bloom: bits (counters) must be at most %d for %d-bit counters on a %d-bit platform (the filter's encoding, %d + 8*ceil(bits*%d/64) bytes, must fit in an int), got %d",
			most, width, strconv.IntSize, headerLen+trailerLen, width, p.Bits)
	}
	return newCounting(uint32(p.Bits), uint32(p.Hashes), p.Seed, uint8(width), nil), nil
}

// maxCounters returns the most counters of width bits a CountingFilter
// can have: MaxBits, or fewer where an int cannot hold the length of the
// filter's encoding, headerLen + trailerLen + 8 bytes a word (only on a
// 32-bit platform, where 2^32 16-bit counters are 8 GiB). The limit keeps
// the counters' memory, SizeBytes and the length of MarshalBinary's
// result within an int.
func maxCounters(width int) uint64 {
	words := uint64(math.MaxInt-headerLen-trailerLen) / 8
	return min(words*64/uint64(width), MaxBits)
}

func newCounting(m, k uint32, seed uint64, width uint8, words []uint64) *CountingFilter {
	if words == nil {
		words = make([]uint64, wordsFor(m, width))
	}
	lgw := uint32(bits.TrailingZeros8(width))
	return &CountingFilter{words: words, m: m, k: k, seed: seed, lgc: 6 - lgw, lgw: lgw, max: 1<<width - 1}
}

// MustNewCounting is NewCounting for parameters known to be valid; it panics
// on an error.
func MustNewCounting(p Params, width int) *CountingFilter {
	f, err := NewCounting(p, width)
	if err != nil {
		panic(err)
	}
	return f
}

// Params returns the filter's parameters (Bits is the number of counters).
func (f *CountingFilter) Params() Params {
	return Params{Bits: uint64(f.m), Hashes: int(f.k), Seed: f.seed}
}

// Counters returns m, the number of counters.
func (f *CountingFilter) Counters() uint64 { return uint64(f.m) }

// Hashes returns k.
func (f *CountingFilter) Hashes() int { return int(f.k) }

// Width returns the counter width in bits: 4, 8 or 16, and 0 for the zero
// value, which has no counters.
func (f *CountingFilter) Width() int { return bits.Len64(f.max) }

// Seed returns the seed of the key hash.
func (f *CountingFilter) Seed() uint64 { return f.seed }

// SizeBytes returns the memory held by the counters.
func (f *CountingFilter) SizeBytes() int { return 8 * len(f.words) }

// Words returns the packed counters, aliased.
func (f *CountingFilter) Words() []uint64 { return f.words }

// loc returns the word index and bit offset of counter j.
func (f *CountingFilter) loc(j uint32) (uint32, uint32) {
	return j >> f.lgc, (j & (1<<f.lgc - 1)) << f.lgw
}

// Counter returns the value of counter j. It panics, naming j and m, if j
// is not below m (a j past m would read padding or lie outside the words).
func (f *CountingFilter) Counter(j uint32) uint64 {
	if j >= f.m {
		panic(fmt.Sprintf("bloom: CountingFilter.Counter(%d) out of range: the filter has %d counters", j, f.m))
	}
	return f.counter(j)
}

// counter is Counter for j < m, unchecked.
func (f *CountingFilter) counter(j uint32) uint64 {
	w, off := f.loc(j)
	return f.words[w] >> off & f.max
}

// Add inserts key: each of its k counters grows by one unless saturated.
func (f *CountingFilter) Add(key []byte) { f.AddHash(flow.Hash64(key, f.seed)) }

// Contains reports whether key may be in the filter (all its counters
// non-zero).
func (f *CountingFilter) Contains(key []byte) bool {
	return f.ContainsHash(flow.Hash64(key, f.seed))
}

// Remove deletes one insertion of key: each of its k counters drops by one
// unless saturated (a counter at two of the key's k positions drops by
// two). If that would take a counter below zero, Remove returns
// ErrNotPresent and changes nothing: when the key is not in the filter (one
// of its counters is zero), and also when a counter the key uses more than
// once holds less than its number of uses, so Remove can fail for a key
// that Contains reports present (Contains needs each counter non-zero).
// Removing a key that was never added but is a false positive cannot be
// detected, and would take counts from other keys: remove only keys you
// added.
func (f *CountingFilter) Remove(key []byte) error { return f.remove(key, 0, true) }

// Count returns the estimated number of insertions of key not yet removed:
// the least of its counters. It never underestimates while no counter of
// the key is saturated; a saturated minimum means "at least 2^width - 1".
func (f *CountingFilter) Count(key []byte) uint64 { return f.CountHash(flow.Hash64(key, f.seed)) }

// AddHash is Add for the key whose hash is h = flow.Hash64(key, f.Seed()).
func (f *CountingFilter) AddHash(h uint64) {
	if f.k == 0 {
		panic(errZeroAddCounting)
	}
	w, m, lgc, lgw, max := f.words, uint64(f.m), f.lgc, f.lgw, f.max
	s := bitsOf(h)
	for range f.k {
		j := s.next(m)
		wi, off := j>>lgc, (j&(1<<lgc-1))<<lgw
		if w[wi]>>off&max != max {
			w[wi] += 1 << off
		}
	}
}

// ContainsHash is Contains for the key whose hash is h.
func (f *CountingFilter) ContainsHash(h uint64) bool {
	w, m, k, lgc, lgw, max := f.words, uint64(f.m), f.k, f.lgc, f.lgw, f.max
	s := bitsOf(h)
	for range k {
		j := s.next(m)
		if w[j>>lgc]>>((j&(1<<lgc-1))<<lgw)&max == 0 {
			return false
		}
	}
	return k != 0 // the zero value contains no key
}

// RemoveHash is Remove for the key whose hash is h.
func (f *CountingFilter) RemoveHash(h uint64) error { return f.remove(nil, h, false) }

// remove is Remove and RemoveHash in one body, hashing key if hashKey is
// set (see Filter.contains for why).
//
// It derives the counters' positions four at a time (as
// [Filter.ContainsHash] does), then updates those four counters in
// order, so the CPU can load their words together. 4-bit counters, the
// common width, take [CountingFilter.remove4].
func (f *CountingFilter) remove(key []byte, h uint64, hashKey bool) error {
	if hashKey {
		h = flow.Hash64(key, f.seed)
	}
	if f.lgw == 2 {
		return f.remove4(h)
	}
	w, m, k, lgc, lgw, max := f.words, uint64(f.m), f.k, f.lgc, f.lgw, f.max
	s := bitsOf(h)
	i := uint32(0)
	for ; i+4 <= k; i += 4 {
		j0, j1, j2, j3 := s.next(m), s.next(m), s.next(m), s.next(m)
		for d, j := range [4]uint32{j0, j1, j2, j3} {
			if !decrement(w, j, lgc, lgw, max) {
				f.undoRemove(h, i+uint32(d))
				return ErrNotPresent
			}
		}
	}
	for ; i < k; i++ {
		if !decrement(w, s.next(m), lgc, lgw, max) {
			f.undoRemove(h, i)
			return ErrNotPresent
		}
	}
	if k == 0 { // the zero value (lgw 0, so never remove4's) contains no key
		return ErrNotPresent
	}
	return nil
}

// remove4 is remove for 4-bit counters (lgw = 2): the same steps, with
// constant shifts and mask and the four decrements unrolled, in fewer
// instructions (and fewer register spills). That is worth a few per cent
// in the cache and a little beyond it, where each key waits on k counter
// words and the fewer instructions a key takes, the more keys' loads the
// CPU's out-of-order window holds at once.
func (f *CountingFilter) remove4(h uint64) error {
	w, m, k := f.words, uint64(f.m), f.k
	s := bitsOf(h)
	i := uint32(0)
	for ; i+4 <= k; i += 4 {
		j0, j1, j2, j3 := s.next(m), s.next(m), s.next(m), s.next(m)
		if !decrement4(w, j0) {
			f.undoRemove(h, i)
			return ErrNotPresent
		}
		if !decrement4(w, j1) {
			f.undoRemove(h, i+1)
			return ErrNotPresent
		}
		if !decrement4(w, j2) {
			f.undoRemove(h, i+2)
			return ErrNotPresent
		}
		if !decrement4(w, j3) {
			f.undoRemove(h, i+3)
			return ErrNotPresent
		}
	}
	for ; i < k; i++ {
		if !decrement4(w, s.next(m)) {
			f.undoRemove(h, i)
			return ErrNotPresent
		}
	}
	return nil
}

// decrement4 is decrement for 4-bit counters: counter j is bits 4(j%16) to
// 4(j%16)+3 of word j/16. One unsigned comparison, v-1 >= 14, sends both
// rare values (0: absent; 15: saturated) off the common path.
func decrement4(w []uint64, j uint32) bool {
	x := w[j>>4]
	off := j << 2 & 63 // (j % 16) * 4
	if v := x >> off & 15; v-1 >= 14 {
		return v != 0 // 15: saturated, never decremented
	}
	w[j>>4] = x - 1<<off
	return true
}

// decrement takes one from counter j of w (counters of 1<<lgw bits, 1<<lgc
// to a word, saturating at max) unless it is saturated, and reports true;
// if the counter is zero it changes nothing and reports false. The shift
// counts are masked so the compiler emits bare shifts.
func decrement(w []uint64, j, lgc, lgw uint32, max uint64) bool {
	wi, off := j>>(lgc&31), (j<<(lgw&31))&63 // (j % (64>>lgw)) << lgw
	switch w[wi] >> off & max {
	case 0:
		return false
	case max: // saturated: never decremented
	default:
		w[wi] -= 1 << off
	}
	return true
}

// undoRemove restores the counters that RemoveHash decremented before it
// found a zero at index n. Those it skipped are saturated and still are;
// those it decremented are below max and get their one back (a counter
// met twice was decremented twice and is restored twice).
func (f *CountingFilter) undoRemove(h uint64, n uint32) {
	for i := uint32(0); i < n; i++ {
		wi, off := f.loc(flow.BitIndex(h, i, f.m))
		if f.words[wi]>>off&f.max != f.max {
			f.words[wi] += 1 << off
		}
	}
}

// CountHash is Count for the key whose hash is h.
func (f *CountingFilter) CountHash(h uint64) uint64 {
	w, m, lgc, lgw, max := f.words, uint64(f.m), f.lgc, f.lgw, f.max
	s := bitsOf(h)
	least := max
	for range f.k {
		j := s.next(m)
		least = min(least, w[j>>lgc]>>((j&(1<<lgc-1))<<lgw)&max)
	}
	return least
}

// Filter returns the plain Filter of the same m, k and seed whose bit j is
// set where counter j is non-zero: it contains exactly the keys this filter
// contains. The zero value gives the zero Filter.
func (f *CountingFilter) Filter() *Filter {
	if f.k == 0 {
		return &Filter{}
	}
	g := MustNew(Params{Bits: uint64(f.m), Hashes: int(f.k), Seed: f.seed})
	for j := uint32(0); j < f.m; j++ {
		if f.counter(j) != 0 {
			g.words[j>>6] |= 1 << (j & 63)
		}
	}
	return g
}

// Reset sets every counter to zero.
func (f *CountingFilter) Reset() { clear(f.words) }

// Clone returns an independent copy.
func (f *CountingFilter) Clone() *CountingFilter {
	c := *f
	c.words = append([]uint64(nil), f.words...)
	return &c
}

// Saturated returns the number of saturated counters.
func (f *CountingFilter) Saturated() uint64 {
	var n uint64
	for j := uint32(0); j < f.m; j++ {
		if f.counter(j) == f.max {
			n++
		}
	}
	return n
}

// MarshalBinary encodes the filter (kind 3 of the format in the package
// documentation's "Encoding", the counter width in the width byte); the
// zero value has no encoding and gives an error.
func (f *CountingFilter) MarshalBinary() ([]byte, error) {
	if f.k == 0 {
		return nil, errZeroMarshal
	}
	return f.AppendBinary(make([]byte, 0, headerLen+trailerLen+8*len(f.words)))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (f *CountingFilter) AppendBinary(b []byte) ([]byte, error) {
	if f.k == 0 {
		return b, errZeroMarshal
	}
	return appendEncoding(b, header{kind: kindCounting, k: uint8(f.k), width: uint8(f.Width()), m: f.m, seed: f.seed}, f.words), nil
}

// UnmarshalBinary replaces f by the filter encoded in b, after checking
// every field; on an error (matching ErrCorrupt) f is unchanged.
func (f *CountingFilter) UnmarshalBinary(b []byte) error {
	h, words, err := decodeEncoding(b, kindCounting)
	if err != nil {
		return err
	}
	*f = *newCounting(h.m, uint32(h.k), h.seed, h.width, words)
	return nil
}
