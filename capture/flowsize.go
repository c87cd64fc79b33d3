package capture

import (
	"fmt"
	"math"
	"math/bits"
)

// FlowSizes is a distribution of flow sizes in packets. Use [WebSearch],
// [DataMining] or [Pareto]; the zero value is not valid (its Mean and
// StdDev are 0).
type FlowSizes struct {
	name string
	// Empirical: piecewise-linear CDF through (size, probability) points,
	// sampled by inverse transform with linear interpolation, as ns-2's
	// EmpiricalRandomVariable does with the published tables.
	cdf []cdfPoint
	// Bounded Pareto on [lo, hi] with shape alpha.
	alpha, lo, hi float64
}

type cdfPoint struct{ size, p float64 }

// WebSearch is the web-search workload of DCTCP (Alizadeh et al., "Data
// Center TCP (DCTCP)", SIGCOMM 2010), in packets of 1460 bytes of payload:
// half the flows are under 60 packets, but flows of more than 1 MB carry
// most of the bytes; mean about 1,140 packets (1.66 MB). The points are
// the table that pFabric (Alizadeh et al., SIGCOMM 2013), CONGA (SIGCOMM
// 2014), HULA (SOSR 2016) and PIAS (NSDI 2015) simulate with
// (CDF_dctcp.tcl in the pFabric and PIAS ns-2 scripts).
var WebSearch = FlowSizes{name: "web-search", cdf: []cdfPoint{
	{6, 0}, {6, 0.15}, {13, 0.2}, {19, 0.3}, {33, 0.4}, {53, 0.53}, {133, 0.6},
	{667, 0.7}, {1333, 0.8}, {3333, 0.9}, {6667, 0.97}, {20000, 1},
}}

// DataMining is the data-mining workload measured in VL2 (Greenberg et
// al., "VL2: A Scalable and Flexible Data Center Network", SIGCOMM 2009),
// in packets of 1460 bytes: half the flows are a single packet, 1% exceed
// 66,667 packets (about 100 MB); mean about 5,117 packets (7.5 MB). The
// points are the table used by pFabric, CONGA, HULA and PIAS (CDF_vl2.tcl
// in their ns-2 scripts).
var DataMining = FlowSizes{name: "data-mining", cdf: []cdfPoint{
	{1, 0}, {1, 0.5}, {2, 0.6}, {3, 0.7}, {7, 0.8}, {267, 0.9}, {2107, 0.95},
	{66667, 0.99}, {666667, 1},
}}

// Pareto returns a bounded Pareto distribution of flow sizes on [min, max]
// packets with shape alpha (heavier tail for smaller alpha; 1.05 to 1.2
// are common choices for flow sizes, e.g. in pFabric's and PIAS's
// simulations). It returns an error unless alpha is positive and finite
// and 1 <= min < max.
func Pareto(alpha float64, min, max int) (FlowSizes, error) {
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		return FlowSizes{}, fmt.Errorf("capture: pareto alpha must be positive and finite, got %v", alpha)
	}
	if min < 1 || max <= min {
		return FlowSizes{}, fmt.Errorf("capture: pareto sizes must satisfy 1 <= min < max, got min %d, max %d", min, max)
	}
	return FlowSizes{name: fmt.Sprintf("pareto(%g,%d,%d)", alpha, min, max), alpha: alpha, lo: float64(min), hi: float64(max)}, nil
}

// IsValid reports whether d is a distribution (the zero value is not).
func (d FlowSizes) IsValid() bool { return len(d.cdf) > 0 || d.alpha > 0 }

// String returns the distribution's name.
func (d FlowSizes) String() string {
	if !d.IsValid() {
		return "invalid"
	}
	return d.name
}

// Sample returns the size (at least 1 packet) for a uniform variate u in
// [0, 1): the inverse of the CDF, rounded to the nearest integer. A u
// below 0 (or NaN) counts as 0, one of 1 or more as 1 (the largest size).
func (d FlowSizes) Sample(u float64) int {
	if !(u >= 0) {
		u = 0
	}
	u = min(u, 1)
	var x float64
	if len(d.cdf) > 0 {
		c := d.cdf
		x = c[len(c)-1].size
		for i := 1; i < len(c); i++ {
			if u < c[i].p {
				a, b := c[i-1], c[i]
				x = a.size + float64((u-a.p)*(b.size-a.size))/(b.p-a.p)
				break
			}
		}
	} else {
		// Inverse CDF of the bounded Pareto distribution:
		// x = L * (1 - u*(1 - (L/H)^alpha))^(-1/alpha), with
		// 1 - (L/H)^alpha and the power through expm1 and log1p: for a
		// tiny alpha, 1 - (L/H)^alpha rounds to 0 and every sample to L,
		// where the distribution is nearly log-uniform on [L, H].
		q := paretoMass(d.alpha, d.lo, d.hi)
		x = d.lo * math.Exp(-math.Log1p(-float64(u*q))/d.alpha)
		// Where (L/H)^alpha is below an ulp of 1, q rounds to 1 and u
		// = 1 gives x = +Inf: the largest size, H.
		x = min(x, d.hi)
	}
	if x >= math.MaxInt { // float64(math.MaxInt) is 2^63 on 64-bit platforms, past an int
		return math.MaxInt
	}
	return max(1, int(math.Round(x)))
}

// Mean returns the mean of the continuous distribution (before rounding
// to whole packets).
func (d FlowSizes) Mean() float64 { return d.moment(1) }

// StdDev returns the standard deviation of the continuous distribution.
func (d FlowSizes) StdDev() float64 {
	m := d.moment(1)
	return math.Sqrt(d.moment(2) - m*m)
}

// moment returns E[X^k] for k = 1 or 2, and 0 for the zero value.
func (d FlowSizes) moment(k int) float64 {
	if !d.IsValid() {
		return 0
	}
	if len(d.cdf) > 0 {
		// Each segment is uniform on [a, b] with its probability.
		var s float64
		for i := 1; i < len(d.cdf); i++ {
			a, b, w := d.cdf[i-1].size, d.cdf[i].size, d.cdf[i].p-d.cdf[i-1].p
			if k == 1 {
				s += w * (a + b) / 2
			} else {
				s += w * (a*a + a*b + b*b) / 3
			}
		}
		return s
	}
	// Bounded Pareto: density alpha L^alpha x^(-alpha-1) / (1 - (L/H)^alpha),
	// so E[X^k] = norm * (H^e - L^e) / e with e = k - alpha, or
	// norm * ln(H/L) for e = 0. H^e - L^e is L^e * expm1(e ln(H/L)): no
	// cancellation when e is near 0.
	a, l, h := d.alpha, d.lo, d.hi
	norm := a * math.Pow(l, a) / paretoMass(a, l, h)
	e := float64(k) - a
	if e == 0 {
		return norm * math.Log(h/l)
	}
	return norm * math.Pow(l, e) * math.Expm1(e*math.Log(h/l)) / e
}

// paretoMass returns 1 - (l/h)^alpha, the mass that an unbounded Pareto
// distribution from l puts below h, without the cancellation of the
// subtraction when alpha is small.
func paretoMass(alpha, l, h float64) float64 {
	return -math.Expm1(alpha * math.Log(l/h))
}

// rng is the generator's random source: splitmix64 (Steele, Lea and
// Flood, OOPSLA 2014), written here so that the bytes a seed generates
// never depend on the standard library's choices.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a uniform int in [0, n) (Lemire's multiply-shift, with its
// tiny bias: fine for traffic generation).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}
