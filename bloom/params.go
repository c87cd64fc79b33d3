package bloom

import (
	"fmt"
	"math"
	"strconv"
)

// Limits on the parameters. MaxBits is the largest m that the index
// derivation [flow.Reduce] can address (it reduces into a uint32 range).
const (
	MaxBits   = 1<<32 - 1 // largest m: bits of a Filter, counters of a CountingFilter
	MaxHashes = 32        // largest k; the kernel's loop bound BLOOM_MAX_K
	BlockBits = 512       // bits per block of a Blocked filter: one 64-byte cache line
	// MaxBlockedBits is the largest m of a Blocked filter: a whole number of
	// blocks not above MaxBits.
	MaxBlockedBits = MaxBits / BlockBits * BlockBits
)

// Params are the parameters of a filter. Build them from intent with
// [ParamsFor], [ParamsForHashes] or [BlockedParamsFor], or fill them in.
type Params struct {
	// Bits is m: the number of bits of a Filter or Blocked (a multiple of
	// BlockBits), or the number of counters of a CountingFilter. 1 to
	// MaxBits (fewer counters on a 32-bit platform: see [NewCounting]).
	Bits uint64
	// Hashes is k, the number of bits set per key: 1 to MaxHashes.
	// k = 1 is the 1-hash Bloom filter.
	Hashes int
	// Seed seeds the key hash (flow.Hash64). Filters combine only with
	// filters of the same seed. If keys may be chosen by an attacker, make
	// it secret and random per filter.
	Seed uint64

	err error // a problem found by a sizing helper, reported by Validate while Bits and Hashes are 0
}

// WithSeed returns p with the hash seed set, for the Params a sizing helper
// returns: bloom.ParamsFor(n, fpr).WithSeed(seed).
func (p Params) WithSeed(seed uint64) Params { p.Seed = seed; return p }

// String describes p, and the sizing helper's error if it failed.
func (p Params) String() string {
	s := fmt.Sprintf("bits=%d hashes=%d seed=%#x", p.Bits, p.Hashes, p.Seed)
	if p.sizingError() != nil {
		s += " (" + p.err.Error() + ")"
	}
	return s
}

// sizingError returns the error of the sizing helper that made p, while
// p still holds what the helper returned with it (no Bits, no Hashes):
// parameters filled in afterwards are validated on their own.
func (p Params) sizingError() error {
	if p.Bits == 0 && p.Hashes == 0 {
		return p.err
	}
	return nil
}

// indexFloorKeys is the most keys for which ParamsFor adds bits for
// indexFloor.
const indexFloorKeys = 200

// ln2sq is (ln 2)^2.
var ln2sq = math.Ln2 * math.Ln2

func checkIntent(fn string, n uint64, fpr float64) error {
	if n == 0 {
		return fmt.Errorf("bloom: %s: n must be at least 1, got 0", fn)
	}
	if !(fpr > 0 && fpr < 1) {
		return fmt.Errorf("bloom: %s: fpr must be in (0, 1), got %v", fn, fpr)
	}
	return nil
}

// ParamsFor returns the parameters of a classic Filter holding n keys at a
// false-positive rate fpr (Broder and Mitzenmacher, "Network applications
// of Bloom filters: a survey", Internet Mathematics 1(4), 2004):
//
//	m = ceil(-n ln(fpr) / (ln 2)^2)
//	k = round((m/n) ln 2), at least 1      (k_opt, rounded half away from zero)
//
// so the filter spends m/n = 1.44 log2(1/fpr) bits per key, plus less than
// one bit in total for the ceiling. Because k is rounded, and m and k
// optimise the asymptotic rate, the predicted rate
// [FalsePositiveRate](m, k, n) may exceed fpr: by at most 4% of fpr for
// n >= 10 and fpr <= 0.1, 15% for n >= 10 and any fpr, and 62% for fewer
// keys (a single key at fpr near 0.6). For up to 200 keys it adds the
// bits that keep the measured rate within those bounds as well: in a
// filter of few bits, a key's k positions can collapse onto fewer distinct
// bits, which adds up to about 50·min(n, 10)/(m·k)^2 to the rate (measured
// with random hashes), so ParamsFor(1, 1e-4) gets m = 33, k = 23, where
// the formula's m = 20, k = 14 measured 7 times fpr. Use [ParamsForHashes] to meet fpr
// exactly for a chosen k. An n or fpr out of range, or an m above MaxBits,
// is reported by [Params.Validate] and [New].
func ParamsFor(n uint64, fpr float64) Params {
	if err := checkIntent("ParamsFor", n, fpr); err != nil {
		return Params{err: err}
	}
	m := math.Ceil(-float64(n) * math.Log(fpr) / ln2sq)
	k := math.Round(m / float64(n) * math.Ln2)
	// Small filters: add bits until the index-derivation floor (see
	// indexFloor) fits under the rate the formula promised, so that the
	// bounds above hold for the measured rate too. A floor below 1% of
	// that rate is left alone.
	if n <= indexFloorKeys && m <= MaxBits && k >= 3 && k <= MaxHashes {
		target := max(fpr, FalsePositiveRate(uint64(m), int(k), n))
		hashes := func(m float64) float64 { return min(math.Round(m/float64(n)*math.Ln2), MaxHashes) }
		fits := func(m float64) bool {
			k := hashes(m)
			floor := indexFloor(m, k, n)
			return floor <= 0.01*target || FalsePositiveRate(uint64(m), int(k), n)+floor <= target
		}
		// The least m that fits, by doubling then bisection: both terms
		// fall as m grows (k follows m, up to MaxHashes).
		if !fits(m) {
			lo, hi := m, 2*m
			for !fits(hi) && hi <= MaxBits {
				lo, hi = hi, 2*hi
			}
			for hi-lo > 1 {
				if mid := math.Floor((lo + hi) / 2); fits(mid) {
					hi = mid
				} else {
					lo = mid
				}
			}
			m, k = hi, hashes(hi)
		}
	}
	return paramsOf("ParamsFor", m, k)
}

// indexFloor bounds the part of a small filter's measured rate that the
// classic formula misses: a key's k positions (flow.BitIndex, a quadratic
// sequence a + i*b + i(i-1)/2*c) collapse onto a few distinct bits when b
// and c are near fractions of small denominator, and such a key is found
// with about the probability that those few bits are set. Measured with
// random hashes (2e7 lookups a point), that adds about A/(m k)^2 to the
// rate, with A about 50 for one key, growing with n and below 500 for
// 10 to 200 keys (k from 7 to 28): at n = 1, fpr = 1e-4 (m = 20, k = 14)
// the filter measured 7.1e-4, and at n = 1, fpr = 1e-8 (m = 39, k = 27)
// 1.2e-5. indexFloor is 50*min(n, 10)/(m k)^2, an upper bound on all of
// those measurements.
//
// It is applied to k >= 3 (one or two positions, a and a+b, are
// independent and uniform) and to at most indexFloorKeys keys, the range
// measured; larger filters keep the formula's size.
func indexFloor(m, k float64, n uint64) float64 {
	mk := m * k
	return 50 * float64(min(n, 10)) / (mk * mk)
}

// ParamsForHashes returns the parameters of a Filter with k hashes holding n
// keys at a false-positive rate of at most fpr: the least m whose exact rate
// [FalsePositiveRate] is at most fpr,
//
//	m = ceil(1 / (1 - (1 - fpr^(1/k))^(1/(kn))))
//
// about -k n / ln(1 - fpr^(1/k)). With k = 1 it sizes the 1-hash Bloom
// filter, whose rate is 1 - (1 - 1/m)^n, about n/m: it needs
// m = n / -ln(1 - fpr), nearly n/fpr bits (100 bits per key at 1%).
//
// The rate met is the formula's, which does not see the index
// derivation's floor (see [ParamsFor]): for a few keys and k >= 3 the
// measured rate can be well above fpr, as for ParamsForHashes(1, 1e-4,
// 16) (m = 20, measured 9.6e-4) and (5, 1e-4, 13) (m = 97, 1.8e-4), over
// 10^6 filters of random hashes, 100 lookups each. For such filters use
// [ParamsFor], which adds bits for it, or add bits.
func ParamsForHashes(n uint64, fpr float64, k int) Params {
	if err := checkIntent("ParamsForHashes", n, fpr); err != nil {
		return Params{err: err}
	}
	if k < 1 || k > MaxHashes {
		return Params{err: fmt.Errorf("bloom: ParamsForHashes: k must be in [1, %d], got %d", MaxHashes, k)}
	}
	fk := float64(k)
	// ln(1 - fpr^(1/k)), accurate both where fpr^(1/k) is small and where
	// it is within a few ulps of 1 (or rounds to 1: the rate 1 - 2^-52
	// with k >= 2), by 1 - fpr^(1/k) = -expm1(ln(fpr)/k) there.
	var l float64
	if r := math.Pow(fpr, 1/fk); r < 0.5 {
		l = math.Log1p(-r)
	} else {
		l = math.Log(-math.Expm1(math.Log(fpr) / fk))
	}
	m := math.Ceil(-1 / math.Expm1(l/(fk*float64(n))))
	return paramsOf("ParamsForHashes", m, fk)
}

// paramsOf checks the m and k that the sizing helper fn computed.
func paramsOf(fn string, m, k float64) Params {
	if k < 1 {
		k = 1
	}
	if k > MaxHashes && m > MaxBits {
		return Params{err: fmt.Errorf("bloom: %s: n and fpr need m = %s bits and k = %v hashes, more than the %d bits (MaxBits) and %d hashes supported",
			fn, bitsText(m), k, uint64(MaxBits), MaxHashes)}
	}
	if k > MaxHashes {
		return Params{err: fmt.Errorf("bloom: %s: fpr needs k = %v hashes, more than the %d supported", fn, k, MaxHashes)}
	}
	if m > MaxBits {
		return Params{err: fmt.Errorf("bloom: %s: n and fpr need m = %s bits, more than the %d supported (MaxBits)", fn, bitsText(m), uint64(MaxBits))}
	}
	return Params{Bits: uint64(m), Hashes: int(k)}
}

// bitsText formats a number of bits computed in floating point: in full
// up to 15 digits, and with 4 significant digits beyond (a tiny fpr asks
// ParamsForHashes for up to 1e308 bits, or +Inf).
func bitsText(m float64) string {
	if m < 1e15 {
		return strconv.FormatFloat(m, 'f', 0, 64)
	}
	return strconv.FormatFloat(m, 'g', 4, 64)
}

// Validate reports whether p describes a valid Filter or CountingFilter, or
// the error a sizing helper met (until Bits or Hashes is set by hand);
// [Params.ValidateBlocked] checks a Blocked filter's.
func (p Params) Validate() error {
	if err := p.sizingError(); err != nil {
		return err
	}
	if p.Bits < 1 || p.Bits > MaxBits {
		return fmt.Errorf("bloom: bits must be in [1, %d], got %d", uint64(MaxBits), p.Bits)
	}
	if p.Hashes < 1 || p.Hashes > MaxHashes {
		return fmt.Errorf("bloom: hashes must be in [1, %d], got %d", MaxHashes, p.Hashes)
	}
	return nil
}

// ValidateBlocked is Validate for a [Blocked] filter: it also requires
// Bits to be a multiple of BlockBits, at most MaxBlockedBits. Like
// Validate it allocates nothing, whatever the size.
func (p Params) ValidateBlocked() error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Bits%BlockBits != 0 || p.Bits > MaxBlockedBits {
		return fmt.Errorf("bloom: blocked bits must be a multiple of %d in [%d, %d], got %d (BlockedParamsFor sizes a Blocked filter; ParamsFor sizes a Filter)",
			BlockBits, BlockBits, uint64(MaxBlockedBits), p.Bits)
	}
	return nil
}

// FalsePositiveRate is the expected false-positive rate of a classic filter
// of m bits and k hashes holding n keys, by the classic formula
// (1 - (1 - 1/m)^(kn))^k. With k = 1 it is the 1-hash rate 1 - (1 - 1/m)^n.
// (The formula treats the bits as independent, which is accurate for m
// much larger than k; see Bose et al., "On the false-positive rate of Bloom
// filters", IPL 108(4), 2008.) It is 0 for n = 0, and 1 for m = 0 or
// k < 1, which describe no filter that could answer no.
func FalsePositiveRate(m uint64, k int, n uint64) float64 {
	if m == 0 || k <= 0 {
		return 1
	}
	if n == 0 {
		return 0 // an empty filter answers no to every key
	}
	// 1 - (1-1/m)^(kn) through log1p and expm1, accurate for large m.
	return math.Pow(-math.Expm1(float64(k)*float64(n)*math.Log1p(-1/float64(m))), float64(k))
}

// FalsePositiveRateApprox is the asymptotic rate (1 - e^(-kn/m))^k, the
// approximation [ParamsFor] optimises. Like [FalsePositiveRate], it is 1
// for m = 0 or k < 1.
func FalsePositiveRateApprox(m uint64, k int, n uint64) float64 {
	if m == 0 || k <= 0 {
		return 1
	}
	return math.Pow(-math.Expm1(-float64(k)*float64(n)/float64(m)), float64(k))
}

// BlockedFalsePositiveRate is the expected false-positive rate of a Blocked
// filter of m bits (m/BlockBits blocks) and k hashes holding n keys. The
// number of keys in a block is Poisson with mean lambda = BlockBits*n/m, and
// a block holding i keys answers a foreign key falsely with the classic rate
// of a BlockBits-bit filter holding i keys (Putze, Sanders and Singler,
// "Cache-, hash- and space-efficient Bloom filters", WEA 2007, section 3):
//
//	sum over i >= 0 of Poisson(i; lambda) * FalsePositiveRate(BlockBits, k, i)
//
// Blocks fill unevenly, so this exceeds the classic rate of the same m and
// k: about 1.15x at 1% and 1.6x at 0.1% (the penalty [BlockedParamsFor]
// pays for with extra bits).
//
// The formula gives each block with i keys the rate of its expected fill,
// (expected fraction of bits set)^k, whereas the fill of a 512-bit block
// varies and the rate is the expected value of fill^k, which is larger
// (Jensen's inequality). So it slightly underestimates: with n = 1e6 random
// keys and m, k predicted to give 1% (0.1%), 2e7 random absent keys
// measured a rate 1.4% (2%) above the prediction. [BlockedParamsFor]
// leaves a margin for this.
//
// It is 0 for n = 0, and 1 for m below BlockBits (not one block) or k < 1.
func BlockedFalsePositiveRate(m uint64, k int, n uint64) float64 {
	if m < BlockBits || k <= 0 {
		return 1
	}
	if n == 0 {
		return 0 // an empty filter answers no to every key
	}
	lambda := BlockBits * float64(n) / (float64(m/BlockBits) * BlockBits)
	return blockedFPR(lambda, k)
}

// blockedFPR is [BlockedFalsePositiveRate] for lambda keys per block.
func blockedFPR(lambda float64, k int) float64 {
	r, _ := blockedFPRTerms(lambda, k)
	return r
}

// blockedFPRTerms returns the blocked rate for lambda keys per block and
// the number of Poisson terms it summed. It sums the mixture from lambda
// minus 12 standard deviations and 30 (at least 0) to lambda plus as much:
// the mass left out on each side is below 1e-30, and below lambda = 199.5
// the sum starts at 0, so ordinary filters (lambda near 50 at 1%) sum the
// same terms in the same order as a sum from 0. If the classic rate of the
// first term's block is already 1 to double precision, every term's is
// (the rate grows with the keys in a block), so the mixture is 1 and
// nothing is summed. Below that point lambda is at most about 20500 (k =
// 1), so a call sums at most about 3500 terms whatever n and m are; the
// result is capped at 1, which rounding in the terms could overshoot.
func blockedFPRTerms(lambda float64, k int) (float64, int) {
	fk := float64(k)
	l1 := math.Log1p(-1.0 / BlockBits)
	rate := func(i float64) float64 { return math.Pow(-math.Expm1(fk*i*l1), fk) } // FalsePositiveRate(BlockBits, k, i)
	sd := 12*math.Sqrt(lambda) + 30
	lo := math.Max(0, math.Floor(lambda-sd))
	if rate(lo) >= 1 {
		return 1, 0
	}
	hi := lambda + sd
	logl := math.Log(lambda)
	sum, terms := 0.0, 0
	for i := lo; i <= hi; i++ {
		lg, _ := math.Lgamma(i + 1)
		pmf := math.Exp(-lambda + i*logl - lg)
		sum += pmf * rate(i)
		terms++
	}
	return min(sum, 1), terms
}

// BlockedMargin is the fraction of the requested rate that
// [BlockedParamsFor] sizes a Blocked filter for.
const BlockedMargin = 0.9

// BlockedParamsFor returns the parameters of a Blocked filter holding n
// keys whose predicted rate [BlockedFalsePositiveRate] is at most
// BlockedMargin*fpr. The margin makes the measured rate meet fpr: it covers
// the prediction's slight underestimate (1 to 2%, see
// [BlockedFalsePositiveRate]) and the scatter of a measurement (over 1e6
// absent keys, 1 standard deviation is 1% of the rate at 1% and 3% at 0.1%),
// for about 3% more bits. For each k it finds the fewest blocks meeting the
// rate; then, since a lookup's cost grows with k (one 64-bit mix per seven
// bits), it takes the smallest k whose memory is within 5% of the least (at
// 0.1%: k = 7 and 16.30 bits per key instead of k = 9 and 15.77). Compared
// with [ParamsFor] the filter needs more bits per key for the same rate:
// about 8% more at 1% (k = 5) and 13% more at 0.1% (k = 7). An n or fpr out
// of range, or more than MaxBlockedBits bits, is reported by
// [Params.Validate] and [NewBlocked]; an n that no filter of MaxBlockedBits
// bits can serve is reported at once, before any search.
func BlockedParamsFor(n uint64, fpr float64) Params {
	return blockedParamsFor(n, fpr, blockedFPR)
}

// blockedParamsFor is BlockedParamsFor with the rate function a parameter,
// so that tests can count the work done.
func blockedParamsFor(n uint64, fpr float64, blockedFPR func(lambda float64, k int) float64) Params {
	if err := checkIntent("BlockedParamsFor", n, fpr); err != nil {
		return Params{err: err}
	}
	// Any structure answering membership of n keys with false-positive rate
	// eps needs at least n log2(1/eps) bits (Carter, Floyd, Gill, Markowsky
	// and Wegman, "Exact and approximate membership testers", STOC 1978);
	// a Blocked filter needs about 1.5 times that. Reject an n that cannot
	// fit before searching.
	if need := float64(n) * -math.Log2(fpr); need > MaxBlockedBits {
		return Params{err: fmt.Errorf("bloom: BlockedParamsFor: n = %d and fpr = %v need more than %d bits (MaxBlockedBits): any filter of that rate needs at least n log2(1/fpr) = %.4g bits", n, fpr, uint64(MaxBlockedBits), need)}
	}
	const maxBlocks = MaxBlockedBits / BlockBits
	var blocks [MaxHashes + 1]uint64 // fewest blocks for each k; 0 if unreachable
	least := uint64(0)
	for k := 1; k <= MaxHashes; k++ {
		// Least number of blocks b with rate(b) <= BlockedMargin*fpr: the
		// rate falls as b grows.
		fits := func(b uint64) bool {
			return blockedFPR(BlockBits*float64(n)/float64(b*BlockBits), k) <= BlockedMargin*fpr
		}
		if !fits(maxBlocks) {
			continue
		}
		lo, hi := uint64(0), uint64(maxBlocks) // !fits(lo) or lo == 0; fits(hi)
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if fits(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		blocks[k] = hi
		if least == 0 || hi < least {
			least = hi
		}
	}
	if least == 0 {
		return Params{err: fmt.Errorf("bloom: BlockedParamsFor: n = %d and fpr = %v need more than %d bits (MaxBlockedBits)", n, fpr, uint64(MaxBlockedBits))}
	}
	for k := 1; ; k++ {
		if b := blocks[k]; b != 0 && float64(b) <= 1.05*float64(least) {
			return Params{Bits: b * BlockBits, Hashes: k}
		}
	}
}
