package bloom

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/dataplane-go/dataplane/flow"
)

// Filter is a classic Bloom filter of m bits and k hashes (Bloom,
// "Space/time trade-offs in hash coding with allowable errors", CACM
// 13(7), 1970; k = 1 is the 1-hash filter). Key x sets bits
// flow.BitIndex(h, i, m) for i < k, where h = flow.Hash64(x, seed): triple
// hashing, whose false-positive rate is that of k independent hashes at
// two additions and a multiplication per bit (see package flow). Bit j is
// bit j%64 of word j/64.
//
// The zero value is an empty filter of no bits: Contains answers false to
// every key, and Add panics (as a write to a nil map does), since a key
// silently dropped would later be a false negative; build a filter with
// [New]. A failed UnmarshalBinary leaves the zero value as it was. A Filter
// is safe for concurrent readers (Contains). For concurrent writers use only
// [Filter.AddAtomic] and [Filter.ContainsAtomic] until all writers are done;
// every other method needs exclusive access. Copying a Filter value makes a
// second handle on the same bits; use [Filter.Clone] for an independent copy.
type Filter struct {
	words []uint64
	m     uint32
	k     uint32
	seed  uint64
}

// New returns an empty Filter with parameters p.
func New(p Params) (*Filter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	m := uint32(p.Bits)
	return &Filter{words: make([]uint64, wordsFor(m, 1)), m: m, k: uint32(p.Hashes), seed: p.Seed}, nil
}

// MustNew is New for parameters known to be valid; it panics on an error.
func MustNew(p Params) *Filter {
	f, err := New(p)
	if err != nil {
		panic(err)
	}
	return f
}

// Params returns the filter's parameters.
func (f *Filter) Params() Params {
	return Params{Bits: uint64(f.m), Hashes: int(f.k), Seed: f.seed}
}

// Bits returns m, the number of bits.
func (f *Filter) Bits() uint64 { return uint64(f.m) }

// Hashes returns k, the number of bits set per key.
func (f *Filter) Hashes() int { return int(f.k) }

// Seed returns the seed of the key hash.
func (f *Filter) Seed() uint64 { return f.seed }

// SizeBytes returns the memory held by the bits.
func (f *Filter) SizeBytes() int { return 8 * len(f.words) }

// Words returns the filter's bits as little-endian-numbered words: bit j is
// bit j%64 of word j/64. The slice aliases the filter (writes change it);
// bits at or after m in the last word must stay zero. It is the layout of the
// kernel's map (package bloom/xdp).
func (f *Filter) Words() []uint64 { return f.words }

// Add inserts key. The key is hashed with flow.Hash64 and the filter's seed;
// an empty key is a valid key like any other.
func (f *Filter) Add(key []byte) { f.AddHash(flow.Hash64(key, f.seed)) }

// Contains reports whether key may have been added: false is certain, true is
// wrong with the filter's false-positive rate.
func (f *Filter) Contains(key []byte) bool { return f.contains(key, 0, true) }

// AddHash inserts the key whose hash is h = flow.Hash64(key, f.Seed()), so
// one hash of a packet's key can feed several structures.
func (f *Filter) AddHash(h uint64) {
	if f.k == 0 {
		panic(errZeroAdd)
	}
	w, m := f.words, uint64(f.m)
	s := bitsOf(h)
	for range f.k {
		j := s.next(m)
		w[j>>6] |= 1 << (j & 63)
	}
}

// ContainsHash is Contains for the key whose hash is h.
func (f *Filter) ContainsHash(h uint64) bool { return f.contains(nil, h, false) }

// TestAndAdd inserts key and reports whether it was already present (all
// its bits set before), as [Blocked.TestAndAdd] does.
func (f *Filter) TestAndAdd(key []byte) bool { return f.TestAndAddHash(flow.Hash64(key, f.seed)) }

// TestAndAddHash is TestAndAdd for the key whose hash is h; a key already
// present leaves the filter unwritten.
func (f *Filter) TestAndAddHash(h uint64) bool {
	if f.contains(nil, h, false) {
		return true
	}
	f.AddHash(h)
	return false
}

// contains is Contains (hashKey set: h is the hash of key) and ContainsHash
// (h given) in one body, so that each of them is a single call, which the
// compiler inlines into its caller: a wrapper calling both flow.Hash64 and
// ContainsHash would not be inlined and would add a call to every lookup.
//
// It tests the bits four at a time: the four positions are derived
// together, their words loaded together (the loads overlap) and the four
// bits ANDed and tested with one branch. A key that was not added fails its
// first four with probability about 15/16 (a filter filled to its design n
// has about half its bits set), so that branch rarely mispredicts on either
// hits or misses, where a branch per bit mispredicts on about half of the
// misses. The last k%4 bits are tested together in the same way. The
// positions are exactly flow.BitIndex(h, i, m).
func (f *Filter) contains(key []byte, h uint64, hashKey bool) bool {
	if hashKey {
		h = flow.Hash64(key, f.seed)
	}
	w, m, k := f.words, uint64(f.m), f.k
	s := bitsOf(h)
	i := uint32(0)
	for ; i+4 <= k; i += 4 {
		j0, j1, j2, j3 := s.next(m), s.next(m), s.next(m), s.next(m)
		if w[j0>>6]>>(j0&63)&(w[j1>>6]>>(j1&63))&(w[j2>>6]>>(j2&63))&(w[j3>>6]>>(j3&63))&1 == 0 {
			return false
		}
	}
	switch k - i { // the last k%4 bits, tested together as well
	case 3:
		j0, j1, j2 := s.next(m), s.next(m), s.next(m)
		return w[j0>>6]>>(j0&63)&(w[j1>>6]>>(j1&63))&(w[j2>>6]>>(j2&63))&1 != 0
	case 2:
		j0, j1 := s.next(m), s.next(m)
		return w[j0>>6]>>(j0&63)&(w[j1>>6]>>(j1&63))&1 != 0
	case 1:
		j0 := s.next(m)
		return w[j0>>6]>>(j0&63)&1 != 0
	}
	return k != 0 // k%4 == 0: every bit was set, or k = 0 (the zero value: no key is present)
}

// positions is the state of a key's bit positions (flow.BitIndex): next
// returns g scaled into [0, m) and advances g by the step d and the step
// by c, so that the i-th call returns flow.BitIndex(h, i, m).
type positions struct{ g, d, c uint32 }

// bitsOf starts the positions of the key whose hash is h.
func bitsOf(h uint64) positions {
	return positions{g: uint32(h >> 32), d: uint32(h), c: uint32(flow.Mix(h, 0) >> 32)}
}

func (s *positions) next(m uint64) uint32 {
	j := uint32(uint64(s.g) * m >> 32)
	s.g += s.d
	s.d += s.c
	return j
}

// Multiples of flow.Golden modulo 2^64: the increments of the splitmix64
// state of the blocked filter's derivation (golden is flow.Golden untyped,
// so the products are exact before the reduction).
const (
	golden  = 0x9E3779B97F4A7C15
	golden1 = uint64(golden)
)

// AddAtomic is Add for concurrent use: each bit is set with an atomic OR, so
// goroutines may call AddAtomic and ContainsAtomic on one filter at once
// without a lock. A ContainsAtomic racing with the AddAtomic of the same key
// may answer either way; once AddAtomic has returned, every later
// ContainsAtomic of the key answers true.
func (f *Filter) AddAtomic(key []byte) { f.AddHashAtomic(flow.Hash64(key, f.seed)) }

// ContainsAtomic is Contains for use concurrently with AddAtomic.
func (f *Filter) ContainsAtomic(key []byte) bool {
	return f.ContainsHashAtomic(flow.Hash64(key, f.seed))
}

// AddHashAtomic is AddHash with atomic word updates (see AddAtomic).
func (f *Filter) AddHashAtomic(h uint64) {
	if f.k == 0 {
		panic(errZeroAdd)
	}
	w, m := f.words, uint64(f.m)
	s := bitsOf(h)
	for range f.k {
		j := s.next(m)
		atomic.OrUint64(&w[j>>6], 1<<(j&63))
	}
}

// ContainsHashAtomic is ContainsHash with atomic word loads (see AddAtomic).
func (f *Filter) ContainsHashAtomic(h uint64) bool {
	w, m, k := f.words, uint64(f.m), f.k
	s := bitsOf(h)
	for range k {
		j := s.next(m)
		if atomic.LoadUint64(&w[j>>6])&(1<<(j&63)) == 0 {
			return false
		}
	}
	return k != 0 // the zero value contains no key
}

// Reset empties the filter.
func (f *Filter) Reset() { clear(f.words) }

// Clone returns an independent copy of the filter.
func (f *Filter) Clone() *Filter {
	c := *f
	c.words = append([]uint64(nil), f.words...)
	return &c
}

// Equal reports whether f and g have the same parameters and bits.
func (f *Filter) Equal(g *Filter) bool {
	if g == nil || f.m != g.m || f.k != g.k || f.seed != g.seed {
		return false
	}
	for i, w := range f.words {
		if g.words[i] != w {
			return false
		}
	}
	return true
}

func compatible(kind string, m1, m2, k1, k2 uint32, s1, s2 uint64) error {
	switch {
	case m1 != m2:
		return fmt.Errorf("%w: %s bits differ: %d and %d", ErrIncompatible, kind, m1, m2)
	case k1 != k2:
		return fmt.Errorf("%w: %s hashes differ: %d and %d", ErrIncompatible, kind, k1, k2)
	case s1 != s2:
		return fmt.Errorf("%w: %s seeds differ: %#x and %#x", ErrIncompatible, kind, s1, s2)
	}
	return nil
}

// errNilArg is the error of Union and Intersect given a nil filter.
func errNilArg(kind string) error {
	return fmt.Errorf("%w: the %s given is nil", ErrIncompatible, kind)
}

// Union makes f the union of f and g: f then contains every key either
// contained, and its rate is that of a filter holding both sets. The two
// must have equal bits, hashes and seed, or the error names the difference
// (matching ErrIncompatible) and f is unchanged.
func (f *Filter) Union(g *Filter) error {
	if g == nil {
		return errNilArg("filter")
	}
	if err := compatible("filter", f.m, g.m, f.k, g.k, f.seed, g.seed); err != nil {
		return err
	}
	for i, w := range g.words {
		f.words[i] |= w
	}
	return nil
}

// Intersect makes f the bitwise AND of f and g. Every key added to both
// filters is still contained (no false negatives), and the false-positive
// rate is at most that of either filter (though it may exceed that of a
// filter built from the intersection of the sets). Incompatible filters
// give an error as in Union.
func (f *Filter) Intersect(g *Filter) error {
	if g == nil {
		return errNilArg("filter")
	}
	if err := compatible("filter", f.m, g.m, f.k, g.k, f.seed, g.seed); err != nil {
		return err
	}
	for i, w := range g.words {
		f.words[i] &= w
	}
	return nil
}

// SetBits returns the number of bits set.
func (f *Filter) SetBits() uint64 { return popcount(f.words) }

// FillRatio returns the fraction of bits set. Near 1/2 for a filter filled to
// its design n with the optimal k; the false-positive rate is about
// FillRatio^k. It is 0 for the zero value.
func (f *Filter) FillRatio() float64 {
	if f.m == 0 {
		return 0
	}
	return float64(f.SetBits()) / float64(f.m)
}

// EstimatedCount estimates the number of distinct keys added from the bits
// set, X: n* = -(m/k) ln(1 - X/m) (Swamidass and Baldi, "Mathematical
// correction for fingerprint similarity measures to improve chemical
// retrieval", J. Chem. Inf. Model. 47(3), 2007). It is +Inf for a full
// filter, and 0 for the zero value.
func (f *Filter) EstimatedCount() float64 {
	if f.k == 0 {
		return 0
	}
	return estimate(float64(f.m), float64(f.k), float64(f.SetBits()))
}

func estimate(m, k, x float64) float64 {
	if x >= m {
		return math.Inf(1)
	}
	return -m / k * math.Log1p(-x/m)
}

// popcount counts the bits set in ws, in a uint64: a filter may have up to
// MaxBits bits set, more than an int holds on a 32-bit platform.
func popcount(ws []uint64) uint64 {
	var n uint64
	for _, w := range ws {
		n += uint64(bits.OnesCount64(w))
	}
	return n
}

// FalsePositiveRate returns the predicted rate of the filter now, about
// FillRatio^k (Bose et al., 2008, give the exact correction, negligible at
// these sizes). It is 0 for the zero value, which answers no to every key.
func (f *Filter) FalsePositiveRate() float64 {
	if f.k == 0 {
		return 0
	}
	return math.Pow(f.FillRatio(), float64(f.k))
}

// MarshalBinary encodes the filter (kind 1 of the format in the package
// documentation's "Encoding": a versioned header, the words in
// little-endian order and a CRC-32C). The zero value has no encoding: it
// gives an error.
func (f *Filter) MarshalBinary() ([]byte, error) {
	if f.k == 0 {
		return nil, errZeroMarshal
	}
	return f.AppendBinary(make([]byte, 0, headerLen+trailerLen+8*len(f.words)))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (f *Filter) AppendBinary(b []byte) ([]byte, error) {
	if f.k == 0 {
		return b, errZeroMarshal
	}
	return appendEncoding(b, header{kind: kindFilter, k: uint8(f.k), width: 1, m: f.m, seed: f.seed}, f.words), nil
}

// UnmarshalBinary replaces f by the filter encoded in b, after checking
// every field; on an error (matching ErrCorrupt) f is unchanged.
func (f *Filter) UnmarshalBinary(b []byte) error {
	h, words, err := decodeEncoding(b, kindFilter)
	if err != nil {
		return err
	}
	*f = Filter{words: words, m: h.m, k: uint32(h.k), seed: h.seed}
	return nil
}
