package bloom

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestParamsFor_IndexFloorBound checks ParamsFor's small-filter sizing
// against its definition, recomputed here: for n up to 200 keys and a
// formula k of 3 to MaxHashes, the formula's m (ceil(-n ln fpr / (ln 2)^2))
// grows to the least m, with k = round((m/n) ln 2) capped at MaxHashes,
// for which the index-derivation floor 50*min(n, 10)/(m k)^2 is at most 1%
// of the target rate (the larger of fpr and the formula's predicted rate),
// or the predicted rate plus the floor is at most the target. From 201
// keys, with k below 3 and where the formula already fits, the formula's
// m and k are kept. The grid takes in both ends of the range (n = 1, 200,
// 201), k = 3 (fpr 0.1) and the largest k.
func TestParamsFor_IndexFloorBound(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 5, 7, 10, 20, 50, 100, 199, 200, 201, 1000} {
		for _, fpr := range []float64{0.2, 0.1, 0.05, 0.02, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10} {
			wantM, wantK, ok := paramsForRef(n, fpr)
			if !ok {
				continue // ParamsFor refuses it
			}
			p := ParamsFor(n, fpr)
			if err := p.Validate(); err != nil {
				t.Fatalf("ParamsFor(%d, %g): %v", n, fpr, err)
			}
			if p.Bits != uint64(wantM) || p.Hashes != int(wantK) {
				t.Errorf("ParamsFor(%d, %g) = m %d, k %d; want m %v, k %v", n, fpr, p.Bits, p.Hashes, wantM, wantK)
			}
		}
	}
}

// paramsForRef is ParamsFor's sizing recomputed from its definition (see
// TestParamsFor_IndexFloorBound), by a linear search for the least m: m
// and k, and false where ParamsFor refuses (a formula k above MaxHashes).
func paramsForRef(n uint64, fpr float64) (m, k float64, ok bool) {
	m0 := math.Ceil(-float64(n) * math.Log(fpr) / (math.Ln2 * math.Ln2))
	k0 := math.Round(m0 / float64(n) * math.Ln2)
	if k0 > MaxHashes {
		return 0, 0, false
	}
	if n > 200 || k0 < 3 {
		return m0, max(k0, 1), true
	}
	floor := func(m, k float64) float64 { return 50 * float64(min(n, 10)) / (m * k * m * k) }
	hashes := func(m float64) float64 { return min(math.Round(m/float64(n)*math.Ln2), MaxHashes) }
	target := max(fpr, FalsePositiveRate(uint64(m0), int(k0), n))
	fits := func(m float64) bool {
		k := hashes(m)
		f := floor(m, k)
		return f <= 0.01*target || FalsePositiveRate(uint64(m), int(k), n)+f <= target
	}
	if fits(m0) {
		return m0, k0, true
	}
	// Any m that fits has floor <= target, so m k >= sqrt(50 min(n, 10) /
	// target) with k <= MaxHashes: the search can start there.
	m = max(m0+1, math.Floor(math.Sqrt(50*float64(min(n, 10))/target)/MaxHashes))
	for !fits(m) {
		m++
	}
	return m, hashes(m), true
}

// TestValidateBlocked_Multiple: a Blocked filter's bits are whole 512-bit
// blocks; a multiple of 256 or 64 that is not one of 512 is refused.
func TestValidateBlocked_Multiple(t *testing.T) {
	for _, tc := range []struct {
		bits uint64
		ok   bool
	}{{512, true}, {1024, true}, {MaxBlockedBits, true}, {256, false}, {768, false}, {1024 + 64, false}, {1023, false}} {
		err := Params{Bits: tc.bits, Hashes: 3}.ValidateBlocked()
		if (err == nil) != tc.ok {
			t.Errorf("ValidateBlocked(bits %d) = %v, want ok %v", tc.bits, err, tc.ok)
		}
		if _, err := NewBlocked(Params{Bits: tc.bits, Hashes: 3}); tc.bits < 1<<20 && (err == nil) != tc.ok {
			t.Errorf("NewBlocked(bits %d) = %v, want ok %v", tc.bits, err, tc.ok)
		}
	}
}

// TestParams_PartlyFilledIn: after a failed sizing helper, Params with
// only one of Bits and Hashes set are validated as they are (the other
// is 0, out of range), no longer reported as the helper's error.
func TestParams_PartlyFilledIn(t *testing.T) {
	p := ParamsFor(0, 0.01)
	p.Bits = 1000
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "hashes must be in [1, 32], got 0") {
		t.Errorf("Bits set alone: Validate() = %v, want the hashes error", err)
	}
	q := ParamsFor(0, 0.01)
	q.Hashes = 3
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "bits must be in [1, 4294967295], got 0") {
		t.Errorf("Hashes set alone: Validate() = %v, want the bits error", err)
	}
}

// TestParamsFor_AtLeastOneHash: where (m/n) ln 2 rounds to 0 (a rate near
// 1), ParamsFor still gives k = 1: ParamsFor(10, 0.9) has m = ceil(10 *
// 0.10536 / 0.48045) = ceil(2.193) = 3 and (3/10) ln 2 = 0.208.
func TestParamsFor_AtLeastOneHash(t *testing.T) {
	p := ParamsFor(10, 0.9)
	if p.Bits != 3 || p.Hashes != 1 || p.Validate() != nil {
		t.Errorf("ParamsFor(10, 0.9) = %v (%v), want bits 3, hashes 1", p, p.Validate())
	}
}

// TestBlockedFalsePositiveRate_WholeBlocks: a Blocked filter of m bits has
// floor(m/512) blocks, so m = 1000 and m = 512 predict the same rate.
func TestBlockedFalsePositiveRate_WholeBlocks(t *testing.T) {
	for _, n := range []uint64{1, 10, 100} {
		if a, b := BlockedFalsePositiveRate(1000, 4, n), BlockedFalsePositiveRate(512, 4, n); a != b {
			t.Errorf("n = %d: rate %v for 1000 bits, %v for 512 (one block either way)", n, a, b)
		}
	}
}

// TestFalsePositiveRateApprox_Small: (1 - e^(-kn/m))^k at small m, where
// m and m+1 differ visibly: m = 10, k = 1, n = 10 gives 1 - 1/e; m = 4,
// k = 2, n = 1 gives (1 - e^(-1/2))^2.
func TestFalsePositiveRateApprox_Small(t *testing.T) {
	for _, tc := range []struct {
		m    uint64
		k    int
		n    uint64
		want float64
	}{{10, 1, 10, 1 - 1/math.E}, {4, 2, 1, (1 - math.Exp(-0.5)) * (1 - math.Exp(-0.5))}} {
		if got := FalsePositiveRateApprox(tc.m, tc.k, tc.n); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("FalsePositiveRateApprox(%d, %d, %d) = %v, want %v", tc.m, tc.k, tc.n, got, tc.want)
		}
	}
}

// TestBlockedFalsePositiveRate_Tails: the Poisson mixture keeps every
// term that matters, checked against a plain sum over far more keys per
// block than the mixture's range: where the upper tail makes the rate
// (k = 32 and one key per block on average: a block of one key answers
// falsely with probability about 1e-39, a block of ten with about 1e-11),
// and where both tails hold mass that a narrower range would drop
// (lambda = 20000, k = 1: every block is nearly full, so the rate is
// nearly the Poisson mass summed, and a range of 6 standard deviations
// would lose about 1e-9 of it). Agreement to 1e-11.
func TestBlockedFalsePositiveRate_Tails(t *testing.T) {
	for _, tc := range []struct {
		k      int
		lambda float64
	}{{32, 1}, {32, 2}, {16, 1}, {5, 50}, {1, 20000}, {2, 5000}} {
		var want float64
		for i := 0.0; i <= tc.lambda+40*math.Sqrt(tc.lambda)+400; i++ {
			lg, _ := math.Lgamma(i + 1)
			rate := math.Pow(1-math.Pow(1-1.0/BlockBits, float64(tc.k)*i), float64(tc.k))
			want += math.Exp(-tc.lambda+i*math.Log(tc.lambda)-lg) * rate
		}
		m := uint64(1 << 20)
		n := uint64(tc.lambda * float64(m/BlockBits))
		if got := BlockedFalsePositiveRate(m, tc.k, n); math.Abs(got-want) > 1e-11*want {
			t.Errorf("k = %d, lambda = %v: rate %.17g, plain sum %.17g", tc.k, tc.lambda, got, want)
		}
	}
}

// TestParamsForHashes_NeverAboveMaxBits: around the largest m, every
// Params ParamsForHashes returns either has at most MaxBits bits or
// carries its own error saying how many bits were needed (no Bits of 2^32
// left for New to refuse with a message about bits): with k = 1 and fpr
// 1/2, m is about n/ln 2 + 1/2, so these n step m across 2^32 one or two
// at a time.
func TestParamsForHashes_NeverAboveMaxBits(t *testing.T) {
	n0 := uint64(math.Floor((MaxBits - 8) * math.Ln2))
	sawErr, sawOK := false, false
	for n := n0; n < n0+16; n++ {
		p := ParamsForHashes(n, 0.5, 1)
		err := p.Validate()
		switch {
		case err == nil:
			sawOK = true
		case p.Bits == 0 && strings.Contains(err.Error(), "more than the 4294967295 supported (MaxBits)"):
			sawErr = true
		default:
			t.Errorf("ParamsForHashes(%d, 0.5, 1) = %v: %v", n, p, err)
		}
	}
	if !sawErr || !sawOK {
		t.Errorf("the n do not cross MaxBits (error seen %v, valid seen %v)", sawErr, sawOK)
	}
}

// TestParamsForHashes_HugeMessage: an m of 10^15 bits or more is written
// with 4 significant digits, one below in full: k = 1 and fpr 1/2 need
// about n/ln 2 bits, 5.771e15 for n = 4e15.
func TestParamsForHashes_HugeMessage(t *testing.T) {
	err := ParamsForHashes(4e15, 0.5, 1).Validate()
	if err == nil || !strings.Contains(err.Error(), "need m = 5.771e+15 bits") {
		t.Errorf("n = 4e15: %v, want m = 5.771e+15", err)
	}
	err = ParamsForHashes(1e10, 0.5, 1).Validate() // m = ceil(1e10/ln 2 + 1/2) = ceil(14426950409.39)
	if err == nil || !strings.Contains(err.Error(), "need m = 14426950410 bits") {
		t.Errorf("n = 1e10: %v, want m = 14426950410", err)
	}
}

// The constructors refuse what their filters cannot be: NewCounting
// invalid Params and counter widths other than 4, 8 and 16, and the Must
// forms panic with the same errors.
func TestConstructors_Refuse(t *testing.T) {
	bad := Params{Bits: 1000, Hashes: 0}
	if _, err := NewCounting(bad, 4); err == nil || !strings.Contains(err.Error(), "hashes must be in [1, 32], got 0") {
		t.Errorf("NewCounting with 0 hashes: %v", err)
	}
	for _, w := range []int{0, 1, 2, 3, 5, 12, 32, -4} {
		want := "bloom: counter width must be 4, 8 or 16 bits, got " + strconv.Itoa(w)
		if _, err := NewCounting(ParamsFor(100, 0.01), w); err == nil || err.Error() != want {
			t.Errorf("NewCounting width %d: %v, want %q", w, err, want)
		}
	}
	for name, f := range map[string]func(){
		"MustNew":         func() { MustNew(bad) },
		"MustNewCounting": func() { MustNewCounting(ParamsFor(100, 0.01), 5) },
		"MustNewBlocked":  func() { MustNewBlocked(Params{Bits: 100, Hashes: 3}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s with bad input did not panic", name)
				} else if err, ok := r.(error); !ok || !strings.HasPrefix(err.Error(), "bloom: ") {
					t.Errorf("%s panicked with %v, want the constructor's error", name, r)
				}
			}()
			f()
		}()
	}
}
