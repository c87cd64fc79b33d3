package cms

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/dataplane-go/dataplane/flow"
)

// Concurrent is a standard count-min sketch that any number of goroutines
// may Add to and Estimate from at once, without a lock: every counter is
// raised by its own atomic compare-and-swap (so it still saturates), and
// the total by an atomic add (saturating too). It holds the same counters
// in the same layout as [Sketch]. An Estimate racing with Adds sees each
// counter before or after each Add, so it is never below the count of the
// Adds that completed before it began.
//
// Use it when writers are many and short-lived or cannot own a sketch each;
// when each worker can own one, per-worker sketches merged on read
// ([Sum]) scale better, as they share no cache lines. Conservative update
// is not offered: two racing conservative Adds of one key can both read the
// same minimum and raise the counters only once, which undercounts.
//
// The zero Concurrent is not valid; use [NewConcurrent]. It is harmless,
// like the zero Sketch: Add ignores its input (N stays 0), Estimate returns
// 0 and Snapshot the zero Sketch.
type Concurrent struct {
	counters []atomic.Uint32
	width    uint32
	depth    uint32
	seed     uint64
	total    atomic.Uint64
}

// NewConcurrent returns an empty concurrent sketch. p.Conservative must be
// false.
func NewConcurrent(p Params) (*Concurrent, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Conservative {
		return nil, fmt.Errorf("cms: conservative update needs a single writer, got Conservative true for a concurrent sketch")
	}
	return &Concurrent{
		counters: make([]atomic.Uint32, p.Counters()),
		width:    p.Width,
		depth:    p.Depth,
		seed:     p.Seed,
	}, nil
}

// Params returns the dimensions and seed of c.
func (c *Concurrent) Params() Params {
	return Params{Width: c.width, Depth: c.depth, Seed: c.seed}
}

// Add adds n occurrences of key. It is safe for concurrent use.
func (c *Concurrent) Add(key []byte, n uint32) { c.AddHash(flow.Hash64(key, c.seed), n) }

// AddHash is [Concurrent.Add] for a key whose hash is h.
func (c *Concurrent) AddHash(h uint64, n uint32) {
	if c.depth == 0 {
		return // the zero Concurrent: no counters to count in
	}
	c.addTotal(uint64(n))
	w := c.width
	for r := uint32(0); r < c.depth; r++ {
		p := &c.counters[uint64(r)*uint64(w)+uint64(flow.Index(h, r, w))]
		for {
			old := p.Load()
			if old == math.MaxUint32 || p.CompareAndSwap(old, satAdd(old, n)) {
				break
			}
		}
	}
}

// totalGuard is where addTotal stops adding blindly: from below it, N
// cannot pass 2^64-1 but by 2^31 Adds of 2^32-1 between one Add's load and
// its add.
const totalGuard = 1 << 63

// addTotal adds n to N, saturating at 2^64-1 as [Sketch] does. 2^64 is
// within reach of about 2^32 Adds of 2^32-1, and a wrapped N would leave
// Snapshot with counters above its total (see the invariant on Sketch).
// Below totalGuard it is one atomic add; above, a compare-and-swap loop.
func (c *Concurrent) addTotal(n uint64) {
	if c.total.Load() < totalGuard {
		if c.total.Add(n) < n { // wrapped after all (see totalGuard)
			c.total.Store(math.MaxUint64)
		}
		return
	}
	for {
		old := c.total.Load()
		t := old + n
		if t < old {
			t = math.MaxUint64
		}
		if old == t || c.total.CompareAndSwap(old, t) {
			return
		}
	}
}

// Estimate returns the estimated count of key. It is safe for concurrent use.
func (c *Concurrent) Estimate(key []byte) uint32 { return c.EstimateHash(flow.Hash64(key, c.seed)) }

// EstimateHash is [Concurrent.Estimate] for a key whose hash is h.
func (c *Concurrent) EstimateHash(h uint64) uint32 {
	if c.depth == 0 {
		return 0 // the zero Concurrent: nothing counted
	}
	w := c.width
	est := uint32(math.MaxUint32)
	for r := uint32(0); r < c.depth; r++ {
		est = min(est, c.counters[uint64(r)*uint64(w)+uint64(flow.Index(h, r, w))].Load())
	}
	return est
}

// Total returns N, the sum of all counts added (saturating at 2^64-1).
func (c *Concurrent) Total() uint64 { return c.total.Load() }

// Snapshot returns a [Sketch] holding the current counters and total. Taken
// while writers run, it is a valid over-approximation of the Adds that
// completed before it began, though its rows may sum to less than its total
// (never more); it encodes and decodes like any sketch.
func (c *Concurrent) Snapshot() *Sketch {
	if c.depth == 0 {
		return &Sketch{} // the zero Concurrent
	}
	s := MustNew(c.Params())
	for i := range c.counters {
		s.counters[i] = c.counters[i].Load()
	}
	// The total last: an Add raises it before its counters, so every
	// increment seen above is counted in it, and no counter exceeds it (the
	// invariant of Sketch).
	s.total = c.total.Load()
	return s
}
