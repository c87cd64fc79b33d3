package cms

import (
	"fmt"
	"math"
)

// Limits on the dimensions of a sketch.
const (
	MaxDepth    = 32      // d: at most 32 rows (delta down to e^-32)
	MaxCounters = 1 << 28 // w*d: at most 2^28 counters (1 GiB)
)

// Params are the dimensions of a sketch. Two sketches can be merged only when
// their Params are equal.
type Params struct {
	Width uint32 // w in the paper: counters per row
	Depth uint32 // d in the paper: rows, one derived hash each
	Seed  uint64 // seed of the flow hash; secret if keys are attacker-chosen

	// Conservative selects the conservative update of Estan and Varghese.
	Conservative bool

	err error // set by ParamsFor on bad input, reported by Validate while Width and Depth are 0
}

// String describes p, and ParamsFor's error if it failed.
func (p Params) String() string {
	s := fmt.Sprintf("width=%d depth=%d seed=%#x conservative=%v", p.Width, p.Depth, p.Seed, p.Conservative)
	if p.sizingError() != nil {
		s += " (" + p.err.Error() + ")"
	}
	return s
}

// sizingError returns ParamsFor's error while p still holds what
// ParamsFor returned with it (no Width, no Depth): dimensions filled in
// afterwards are validated on their own.
func (p Params) sizingError() error {
	if p.Width == 0 && p.Depth == 0 {
		return p.err
	}
	return nil
}

// ParamsFor returns the smallest sketch whose estimates exceed the true
// count by at most epsilon*N with probability at least 1-delta:
// w = ceil(e/epsilon), d = ceil(ln(1/delta)) (Cormode and Muthukrishnan,
// section 3). Invalid arguments are reported by [New].
func ParamsFor(epsilon, delta float64) Params {
	var p Params
	switch {
	case !(epsilon > 0 && epsilon < 1):
		p.err = fmt.Errorf("cms: epsilon must be in (0, 1), got %v", epsilon)
	case !(delta > 0 && delta < 1):
		p.err = fmt.Errorf("cms: delta must be in (0, 1), got %v", delta)
	default:
		// e/epsilon snapped down by a relative 1e-15 (a few ulps) before
		// the ceiling: e/(e/w) can come out one ulp above w, which would
		// add a column to the sketch of a width's own epsilon. No more
		// than that: a relative 1e-12 dropped genuine fractions, such as
		// the 1e-6 of e/epsilon = 1e8 + 1e-6, whose sketch (width 1e8)
		// then predicted an error above epsilon. Not when e/epsilon
		// overflowed (epsilon below about 1.5e-308): Inf - 1e-15*Inf is
		// NaN, which would pass the size check below.
		w := math.E / epsilon
		if !math.IsInf(w, 1) {
			w = math.Ceil(w - 1e-15*w)
		}
		d := math.Max(1, math.Ceil(math.Log(1/delta)))
		switch {
		case d > MaxDepth:
			p.err = fmt.Errorf("cms: delta must be at least e^-%d (depth at most %d), got %v", MaxDepth, MaxDepth, delta)
		case w*d > MaxCounters:
			p.err = fmt.Errorf("cms: epsilon %v and delta %v need %.4g counters (width %.4g, depth %.0f), more than the %d accepted (MaxCounters)", epsilon, delta, w*d, w, d, MaxCounters)
		default:
			p.Width, p.Depth = uint32(w), uint32(d)
		}
	}
	return p
}

// Validate reports whether p describes a sketch [New] accepts, or
// ParamsFor's error (until Width or Depth is set by hand).
func (p Params) Validate() error {
	if err := p.sizingError(); err != nil {
		return err
	}
	switch {
	case p.Width == 0:
		return fmt.Errorf("cms: width must be at least 1, got 0")
	case p.Depth == 0 || p.Depth > MaxDepth:
		return fmt.Errorf("cms: depth must be in [1, %d], got %d", MaxDepth, p.Depth)
	case uint64(p.Width)*uint64(p.Depth) > MaxCounters:
		return fmt.Errorf("cms: width*depth must be at most %d, got %d*%d", MaxCounters, p.Width, p.Depth)
	}
	return nil
}

// Epsilon returns the error factor of a sketch of width w: e/w. An estimate
// exceeds the true count by more than Epsilon()*N with probability at most
// Delta().
func (p Params) Epsilon() float64 { return math.E / float64(p.Width) }

// Delta returns the failure probability of a sketch of depth d: e^-d.
func (p Params) Delta() float64 { return math.Exp(-float64(p.Depth)) }

// Counters returns w*d. Where that exceeds an int (dimensions Validate
// rejects: it allows at most MaxCounters), it returns math.MaxInt.
func (p Params) Counters() int {
	return int(min(uint64(p.Width)*uint64(p.Depth), math.MaxInt))
}

// SizeBytes returns the memory taken by the counters: 4*w*d. Where that
// exceeds an int (dimensions Validate rejects), it returns math.MaxInt.
func (p Params) SizeBytes() int {
	if n := uint64(p.Width) * uint64(p.Depth); n <= math.MaxInt/4 {
		return int(4 * n)
	}
	return math.MaxInt
}

// WithSeed returns p with the hash seed set.
func (p Params) WithSeed(seed uint64) Params { p.Seed = seed; return p }

// WithConservative returns p with conservative update on or off.
func (p Params) WithConservative(on bool) Params { p.Conservative = on; return p }
