package bloom

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParamsFor(t *testing.T) {
	for _, tc := range []struct {
		n   uint64
		fpr float64
	}{
		{1, 0.5}, {100, 0.01}, {1000, 0.01}, {1e6, 0.01}, {1e6, 0.001}, {1e7, 1e-4}, {5e5, 0.05}, {1e3, 1e-9},
	} {
		p := ParamsFor(tc.n, tc.fpr)
		if err := p.Validate(); err != nil {
			t.Fatalf("ParamsFor(%d, %v): %v", tc.n, tc.fpr, err)
		}
		mExact := -float64(tc.n) * math.Log(tc.fpr) / (math.Ln2 * math.Ln2)
		if float64(p.Bits) < mExact || float64(p.Bits) >= mExact+1 {
			t.Errorf("ParamsFor(%d, %v).Bits = %d, want ceil(%v)", tc.n, tc.fpr, p.Bits, mExact)
		}
		if want := int(math.Max(1, math.Round(float64(p.Bits)/float64(tc.n)*math.Ln2))); p.Hashes != want {
			t.Errorf("ParamsFor(%d, %v).Hashes = %d, want %d", tc.n, tc.fpr, p.Hashes, want)
		}
		// The target: bits per key within 1% of 1.44 log2(1/fpr)
		// (1.44 stands for 1/ln 2 = 1.4427).
		if tc.n >= 1000 {
			bpk := float64(p.Bits) / float64(tc.n)
			if ideal := 1.44 * math.Log2(1/tc.fpr); math.Abs(bpk-ideal) > 0.01*ideal {
				t.Errorf("ParamsFor(%d, %v): %.4f bits per key, want within 1%% of %.4f", tc.n, tc.fpr, bpk, ideal)
			}
		}
		// Rounding k costs little: the predicted rate is within 10% of fpr.
		if got := FalsePositiveRate(p.Bits, p.Hashes, tc.n); tc.n >= 100 && got > 1.1*tc.fpr {
			t.Errorf("ParamsFor(%d, %v): predicted rate %v", tc.n, tc.fpr, got)
		}
	}
}

func TestParamsFor_Errors(t *testing.T) {
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{ParamsFor(0, 0.01), "bloom: ParamsFor: n must be at least 1, got 0"},
		{ParamsFor(10, 0), "bloom: ParamsFor: fpr must be in (0, 1), got 0"},
		{ParamsFor(10, 1), "bloom: ParamsFor: fpr must be in (0, 1), got 1"},
		{ParamsFor(10, 1.5), "bloom: ParamsFor: fpr must be in (0, 1), got 1.5"},
		{ParamsFor(10, math.NaN()), "bloom: ParamsFor: fpr must be in (0, 1), got NaN"},
		{ParamsFor(1e9, 1e-3), "bloom: ParamsFor: n and fpr need m = 14377587567 bits, more than the 4294967295 supported (MaxBits)"},
		{ParamsFor(10, 1e-12), "bloom: ParamsFor: fpr needs k = 40 hashes, more than the 32 supported"},
		// Both too large: one error names both, so that fixing one does
		// not lead to the other.
		{ParamsFor(1e9, 1e-12), "bloom: ParamsFor: n and fpr need m = 57510350265 bits and k = 40 hashes, more than the 4294967295 bits (MaxBits) and 32 hashes supported"},
		{ParamsForHashes(10, 0.01, 0), "bloom: ParamsForHashes: k must be in [1, 32], got 0"},
		{ParamsForHashes(1e8, 1e-3, 1), "bloom: ParamsForHashes: n and fpr need m = 99949991663 bits, more than"},
		// Sizes past 15 digits are written with 4 significant digits, not
		// in full (this one had 301 digits).
		{ParamsForHashes(1, 1e-300, 1), "bloom: ParamsForHashes: n and fpr need m = 1e+300 bits, more than the 4294967295 supported (MaxBits)"},
		{ParamsForHashes(1e18, 0.5, 2), "bloom: ParamsForHashes: n and fpr need m = 1.629e+18 bits, more than"},
		{ParamsForHashes(1, 5e-324, 1), "bloom: ParamsForHashes: n and fpr need m = +Inf bits, more than"},
		{ParamsFor(1e18, 0.01), "bloom: ParamsFor: n and fpr need m = 9.585e+18 bits, more than"},
		{BlockedParamsFor(0, 0.1), "bloom: BlockedParamsFor: n must be at least 1, got 0"},
		{BlockedParamsFor(1e9, 1e-4), "bloom: BlockedParamsFor: n = 1000000000 and fpr = 0.0001 need more than 4294966784 bits"},
		{Params{Bits: 0, Hashes: 3}, "bloom: bits must be in [1, 4294967295], got 0"},
		{Params{Bits: 1 << 32, Hashes: 3}, "bloom: bits must be in [1, 4294967295], got 4294967296"},
		{Params{Bits: 64, Hashes: 0}, "bloom: hashes must be in [1, 32], got 0"},
		{Params{Bits: 64, Hashes: 33}, "bloom: hashes must be in [1, 32], got 33"},
	} {
		err := tc.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
		}
		if _, err := New(tc.p); err == nil {
			t.Errorf("New(%+v) succeeded", tc.p)
		}
	}
	if _, err := NewBlocked(Params{Bits: 1000, Hashes: 3}); err == nil || err.Error() != "bloom: blocked bits must be a multiple of 512 in [512, 4294966784], got 1000 (BlockedParamsFor sizes a Blocked filter; ParamsFor sizes a Filter)" {
		t.Errorf("NewBlocked(1000 bits) = %v", err)
	}
	for _, w := range []int{0, 1, 2, 5, 32, 64, -4} {
		if _, err := NewCounting(Params{Bits: 100, Hashes: 3}, w); err == nil || err.Error() != fmt.Sprintf("bloom: counter width must be 4, 8 or 16 bits, got %d", w) {
			t.Errorf("NewCounting(width %d) = %v", w, err)
		}
	}
}

func TestParamsForHashes(t *testing.T) {
	for _, tc := range []struct {
		n   uint64
		fpr float64
		k   int
	}{{1000, 0.01, 1}, {1e5, 0.05, 1}, {1e4, 0.01, 7}, {1e4, 0.01, 3}, {1e6, 0.001, 10}} {
		p := ParamsForHashes(tc.n, tc.fpr, tc.k)
		if p.Validate() != nil || p.Hashes != tc.k {
			t.Fatalf("ParamsForHashes(%d, %v, %d) = %+v", tc.n, tc.fpr, tc.k, p)
		}
		// The least m meeting the rate by the exact formula (up to float
		// rounding, hence m-2).
		if got := FalsePositiveRate(p.Bits, tc.k, tc.n); got > tc.fpr*(1+1e-9) {
			t.Errorf("k=%d: rate %v above %v", tc.k, got, tc.fpr)
		}
		if got := FalsePositiveRate(p.Bits-2, tc.k, tc.n); got <= tc.fpr {
			t.Errorf("k=%d: m-2 = %d still meets %v (%v)", tc.k, p.Bits-2, tc.fpr, got)
		}
	}
	// The 1-hash filter at 1% needs about 100 bits per key (section 4.4.1).
	p := ParamsForHashes(1000, 0.01, 1)
	if p.Bits < 99000 || p.Bits > 100000 {
		t.Errorf("1-hash at 1%%: %d bits for 1000 keys, want about 99500", p.Bits)
	}
}

func TestFalsePositiveRate(t *testing.T) {
	// The worked example of section 4.4.2: 1000 keys, 10000 bits, 7 hashes: 0.82%.
	if got := FalsePositiveRate(10000, 7, 1000); math.Abs(got-0.0082) > 0.00005 {
		t.Errorf("FalsePositiveRate(10000, 7, 1000) = %v, want 0.0082", got)
	}
	// 1-hash (section 4.4.1): 1 - (1-1/m)^n.
	if got, want := FalsePositiveRate(1000, 1, 10), 1-math.Pow(1-1.0/1000, 10); math.Abs(got-want) > 1e-15 {
		t.Errorf("1-hash rate %v, want %v", got, want)
	}
	// Exact and asymptotic agree for large m and differ for tiny m.
	if a, b := FalsePositiveRate(1e6, 7, 1e5), FalsePositiveRateApprox(1e6, 7, 1e5); math.Abs(a-b) > 1e-5*a {
		t.Errorf("exact %v, approx %v", a, b)
	}
	if a, b := FalsePositiveRate(8, 2, 3), FalsePositiveRateApprox(8, 2, 3); math.Abs(a-b) < 0.01*a {
		t.Errorf("exact %v and approx %v agree for m = 8", a, b)
	}
	if FalsePositiveRate(0, 3, 1) != 1 || FalsePositiveRateApprox(10, 0, 1) != 1 || BlockedFalsePositiveRate(100, 3, 1) != 1 {
		t.Error("degenerate parameters must predict rate 1")
	}
	// An empty filter answers no to everything: rate 0, never NaN.
	if a, b, c := FalsePositiveRate(1024, 3, 0), FalsePositiveRateApprox(1024, 3, 0), BlockedFalsePositiveRate(1024, 3, 0); a != 0 || b != 0 || c != 0 {
		t.Errorf("empty filter: rates %v, %v, %v, want 0", a, b, c)
	}
}

func TestBlockedFalsePositiveRate(t *testing.T) {
	// The penalty is positive and grows as the rate falls.
	for _, fpr := range []float64{0.01, 0.001} {
		p := ParamsFor(1e6, fpr)
		m := (p.Bits + BlockBits - 1) / BlockBits * BlockBits
		classic := FalsePositiveRate(m, p.Hashes, 1e6)
		blocked := BlockedFalsePositiveRate(m, p.Hashes, 1e6)
		if blocked <= classic || blocked > 3*classic {
			t.Errorf("fpr %v: blocked %v, classic %v", fpr, blocked, classic)
		}
	}
	// Many blocks per key make the mixture collapse to one 512-bit filter
	// with lambda = 512 n / m keys: n = 1 gives about FPR(512, k, 0 or 1).
	if got := BlockedFalsePositiveRate(512*1000, 3, 1); got > FalsePositiveRate(512, 3, 1)/500 {
		t.Errorf("nearly empty blocked filter: rate %v", got)
	}
}

func TestBlockedParamsFor(t *testing.T) {
	for _, tc := range []struct {
		n   uint64
		fpr float64
	}{{1000, 0.01}, {1e5, 0.01}, {1e5, 0.001}, {2e4, 1e-4}, {100, 0.2}} {
		p := BlockedParamsFor(tc.n, tc.fpr)
		target := BlockedMargin * tc.fpr // the predicted rate it sizes for
		if err := p.ValidateBlocked(); err != nil {
			t.Fatalf("BlockedParamsFor(%d, %v): %v", tc.n, tc.fpr, err)
		}
		if got := BlockedFalsePositiveRate(p.Bits, p.Hashes, tc.n); got > target {
			t.Errorf("BlockedParamsFor(%d, %v) = %+v predicts %v", tc.n, tc.fpr, p, got)
		}
		// Minimal for its k: one block fewer misses the rate.
		if got := BlockedFalsePositiveRate(p.Bits-BlockBits, p.Hashes, tc.n); p.Bits > BlockBits && got <= target {
			t.Errorf("BlockedParamsFor(%d, %v) = %+v, but one block fewer gives %v", tc.n, tc.fpr, p, got)
		}
		// Within 5% of the least memory of any k, and no smaller k is.
		fewest := func(k int) uint64 { // binary search: the rate falls with m
			lo, hi := uint64(0), uint64(1)
			for BlockedFalsePositiveRate(hi*BlockBits, k, tc.n) > target {
				lo, hi = hi, 2*hi
			}
			for hi-lo > 1 {
				if mid := (lo + hi) / 2; BlockedFalsePositiveRate(mid*BlockBits, k, tc.n) > target {
					lo = mid
				} else {
					hi = mid
				}
			}
			return hi * BlockBits
		}
		least := p.Bits
		for k := 1; k <= 16; k++ {
			least = min(least, fewest(k))
		}
		if float64(p.Bits) > 1.05*float64(least) {
			t.Errorf("BlockedParamsFor(%d, %v) = %+v, more than 5%% above %d bits", tc.n, tc.fpr, p, least)
		}
		for k := 1; k < p.Hashes; k++ {
			if float64(fewest(k)) <= 1.05*float64(least) {
				t.Errorf("BlockedParamsFor(%d, %v) = %+v, but k = %d needs only %d bits", tc.n, tc.fpr, p, k, fewest(k))
			}
		}
		// More bits than the classic filter, but less than 1.5 times as many.
		c := ParamsFor(tc.n, tc.fpr)
		if tc.n >= 1000 && (p.Bits < c.Bits || float64(p.Bits) > 1.5*float64(c.Bits)) {
			t.Errorf("BlockedParamsFor(%d, %v): %d bits, classic %d", tc.n, tc.fpr, p.Bits, c.Bits)
		}
	}
}

// TestBlockedParamsFor_Measured: a Blocked filter sized by BlockedParamsFor
// meets the requested rate as measured, and without much to spare, on
// seeded random hashes (2e6 absent ones: 1 standard deviation of the
// measurement is 0.7% of the rate at 1% and 2.2% at 0.1%).
func TestBlockedParamsFor_Measured(t *testing.T) {
	const n, q = 100_000, 2_000_000
	for _, fpr := range []float64{0.01, 0.001} {
		f := MustNewBlocked(BlockedParamsFor(n, fpr))
		r := rand.New(rand.NewPCG(uint64(1/fpr), 77))
		for i := 0; i < n; i++ {
			f.AddHash(r.Uint64())
		}
		fp := 0
		for i := 0; i < q; i++ {
			if f.ContainsHash(r.Uint64()) {
				fp++
			}
		}
		if got := float64(fp) / q; got > fpr || got < 0.85*fpr {
			t.Errorf("fpr %v: measured %v, want in [%v, %v]", fpr, got, 0.85*fpr, fpr)
		}
	}
}

// TestBlockedFalsePositiveRate_AtMostOne: the rate is a probability, even
// for overloaded filters (thousands of keys per block), where rounding in
// the Poisson terms used to push the sum above 1, and for n so large that
// the sum's bounds overflowed.
func TestBlockedFalsePositiveRate_AtMostOne(t *testing.T) {
	for _, tc := range []struct {
		m uint64
		k int
		n uint64
	}{{512, 7, 5000}, {5120, 3, 100000}, {49664, 20, 100000}, {512, 3, 1e8}, {512, 1, math.MaxUint64}, {MaxBlockedBits, 32, math.MaxUint64}} {
		if r := BlockedFalsePositiveRate(tc.m, tc.k, tc.n); !(r >= 0 && r <= 1) {
			t.Errorf("BlockedFalsePositiveRate(%d, %d, %d) = %.17g, not in [0, 1]", tc.m, tc.k, tc.n, r)
		}
	}
	if r := BlockedFalsePositiveRate(512, 3, math.MaxUint64); r != 1 {
		t.Errorf("BlockedFalsePositiveRate(512, 3, 2^64-1) = %v, want 1", r)
	}
}

// TestBlockedFalsePositiveRate_BoundedTerms: one rate sums a bounded number
// of Poisson terms whatever the load (a sum from 0 to lambda + 12 sqrt(lambda)
// took seconds for 1e8 keys in one block). The largest count, about 3500,
// is met for k = 1 near lambda = 20000, where a block's rate reaches 1.
func TestBlockedFalsePositiveRate_BoundedTerms(t *testing.T) {
	most := 0
	for k := 1; k <= MaxHashes; k++ {
		for lambda := 1e-6; lambda < 1e20; lambda *= 1.07 {
			r, terms := blockedFPRTerms(lambda, k)
			if !(r >= 0 && r <= 1) {
				t.Fatalf("lambda %g, k %d: rate %v", lambda, k, r)
			}
			most = max(most, terms)
		}
	}
	if most > 4000 {
		t.Errorf("a rate summed %d terms, want at most 4000", most)
	}
}

// TestBlockedParamsFor_HugeN: an n that no filter of MaxBlockedBits bits can
// hold at the rate is rejected before any rate is computed, with an error
// naming n, fpr and the limit; an n just within the information-theoretic
// bound costs one rate per k before its error.
func TestBlockedParamsFor_HugeN(t *testing.T) {
	calls, terms := 0, 0
	rate := func(lambda float64, k int) float64 {
		r, n := blockedFPRTerms(lambda, k)
		calls++
		terms += n
		return r
	}
	p := blockedParamsFor(1e15, 0.01, rate)
	want := "bloom: BlockedParamsFor: n = 1000000000000000 and fpr = 0.01 need more than 4294966784 bits (MaxBlockedBits)"
	if err := p.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("BlockedParamsFor(1e15, 0.01): %v, want an error starting %q", err, want)
	}
	if calls != 0 {
		t.Errorf("BlockedParamsFor(1e15, 0.01) computed %d rates before its error", calls)
	}
	calls, terms = 0, 0
	p = blockedParamsFor(6e8, 0.01, rate) // 4.0e9 bits by the bound; about 6.3e9 needed
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "n = 600000000 and fpr = 0.01 need more than 4294966784 bits") {
		t.Errorf("BlockedParamsFor(6e8, 0.01): %v", err)
	}
	if calls != MaxHashes || terms > MaxHashes*300 {
		t.Errorf("BlockedParamsFor(6e8, 0.01): %d rates, %d terms; want %d rates of at most 300 terms", calls, terms, MaxHashes)
	}
}

// TestParamsFor_ErrorThenFilledIn: a sizing helper's error holds while the
// Params are what it returned, and stops holding once Bits and Hashes are
// set by hand (it used to stick, so New refused valid parameters); String
// shows the error, not a pointer.
func TestParamsFor_ErrorThenFilledIn(t *testing.T) {
	p := ParamsFor(0, 0.01)
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "n must be at least 1") {
		t.Fatalf("ParamsFor(0, 0.01).Validate() = %v, want the n error", err)
	}
	p.Seed = 7 // a seed alone fills nothing in
	if p.Validate() == nil {
		t.Error("setting only the seed cleared the sizing error")
	}
	if s := p.String(); !strings.Contains(s, "n must be at least 1") || !strings.Contains(s, "seed=0x7") {
		t.Errorf("String() = %q, want the fields and the sizing error", s)
	}
	p.Bits, p.Hashes = 1000, 3
	if err := p.Validate(); err != nil {
		t.Errorf("after setting Bits and Hashes: Validate() = %v, want nil", err)
	}
	if _, err := New(p); err != nil {
		t.Errorf("New after setting Bits and Hashes: %v", err)
	}
	if s := p.String(); s != "bits=1000 hashes=3 seed=0x7" {
		t.Errorf("String() = %q", s)
	}
}

// TestParams_WithSeed: WithSeed sets the seed and keeps the rest, the
// sizing helper's error included.
func TestParams_WithSeed(t *testing.T) {
	p := ParamsFor(1000, 0.01).WithSeed(42)
	if q := ParamsFor(1000, 0.01); p.Seed != 42 || p.Bits != q.Bits || p.Hashes != q.Hashes {
		t.Errorf("WithSeed(42) = %v, want %v with seed 42", p, q)
	}
	if ParamsFor(0, 0.01).WithSeed(1).Validate() == nil {
		t.Error("WithSeed dropped the sizing error")
	}
}

// TestFalsePositiveRate_Accurate: the exact rate is computed without
// cancellation, so it is accurate to a few ulps for every m, and an empty
// filter has rate 0 for every m. It used to compute 1 - (1-1/m)^(kn) by a
// subtraction from a number near 1, which lost about log10(m/(kn)) digits
// (a relative error near 1e-8 at m = 1e8, n = k = 1: 1/m, the rate of one
// key in a 1-hash filter, came out wrong from the ninth digit), and gave
// NaN for m = 1 and n = 0 (0 times log1p(-1) = -Inf).
func TestFalsePositiveRate_Accurate(t *testing.T) {
	for _, k := range []int{1, 3, 32} {
		if got := FalsePositiveRate(1, k, 0); got != 0 {
			t.Errorf("FalsePositiveRate(1, %d, 0) = %v, want 0 (an empty filter)", k, got)
		}
		if got := FalsePositiveRate(1, k, 5); got != 1 {
			t.Errorf("FalsePositiveRate(1, %d, 5) = %v, want 1", k, got)
		}
	}
	for _, m := range []uint64{1e3, 1e6, 123456789, 1e9, MaxBits} {
		// One key, one hash: exactly 1/m.
		if got, want := FalsePositiveRate(m, 1, 1), 1/float64(m); math.Abs(got-want) > 1e-14*want {
			t.Errorf("FalsePositiveRate(%d, 1, 1) = %.17g, want 1/m = %.17g", m, got, want)
		}
		// Two keys, two hashes: (1 - (1-1/m)^4)^2 = (4/m - 6/m^2 + 4/m^3 - 1/m^4)^2.
		x := 1 / float64(m)
		if got, want := FalsePositiveRate(m, 2, 2), math.Pow(4*x-6*x*x+4*x*x*x-x*x*x*x, 2); math.Abs(got-want) > 1e-13*want {
			t.Errorf("FalsePositiveRate(%d, 2, 2) = %.17g, want %.17g", m, got, want)
		}
	}
}

// TestParamsForHashes_Least: ParamsForHashes returns the least m whose
// rate FalsePositiveRate is at most fpr, to the bit, over a grid of n, k
// and fpr (the inaccurate FalsePositiveRate above made m look one too
// small or one too large for 1-hash filters of few keys and tiny rates).
func TestParamsForHashes_Least(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 10, 1000, 1e6} {
		for _, k := range []int{1, 2, 4, 7, 16, 32} {
			for e := 0; e < 400; e++ {
				fpr := math.Pow(10, -float64(e)/40) * 0.999999
				p := ParamsForHashes(n, fpr, k)
				if p.Validate() != nil {
					continue
				}
				if got := FalsePositiveRate(p.Bits, k, n); got > fpr {
					t.Errorf("ParamsForHashes(%d, %v, %d): m = %d has rate %v", n, fpr, k, p.Bits, got)
				}
				if got := FalsePositiveRate(p.Bits-1, k, n); p.Bits > 1 && got <= fpr {
					t.Errorf("ParamsForHashes(%d, %v, %d): m = %d, but m-1 has rate %v", n, fpr, k, p.Bits, got)
				}
			}
		}
	}
}

// TestParamsFor_RoundingBound: the predicted rate of ParamsFor's m and k
// exceeds fpr by no more than its doc says: 4% for n >= 10 and fpr <=
// 0.1, 15% for n >= 10, 62% for any n. (The doc used to say "a few
// percent" for every n and fpr; it is 14% at n = 10, fpr = 0.83 and 60%
// at n = 1, fpr = 0.62.)
func TestParamsFor_RoundingBound(t *testing.T) {
	for n := uint64(1); n < 3000; n = n*11/10 + 1 {
		for e := 1; e < 2000; e++ {
			fpr := math.Pow(10, -float64(e)/200)
			p := ParamsFor(n, fpr)
			if p.Validate() != nil {
				continue
			}
			bound := 1.62
			if n >= 10 {
				bound = 1.15
				if fpr <= 0.1 {
					bound = 1.04
				}
			}
			if r := FalsePositiveRate(p.Bits, p.Hashes, n); r > bound*fpr {
				t.Errorf("ParamsFor(%d, %v) = %v: predicted rate %v, %.3f times fpr, above the documented %.2f", n, fpr, p, r, r/fpr, bound)
			}
		}
	}
}

// logRate is the natural log of FalsePositiveRate(m, k, n), computed so
// that it stays accurate when the rate is within a few ulps of 1 (where
// FalsePositiveRate itself rounds to 1): with q = (1-1/m)^(kn), the
// rate is (1-q)^k and its log is k log1p(-q).
func logRate(m uint64, k int, n uint64) float64 {
	x := float64(k) * float64(n) * math.Log1p(-1/float64(m)) // log q
	if q := math.Exp(x); q < 0.5 {
		return float64(k) * math.Log1p(-q)
	}
	return float64(k) * math.Log(-math.Expm1(x))
}

// TestParamsForHashes_NearOne: for fpr so close to 1 that fpr^(1/k)
// rounds to 1, ParamsForHashes still returns the least m meeting fpr. It
// computed 1 - fpr^(1/k) as 1 minus that power, which is then 0, and
// returned m = 1: a 1-bit filter, whose rate is 1 > fpr, for any n (for
// instance ParamsForHashes(1e6, 1-2^-52, 32), which needs about 9e5 bits).
func TestParamsForHashes_NearOne(t *testing.T) {
	for _, fpr := range []float64{1 - 0x1p-53, 1 - 0x1p-52, 1 - 0x1p-48, 1 - 1e-12, 1 - 1e-9} {
		for _, k := range []int{2, 7, 21, 32} {
			for _, n := range []uint64{1, 1000, 1e6} {
				p := ParamsForHashes(n, fpr, k)
				if err := p.Validate(); err != nil {
					t.Errorf("ParamsForHashes(%d, %v, %d): %v", n, fpr, k, err)
					continue
				}
				lf := math.Log(fpr)
				tol := 1e-9 * -lf
				if got := logRate(p.Bits, k, n); got > lf+tol {
					t.Errorf("ParamsForHashes(%d, 1-%.3g, %d): m = %d has rate exp(%.6g), above fpr = exp(%.6g)", n, 1-fpr, k, p.Bits, got, lf)
				}
				if p.Bits > 1 {
					if got := logRate(p.Bits-1, k, n); got <= lf-tol {
						t.Errorf("ParamsForHashes(%d, 1-%.3g, %d): m = %d, but m-1 has rate exp(%.6g), below fpr = exp(%.6g)", n, 1-fpr, k, p.Bits, got, lf)
					}
				}
			}
		}
	}
}
