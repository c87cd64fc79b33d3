package cms

import (
	"errors"
	"fmt"
	"math"

	"github.com/dataplane-go/dataplane/flow"
)

// Sketch is a count-min sketch. The zero Sketch is not valid; use [New].
// It is harmless, like other invalid input: it holds no counters, so
// [Sketch.Add] ignores its input (N stays 0), [Sketch.Estimate] and
// [Sketch.ErrorBound] return 0, and [Sketch.MarshalBinary], [Sketch.Merge]
// and [Sum] return an error.
// A Sketch is not safe for concurrent use when one of the goroutines
// writes; copy it with [Sketch.Clone], not by assignment.
//
// Invariant, kept by every constructor and method and checked by the
// decoders: unless N saturated, no counter exceeds N (each row sums to at
// most N). Add relies on it: while N+n fits in 32 bits no counter can
// saturate, so the common case needs no saturation check.
type Sketch struct {
	counters []uint32 // row-major, d rows of w
	width    uint32
	depth    uint32
	seed     uint64
	total    uint64 // N, saturating
	cons     bool
}

// New returns an empty sketch with the given dimensions.
func New(p Params) (*Sketch, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Sketch{
		counters: make([]uint32, p.Counters()),
		width:    p.Width,
		depth:    p.Depth,
		seed:     p.Seed,
		cons:     p.Conservative,
	}, nil
}

// MustNew is like [New] but panics on invalid parameters. It is meant for
// tests and literals.
func MustNew(p Params) *Sketch {
	s, err := New(p)
	if err != nil {
		panic(err)
	}
	return s
}

// Params returns the dimensions, seed and update mode of s.
func (s *Sketch) Params() Params {
	return Params{Width: s.width, Depth: s.depth, Seed: s.seed, Conservative: s.cons}
}

// Hash returns the flow hash of key under the sketch's seed, the value
// [Sketch.AddHash] and [Sketch.EstimateHash] take.
func (s *Sketch) Hash(key []byte) uint64 { return flow.Hash64(key, s.seed) }

// Add adds n occurrences of key (its canonical bytes, for flows
// [flow.Key.Bytes]). Any byte string is a key; the empty one is a key too.
// On the zero (invalid) Sketch it does nothing.
func (s *Sketch) Add(key []byte, n uint32) { s.AddHash(flow.Hash64(key, s.seed), n) }

// AddHash is [Sketch.Add] for a key whose hash under the sketch's seed is h,
// for when one packet hash feeds several structures.
func (s *Sketch) AddHash(h uint64, n uint32) {
	if s.depth == 0 {
		return // the zero Sketch: no counters to count in
	}
	fast := s.addTotal(n)
	if s.cons {
		s.addConservative(h, n)
		return
	}
	c, w := s.counters, uint64(s.width)
	x, base := h, uint64(0)
	if fast {
		for range s.depth {
			c[base+uint64(rowIndex(x, w))] += n
			x += flow.Golden
			base += w
		}
		return
	}
	for range s.depth {
		i := base + uint64(rowIndex(x, w))
		c[i] = satAdd(c[i], n)
		x += flow.Golden
		base += w
	}
}

// addTotal adds n to N and reports whether N, and so every counter (see the
// invariant on [Sketch]), still fits in 32 bits: then no counter can
// saturate.
func (s *Sketch) addTotal(n uint32) (fast bool) {
	t := s.total + uint64(n)
	if t < s.total {
		t = math.MaxUint64
	}
	s.total = t
	return t <= math.MaxUint32
}

// addEstimate is [Sketch.AddHash] that also returns the key's new estimate,
// computed on the way (no second pass over the rows).
func (s *Sketch) addEstimate(h uint64, n uint32) uint32 {
	fast := s.addTotal(n)
	if s.cons {
		return s.addConservative(h, n)
	}
	c, w := s.counters, uint64(s.width)
	est := uint32(math.MaxUint32)
	x, base := h, uint64(0)
	for range s.depth {
		i := base + uint64(rowIndex(x, w))
		v := c[i] + n
		if !fast {
			v = satAdd(c[i], n)
		}
		c[i] = v
		est = min(est, v)
		x += flow.Golden
		base += w
	}
	return est
}

// rowIndex returns flow.Index(h, r, w) given x = h + r*flow.Golden: the
// splitmix64 state of row r, advanced by one addition per row instead of
// recomputed with a multiplication (Mix(h, r) = Mix(h+r*Golden, 0)).
func rowIndex(x, w uint64) uint32 { return flow.Reduce(flow.Mix(x, 0), uint32(w)) }

// addConservative raises each of the key's counters to at least its new
// estimate min+n and leaves larger ones alone (Estan and Varghese 2002,
// section 3.3.2), and returns that estimate. The raise is a branch-free max:
// which counters are below the target depends on the data, so a branch
// would be mispredicted often.
func (s *Sketch) addConservative(h uint64, n uint32) uint32 {
	var idx [MaxDepth]uint64
	var val [MaxDepth]uint32 // the counters as loaded: no second load
	c, w := s.counters, uint64(s.width)
	d := s.depth
	if d > MaxDepth {
		return 0 // unreachable: New and UnmarshalBinary enforce it
	}
	est := uint32(math.MaxUint32)
	x, base := h, uint64(0)
	for r := range idx[:d] {
		i := base + uint64(rowIndex(x, w))
		v := c[i]
		idx[r], val[r] = i, v
		est = min(est, v)
		x += flow.Golden
		base += w
	}
	target := satAdd(est, n)
	for r, i := range idx[:d] {
		c[i] = max(val[r], target)
	}
	return target
}

func satAdd(a, b uint32) uint32 {
	v := a + b
	if v < a {
		return math.MaxUint32
	}
	return v
}

// Estimate returns the estimated count of key: the minimum of its d
// counters. It is never below the true count (clamped at 2^32-1) and, with
// probability at least 1-delta, at most the true count plus eps*N. On the
// zero (invalid) Sketch it returns 0.
func (s *Sketch) Estimate(key []byte) uint32 { return s.EstimateHash(flow.Hash64(key, s.seed)) }

// EstimateHash is [Sketch.Estimate] for a key whose hash is h.
func (s *Sketch) EstimateHash(h uint64) uint32 {
	if s.depth == 0 {
		return 0 // the zero Sketch: nothing counted
	}
	c, w := s.counters, uint64(s.width)
	est := uint32(math.MaxUint32)
	x, base := h, uint64(0)
	for range s.depth {
		est = min(est, c[base+uint64(rowIndex(x, w))])
		x += flow.Golden
		base += w
	}
	return est
}

// Total returns N, the sum of all counts added (saturating at 2^64-1).
func (s *Sketch) Total() uint64 { return s.total }

// ErrorBound returns eps*N: with probability at least 1-delta an estimate
// exceeds the true count by at most this much. It is 0 for the zero
// Sketch, which counts nothing.
func (s *Sketch) ErrorBound() float64 {
	if s.depth == 0 {
		return 0 // the zero Sketch: eps = e/0, N = 0
	}
	return s.Params().Epsilon() * float64(s.total)
}

// Counters returns the counters, row-major (row r is
// Counters()[r*w:(r+1)*w]). The slice aliases the sketch: do not modify it.
func (s *Sketch) Counters() []uint32 { return s.counters }

// Reset zeroes every counter and the total.
func (s *Sketch) Reset() {
	clear(s.counters)
	s.total = 0
}

// Clone returns an independent copy of s.
func (s *Sketch) Clone() *Sketch {
	c := *s
	c.counters = append([]uint32(nil), s.counters...)
	return &c
}

// errInvalid reports a nil or zero Sketch given where a sketch is needed,
// with an error wrapping sentinel unless it is nil.
func errInvalid(sentinel error, what string, s *Sketch) error {
	var why string
	switch {
	case s == nil:
		why = "is a nil sketch"
	case s.depth == 0:
		why = "is the zero Sketch, which is not valid (use New)"
	default:
		return nil
	}
	if sentinel == nil {
		return fmt.Errorf("cms: %s %s", what, why)
	}
	return fmt.Errorf("%w: %s %s", sentinel, what, why)
}

// compatible returns nil if o can be merged into s. A nil or zero sketch
// on either side is compatible with nothing.
func (s *Sketch) compatible(o *Sketch) error {
	if err := errInvalid(ErrIncompatible, "the sketch merged into", s); err != nil {
		return err
	}
	if err := errInvalid(ErrIncompatible, "the sketch merged", o); err != nil {
		return err
	}
	switch {
	case s.width != o.width:
		return fmt.Errorf("%w: width %d and %d", ErrIncompatible, s.width, o.width)
	case s.depth != o.depth:
		return fmt.Errorf("%w: depth %d and %d", ErrIncompatible, s.depth, o.depth)
	case s.seed != o.seed:
		return fmt.Errorf("%w: seed %#x and %#x", ErrIncompatible, s.seed, o.seed)
	case s.cons != o.cons:
		return fmt.Errorf("%w: conservative update %v and %v", ErrIncompatible, s.cons, o.cons)
	}
	return nil
}

// Merge adds the counters and total of o to s, so that s estimates the
// union of both streams. For standard sketches the result equals the sketch
// of the concatenated stream exactly (this is how per-CPU sketches are
// combined); for conservative ones it is still never below the true count
// but may exceed the sketch of the concatenated stream. Sketches with
// different width, depth, seed or update mode are rejected with an error
// wrapping [ErrIncompatible] that names the difference, and so is a nil
// or zero Sketch on either side, with an error saying so.
func (s *Sketch) Merge(o *Sketch) error {
	if err := s.compatible(o); err != nil {
		return err
	}
	for i, v := range o.counters {
		s.counters[i] = satAdd(s.counters[i], v)
	}
	t := s.total + o.total
	if t < s.total {
		t = math.MaxUint64
	}
	s.total = t
	return nil
}

// Sum returns a new sketch holding the merge of all sketches (at least one),
// which are left unchanged. A nil or zero Sketch among them is an error
// wrapping [ErrIncompatible] and naming its position.
func Sum(sketches ...*Sketch) (*Sketch, error) {
	if len(sketches) == 0 {
		return nil, fmt.Errorf("cms: sum needs at least one sketch, got 0")
	}
	for i, o := range sketches {
		if err := errInvalid(ErrIncompatible, fmt.Sprintf("sketch %d of the sum", i), o); err != nil {
			return nil, err
		}
	}
	out := sketches[0].Clone()
	for _, o := range sketches[1:] {
		if err := out.Merge(o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FromCounters returns a sketch with dimensions p holding a copy of
// counters (row-major, d*w values, as the kernel's loader reads them) and the
// total N. It checks what a sketch built by Add must satisfy (see
// [Sketch.UnmarshalBinary]) and returns an error wrapping [ErrCorrupt]
// otherwise.
func FromCounters(p Params, counters []uint32, total uint64) (*Sketch, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// The length first: a wrong one must not cost a sketch of p's size
	// (up to 1 GiB) before it is refused.
	if len(counters) != p.Counters() {
		return nil, fmt.Errorf("%w: %d counters for width %d and depth %d, want %d", ErrCorrupt, len(counters), p.Width, p.Depth, p.Counters())
	}
	if err := checkRows(counters, p.Width, p.Depth, total); err != nil {
		return nil, err
	}
	s, err := New(p)
	if err != nil {
		return nil, err
	}
	copy(s.counters, counters)
	s.total = total
	return s, nil
}

// SetCounters replaces the counters of s with a copy of counters
// (row-major, as [Sketch.Counters] returns them) and its N with total:
// [FromCounters] into a sketch that already exists, so that a loader that
// reads a kernel's sketch every epoch can keep one. It checks what
// FromCounters checks, and returns an error, changing nothing, unless
// len(counters) is Params().Counters() and no row sums to more than total
// (wrapping [ErrCorrupt]), or if s is the zero Sketch.
func (s *Sketch) SetCounters(counters []uint32, total uint64) error {
	if s == nil || s.counters == nil {
		return errors.New("cms: SetCounters on the zero Sketch or nil; build sketches with New")
	}
	if len(counters) != len(s.counters) {
		return fmt.Errorf("%w: %d counters for width %d and depth %d, want %d", ErrCorrupt, len(counters), s.width, s.depth, len(s.counters))
	}
	if err := checkRows(counters, s.width, s.depth, total); err != nil {
		return err
	}
	copy(s.counters, counters)
	s.total = total
	return nil
}

// check verifies the invariant of Add: every row sums to at most N.
//
// A sketch built by standard update alone has every row sum exactly N
// (unless a counter saturated), but a sketch read while writers run does
// not: a [Concurrent.Snapshot], or the kernel's counters read under
// traffic, takes N after the counters, so its rows may sum to less. Those
// are valid sketches (estimates of a prefix of the stream that N covers),
// so the check asks only what Add relies on.
func (s *Sketch) check() error { return checkRows(s.counters, s.width, s.depth, s.total) }

// checkRows is check on counters of depth rows of width (d*w of them) and
// the total N.
func checkRows(counters []uint32, width, depth uint32, total uint64) error {
	if total == math.MaxUint64 {
		return nil // N saturated: nothing to compare with
	}
	w := int(width)
	for r := 0; r < int(depth); r++ {
		var sum uint64
		for _, v := range counters[r*w : (r+1)*w] {
			sum += uint64(v)
		}
		if sum > total {
			return fmt.Errorf("%w: row %d sums to %d, more than the total %d", ErrCorrupt, r, sum, total)
		}
	}
	return nil
}
