package bloom

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// refPositions is the obviously right derivation of a classic filter's bit
// positions, written from the contract in flow/hash.go (triple hashing):
// the i-th position is a + i*b + i(i-1)/2*c mod 2^32 scaled to [0, m),
// with a and b the halves of the key's hash and c the high half of its
// first splitmix64 output.
func refPositions(key []byte, m uint32, k int, seed uint64) []uint32 {
	h := flow.Hash64(key, seed)
	a, b, c := h>>32, h&(1<<32-1), flow.Mix(h, 0)>>32
	var out []uint32
	for i := uint64(0); i < uint64(k); i++ {
		g := (a + i*b + i*(i-1)/2*c) % (1 << 32)
		out = append(out, uint32(g*uint64(m)>>32))
	}
	return out
}

// refBlockedPositions: block ((h>>32)*nblocks)>>32, then 9-bit fields, seven
// per mix, lowest first.
func refBlockedPositions(key []byte, m uint32, k int, seed uint64) []uint32 {
	h := flow.Hash64(key, seed)
	nb := uint64(m / 512)
	block := uint32((h >> 32) * nb >> 32)
	var out []uint32
	for i := 0; i < k; i++ {
		x := flow.Mix(h, uint32(i/7))
		field := (x >> (9 * uint(i%7))) % 512
		out = append(out, block*512+uint32(field))
	}
	return out
}

// refBits is a set of bits as a []bool, packed into words for comparison.
func packBits(set []bool) []uint64 {
	w := make([]uint64, (len(set)+63)/64)
	for j, b := range set {
		if b {
			w[j/64] |= 1 << (j % 64)
		}
	}
	return w
}

func TestFilter_MatchesReference(t *testing.T) {
	for _, p := range []Params{
		{Bits: 1, Hashes: 1}, {Bits: 63, Hashes: 2, Seed: 1}, {Bits: 1000, Hashes: 7, Seed: 42},
		{Bits: 4096, Hashes: 32, Seed: 7}, {Bits: 100003, Hashes: 1, Seed: ^uint64(0)},
	} {
		f := MustNew(p)
		set := make([]bool, p.Bits)
		keys := randomKeys(300, p.Seed+1)
		for i, k := range keys {
			if i%2 == 0 {
				f.Add(k)
				for _, j := range refPositions(k, uint32(p.Bits), p.Hashes, p.Seed) {
					set[j] = true
				}
			}
		}
		if !slicesEqual(f.Words(), packBits(set)) {
			t.Fatalf("%+v: bits differ from the reference", p)
		}
		for _, k := range keys {
			want := true
			for _, j := range refPositions(k, uint32(p.Bits), p.Hashes, p.Seed) {
				want = want && set[j]
			}
			if got := f.Contains(k); got != want {
				t.Fatalf("%+v: Contains = %v, reference %v", p, got, want)
			}
		}
	}
}

// TestFilter_ContainsEveryK compares Contains with the reference for every
// k at several fill levels, so that keys fail at every position of the
// four-at-a-time test, in the tail and not at all.
func TestFilter_ContainsEveryK(t *testing.T) {
	keys := randomKeys(400, 11)
	for k := 1; k <= MaxHashes; k++ {
		for _, adds := range []int{0, 10, 60, 200} {
			p := Params{Bits: 3001, Hashes: k, Seed: uint64(k)}
			f := MustNew(p)
			set := make([]bool, p.Bits)
			for _, key := range keys[:adds] {
				f.Add(key)
				for _, j := range refPositions(key, uint32(p.Bits), k, p.Seed) {
					set[j] = true
				}
			}
			for i, key := range keys {
				want := true
				for _, j := range refPositions(key, uint32(p.Bits), k, p.Seed) {
					want = want && set[j]
				}
				if got := f.Contains(key); got != want {
					t.Fatalf("k=%d, %d added, key %d: Contains = %v, reference %v", k, adds, i, got, want)
				}
				if i < adds && !want {
					t.Fatalf("k=%d: reference lost key %d", k, i)
				}
			}
		}
	}
}

// TestBlocked_ContainsEveryK is TestFilter_ContainsEveryK for Blocked: every
// count of fields in the last mix, at several fill levels.
func TestBlocked_ContainsEveryK(t *testing.T) {
	keys := randomKeys(400, 12)
	for k := 1; k <= MaxHashes; k++ {
		for _, adds := range []int{0, 10, 60, 200} {
			p := Params{Bits: 512 * 5, Hashes: k, Seed: uint64(k)}
			f := MustNewBlocked(p)
			set := make([]bool, p.Bits)
			for _, key := range keys[:adds] {
				f.Add(key)
				for _, j := range refBlockedPositions(key, uint32(p.Bits), k, p.Seed) {
					set[j] = true
				}
			}
			for i, key := range keys {
				want := true
				for _, j := range refBlockedPositions(key, uint32(p.Bits), k, p.Seed) {
					want = want && set[j]
				}
				if got := f.Contains(key); got != want {
					t.Fatalf("k=%d, %d added, key %d: Contains = %v, reference %v", k, adds, i, got, want)
				}
			}
		}
	}
}

// TestSplitmix_MatchesMix pins the blocked filter's incremental
// derivation to the contract: splitmix of the state advanced by golden1 is
// flow.Mix.
func TestSplitmix_MatchesMix(t *testing.T) {
	if golden1 != flow.Golden {
		t.Fatalf("golden1 = %#x, flow.Golden = %#x", golden1, flow.Golden)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 1000; n++ {
		h := r.Uint64()
		s := h
		for i := uint32(0); i < 2*MaxHashes; i++ {
			s += golden1
			if got, want := flow.Splitmix(s), flow.Mix(h, i); got != want {
				t.Fatalf("h=%#x i=%d: splitmix = %#x, flow.Mix = %#x", h, i, got, want)
			}
		}
	}
}

// TestPositions_MatchBitIndex pins the classic and counting filters'
// incremental positions (bitsOf, next) to flow.BitIndex, for hashes whose
// halves wrap.
func TestPositions_MatchBitIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 1000; n++ {
		h, m := r.Uint64(), r.Uint32()
		if n < 2 {
			h = -uint64(n) // 0 and 2^64-1
		}
		s := bitsOf(h)
		for i := uint32(0); i < 2*MaxHashes; i++ {
			if got, want := s.next(uint64(m)), flow.BitIndex(h, i, m); got != want {
				t.Fatalf("h=%#x m=%d i=%d: position %d, flow.BitIndex %d", h, m, i, got, want)
			}
		}
	}
}

func TestBlocked_MatchesReference(t *testing.T) {
	for _, p := range []Params{
		{Bits: 512, Hashes: 1}, {Bits: 512 * 3, Hashes: 7, Seed: 1}, {Bits: 512 * 1000, Hashes: 8, Seed: 42},
		{Bits: 512 * 77, Hashes: 32, Seed: 9}, {Bits: 512 * 10, Hashes: 14, Seed: ^uint64(0)},
	} {
		f := MustNewBlocked(p)
		set := make([]bool, p.Bits)
		keys := randomKeys(300, p.Seed+2)
		for i, k := range keys {
			if i%2 == 0 {
				f.Add(k)
				for _, j := range refBlockedPositions(k, uint32(p.Bits), p.Hashes, p.Seed) {
					set[j] = true
				}
			}
		}
		if !slicesEqual(f.Words(), packBits(set)) {
			t.Fatalf("%+v: bits differ from the reference", p)
		}
		for _, k := range keys {
			want := true
			for _, j := range refBlockedPositions(k, uint32(p.Bits), p.Hashes, p.Seed) {
				want = want && set[j]
			}
			if got := f.Contains(k); got != want {
				t.Fatalf("%+v: Contains = %v, reference %v", p, got, want)
			}
		}
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNoFalseNegatives fills filters past their design load.
func TestNoFalseNegatives(t *testing.T) {
	keys := randomKeys(20000, 3)
	f := MustNew(ParamsFor(5000, 0.01))
	b := MustNewBlocked(BlockedParamsFor(5000, 0.01))
	c := MustNewCounting(ParamsFor(5000, 0.01), 4)
	for _, k := range keys {
		f.Add(k)
		b.Add(k)
		c.Add(k)
	}
	for i, k := range keys {
		if !f.Contains(k) || !b.Contains(k) || !c.Contains(k) {
			t.Fatalf("key %d: false negative", i)
		}
	}
}

// TestAccuracy_Random checks the measured rate against the theory on seeded
// random keys: within [0.8, 1.2] times the prediction, where the binomial
// noise of 2e5 queries at 1% is 2.2% and at 0.1% 7% (1 sd).
func TestAccuracy_Random(t *testing.T) {
	n, q := 20000, 200000
	if testing.Short() {
		n, q = 5000, 100000
	}
	keys, absent := randomKeys(n, 10), randomKeys(q, 11)
	for _, fpr := range []float64{0.01, 0.001} {
		if testing.Short() && fpr < 0.01 {
			continue
		}
		p := ParamsFor(uint64(n), fpr)
		bp := BlockedParamsFor(uint64(n), fpr)
		f, b := MustNew(p), MustNewBlocked(bp)
		for _, k := range keys {
			f.Add(k)
			b.Add(k)
		}
		check := func(name string, got int, want float64) {
			rate := float64(got) / float64(q)
			t.Logf("%s fpr %v: measured %.5f, predicted %.5f", name, fpr, rate, want)
			if rate < 0.8*want || rate > 1.2*want {
				t.Errorf("%s at fpr %v: measured %.5f, predicted %.5f", name, fpr, rate, want)
			}
		}
		check("classic", falsePositives(f.Contains, absent), FalsePositiveRate(p.Bits, p.Hashes, uint64(n)))
		check("blocked", falsePositives(b.Contains, absent), BlockedFalsePositiveRate(bp.Bits, bp.Hashes, uint64(n)))
		// The filter's own estimate from its fill agrees with the formula.
		if got, want := f.FalsePositiveRate(), FalsePositiveRate(p.Bits, p.Hashes, uint64(n)); math.Abs(got-want) > 0.1*want {
			t.Errorf("Filter.FalsePositiveRate() = %v, want about %v", got, want)
		}
		if got, want := b.FalsePositiveRate(), BlockedFalsePositiveRate(bp.Bits, bp.Hashes, uint64(n)); math.Abs(got-want) > 0.1*want {
			t.Errorf("Blocked.FalsePositiveRate() = %v, want about %v", got, want)
		}
	}
	// 1-hash filter: rate 1 - (1-1/m)^n.
	p := ParamsForHashes(uint64(n), 0.05, 1)
	f := MustNew(p)
	for _, k := range keys {
		f.Add(k)
	}
	got := float64(falsePositives(f.Contains, absent)) / float64(q)
	if want := FalsePositiveRate(p.Bits, 1, uint64(n)); got < 0.9*want || got > 1.1*want {
		t.Errorf("1-hash: measured %v, predicted %v", got, want)
	}
}

func TestFilter_EstimatedCount(t *testing.T) {
	keys := randomKeys(10000, 5)
	f := MustNew(ParamsFor(10000, 0.01))
	b := MustNewBlocked(BlockedParamsFor(10000, 0.01))
	for _, k := range keys {
		f.Add(k)
		b.Add(k)
		f.Add(k) // duplicates do not count
	}
	// The estimator's relative standard error here is below 1% (Swamidass
	// and Baldi); allow 3%.
	for name, got := range map[string]float64{"classic": f.EstimatedCount(), "blocked": b.EstimatedCount()} {
		if math.Abs(got-10000) > 300 {
			t.Errorf("%s EstimatedCount = %v, want 10000 within 3%%", name, got)
		}
	}
	// Expected fill 1 - (1-1/m)^(kn), near 1/2 at the design load.
	if r, want := f.FillRatio(), 1-math.Pow(1-1/float64(f.Bits()), float64(f.Hashes())*10000); math.Abs(r-want) > 0.01 {
		t.Errorf("FillRatio at design load = %v, want %v", r, want)
	}
	full := MustNew(Params{Bits: 8, Hashes: 1})
	for _, k := range randomKeys(200, 1) {
		full.Add(k)
	}
	if !math.IsInf(full.EstimatedCount(), 1) || full.FillRatio() != 1 {
		t.Errorf("full filter: estimate %v, fill %v", full.EstimatedCount(), full.FillRatio())
	}
	if e := MustNew(Params{Bits: 100, Hashes: 3}).EstimatedCount(); e != 0 {
		t.Errorf("empty filter estimate %v", e)
	}
}

func TestFilter_UnionIntersect(t *testing.T) {
	p := ParamsFor(2000, 0.01)
	p.Seed = 99
	a, b, both := MustNew(p), MustNew(p), MustNew(p)
	ka, kb := randomKeys(1000, 20), randomKeys(1000, 21)
	for _, k := range ka {
		a.Add(k)
		both.Add(k)
	}
	for _, k := range kb {
		b.Add(k)
		both.Add(k)
	}
	u := a.Clone()
	if err := u.Union(b); err != nil || !u.Equal(both) {
		t.Fatalf("union differs from the filter of the union (err %v)", err)
	}
	common := randomKeys(100, 22)
	a2, b2 := a.Clone(), b.Clone()
	for _, k := range common {
		a2.Add(k)
		b2.Add(k)
	}
	x := a2.Clone()
	if err := x.Intersect(b2); err != nil {
		t.Fatal(err)
	}
	for _, k := range common {
		if !x.Contains(k) {
			t.Fatal("intersection lost a common key")
		}
	}
	if x.SetBits() > a2.SetBits() || x.SetBits() > b2.SetBits() {
		t.Error("intersection has more bits than an operand")
	}
	// Blocked likewise.
	bp := BlockedParamsFor(2000, 0.01)
	ba, bb, bboth := MustNewBlocked(bp), MustNewBlocked(bp), MustNewBlocked(bp)
	for _, k := range ka {
		ba.Add(k)
		bboth.Add(k)
	}
	for _, k := range kb {
		bb.Add(k)
		bboth.Add(k)
	}
	if err := ba.Union(bb); err != nil || !ba.Equal(bboth) {
		t.Fatalf("blocked union differs (err %v)", err)
	}
	// bb is a subset of bboth, so their intersection is bb.
	want := bb.Clone()
	if err := bb.Intersect(bboth); err != nil || !bb.Equal(want) {
		t.Fatalf("blocked intersect: %v", err)
	}
}

func TestFilter_Incompatible(t *testing.T) {
	base := Params{Bits: 1000, Hashes: 5, Seed: 1}
	f := MustNew(base)
	f.Add([]byte("x"))
	before := f.Clone()
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{Bits: 1001, Hashes: 5, Seed: 1}, "bloom: incompatible filters: filter bits differ: 1000 and 1001"},
		{Params{Bits: 1000, Hashes: 4, Seed: 1}, "bloom: incompatible filters: filter hashes differ: 5 and 4"},
		{Params{Bits: 1000, Hashes: 5, Seed: 2}, "bloom: incompatible filters: filter seeds differ: 0x1 and 0x2"},
	} {
		g := MustNew(tc.p)
		for _, op := range []func(*Filter) error{f.Union, f.Intersect} {
			err := op(g)
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrIncompatible) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		}
		if !f.Equal(before) {
			t.Fatal("failed union changed the filter")
		}
	}
	b1, b2 := MustNewBlocked(Params{Bits: 1024, Hashes: 3}), MustNewBlocked(Params{Bits: 512, Hashes: 3})
	if err := b1.Union(b2); err == nil || err.Error() != "bloom: incompatible filters: blocked filter bits differ: 1024 and 512" {
		t.Errorf("blocked union: %v", err)
	}
}

// checkIntersect checks Intersect of two filters holding different keys
// (ka and kb, and the keys common to both): the result is the word-wise AND
// of the operands' words, so it loses the bits only one side had (there
// must be some), keeps the common keys, and leaves the argument alone.
func checkIntersect(t *testing.T, kind string, xw, aw, bw, bAfter []uint64, xContains func([]byte) bool, common, onlyA [][]byte) {
	t.Helper()
	if len(xw) != len(aw) || len(aw) != len(bw) {
		t.Fatalf("%s: %d, %d and %d words", kind, len(xw), len(aw), len(bw))
	}
	onlyOne := 0
	for i := range aw {
		onlyOne += bits.OnesCount64(aw[i] ^ bw[i])
		if want := aw[i] & bw[i]; xw[i] != want {
			t.Fatalf("%s: intersection word %d = %#x, want %#x AND %#x = %#x", kind, i, xw[i], aw[i], bw[i], want)
		}
		if bAfter[i] != bw[i] {
			t.Fatalf("%s: Intersect changed its argument's word %d", kind, i)
		}
	}
	if onlyOne == 0 {
		t.Fatalf("%s: the operands have the same bits; the test needs different members", kind)
	}
	for _, k := range common {
		if !xContains(k) {
			t.Fatalf("%s: intersection lost a common key", kind)
		}
	}
	// Keys only in the receiver lose most of their bits: at most a few
	// remain contained (false positives of the other operand).
	if n := falsePositives(xContains, onlyA); n > len(onlyA)/4 {
		t.Errorf("%s: %d of %d keys only in the receiver still contained after Intersect", kind, n, len(onlyA))
	}
}

// TestIntersect_DifferentMembers intersects filters of different members,
// where an Intersect that did nothing would keep bits only the receiver
// had (TestFilter_UnionIntersect's blocked case intersects a filter with a
// superset of itself, which such an Intersect passes).
func TestIntersect_DifferentMembers(t *testing.T) {
	ka, kb, common := randomKeys(1000, 40), randomKeys(1000, 41), randomKeys(200, 42)
	copyOf := func(w []uint64) []uint64 { return append([]uint64(nil), w...) }

	p := ParamsFor(2000, 0.01)
	p.Seed = 7
	a, b := MustNew(p), MustNew(p)
	bp := BlockedParamsFor(2000, 0.01)
	bp.Seed = 7
	ba, bb := MustNewBlocked(bp), MustNewBlocked(bp)
	for _, k := range ka {
		a.Add(k)
		ba.Add(k)
	}
	for _, k := range kb {
		b.Add(k)
		bb.Add(k)
	}
	for _, k := range common {
		a.Add(k)
		b.Add(k)
		ba.Add(k)
		bb.Add(k)
	}

	aw, bw := copyOf(a.Words()), copyOf(b.Words())
	if err := a.Intersect(b); err != nil {
		t.Fatal(err)
	}
	checkIntersect(t, "filter", a.Words(), aw, bw, b.Words(), a.Contains, common, ka)

	baw, bbw := copyOf(ba.Words()), copyOf(bb.Words())
	if err := ba.Intersect(bb); err != nil {
		t.Fatal(err)
	}
	checkIntersect(t, "blocked filter", ba.Words(), baw, bbw, bb.Words(), ba.Contains, common, ka)
}

// TestBlocked_Incompatible is TestFilter_Incompatible for Blocked: Union
// and Intersect both reject a filter of other bits (fewer or more), hashes
// or seed with an error naming the difference, and leave the receiver
// unchanged.
func TestBlocked_Incompatible(t *testing.T) {
	base := Params{Bits: 1024, Hashes: 5, Seed: 1}
	f := MustNewBlocked(base)
	for _, k := range randomKeys(100, 43) {
		f.Add(k)
	}
	before := append([]uint64(nil), f.Words()...)
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{Bits: 512, Hashes: 5, Seed: 1}, "bloom: incompatible filters: blocked filter bits differ: 1024 and 512"},
		{Params{Bits: 1024, Hashes: 4, Seed: 1}, "bloom: incompatible filters: blocked filter hashes differ: 5 and 4"},
		{Params{Bits: 1024, Hashes: 5, Seed: 2}, "bloom: incompatible filters: blocked filter seeds differ: 0x1 and 0x2"},
		// Last: without the check, a longer argument would index past
		// the receiver's words and panic.
		{Params{Bits: 1536, Hashes: 5, Seed: 1}, "bloom: incompatible filters: blocked filter bits differ: 1024 and 1536"},
	} {
		// Other keys: an OR with g would set bits of f, an AND clear some.
		g := MustNewBlocked(tc.p)
		for _, k := range randomKeys(100, 44) {
			g.Add(k)
		}
		for _, op := range []struct {
			name string
			f    func(*Blocked) error
		}{{"Union", f.Union}, {"Intersect", f.Intersect}} {
			name := op.name
			err := op.f(g)
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrIncompatible) {
				t.Errorf("blocked %s with %+v: %v, want %q", name, tc.p, err, tc.want)
			}
			if !slices.Equal(f.Words(), before) {
				t.Errorf("a refused blocked %s with %+v changed the receiver", name, tc.p)
				copy(f.Words(), before) // for the next case
			}
		}
	}
}

func TestFilter_ResetCloneEmptyKey(t *testing.T) {
	f := MustNew(Params{Bits: 1000, Hashes: 4, Seed: 3})
	f.Add(nil)
	// The empty key is a key like any other: its hash is xxHash64 of no bytes.
	if !f.Contains([]byte{}) || !f.ContainsHash(flow.Hash64(nil, 3)) {
		t.Fatal("empty key not found")
	}
	c := f.Clone()
	f.Reset()
	if f.SetBits() != 0 || f.Contains(nil) {
		t.Fatal("Reset left bits")
	}
	if !c.Contains(nil) || c.SetBits() == 0 {
		t.Fatal("Clone shares bits with the original")
	}
	if f.Bits() != 1000 || f.Hashes() != 4 || f.Seed() != 3 || f.SizeBytes() != 128 || f.Params() != (Params{Bits: 1000, Hashes: 4, Seed: 3}) {
		t.Errorf("accessors: %d %d %d %d", f.Bits(), f.Hashes(), f.Seed(), f.SizeBytes())
	}
	b := MustNewBlocked(Params{Bits: 1024, Hashes: 4, Seed: 3})
	b.Add(nil)
	bc := b.Clone()
	b.Reset()
	if b.SetBits() != 0 || !bc.Contains(nil) || bc.Bits() != 1024 || bc.SizeBytes() != 128 || bc.Params().Bits != 1024 || bc.Hashes() != 4 || bc.Seed() != 3 {
		t.Fatal("blocked Reset/Clone/accessors")
	}
}

// cloner is what checkCloneIndependent needs of a filter type.
type cloner[T any] interface {
	Words() []uint64
	Add([]byte)
	Reset()
	Clone() T
}

// checkCloneIndependent checks that f.Clone() copies the words of f (which
// holds some keys): the clone starts equal, adding the keys of more to the
// clone leaves f alone, and adding other keys to f, then resetting it,
// leaves the clone alone.
func checkCloneIndependent[T cloner[T]](t *testing.T, name string, f T, more [][]byte) {
	t.Helper()
	orig := slices.Clone(f.Words())
	c := f.Clone()
	if !slices.Equal(c.Words(), orig) {
		t.Fatalf("%s: clone differs from the original", name)
	}
	for _, k := range more {
		c.Add(k)
	}
	if slices.Equal(c.Words(), orig) {
		t.Fatalf("%s: adding keys to the clone changed nothing", name)
	}
	if !slices.Equal(f.Words(), orig) {
		t.Fatalf("%s: adding to the clone changed the original", name)
	}
	cloned := slices.Clone(c.Words())
	for _, k := range randomKeys(len(more), 79) {
		f.Add(k)
	}
	if !slices.Equal(c.Words(), cloned) {
		t.Fatalf("%s: adding to the original changed the clone", name)
	}
	f.Reset()
	if !slices.Equal(c.Words(), cloned) {
		t.Fatalf("%s: Reset of the original changed the clone", name)
	}
}

// TestClone_Independent checks Filter.Clone and Blocked.Clone with
// checkCloneIndependent: both directions (TestFilter_ResetCloneEmptyKey
// checks only that resetting the original spares the clone).
func TestClone_Independent(t *testing.T) {
	keys, more := randomKeys(300, 72), randomKeys(300, 73)
	f, b := MustNew(ParamsFor(1000, 0.01)), MustNewBlocked(BlockedParamsFor(1000, 0.01))
	for _, k := range keys {
		f.Add(k)
		b.Add(k)
	}
	checkCloneIndependent(t, "filter", f, more)
	checkCloneIndependent(t, "blocked filter", b, more)
}

// TestAtomic runs writers and readers at once (meaningful under -race) and
// checks the result equals a filter built sequentially.
func TestAtomic(t *testing.T) {
	p := ParamsFor(40000, 0.01)
	bp := BlockedParamsFor(40000, 0.01)
	f, want := MustNew(p), MustNew(p)
	b, bwant := MustNewBlocked(bp), MustNewBlocked(bp)
	keys := randomKeys(40000, 30)
	for _, k := range keys {
		want.Add(k)
		bwant.Add(k)
	}
	const workers = 4
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				f.AddAtomic(keys[i])
				b.AddAtomic(keys[i])
				if !f.ContainsAtomic(keys[i]) || !b.ContainsAtomic(keys[i]) {
					t.Error("key absent right after AddAtomic")
					return
				}
			}
		}()
		go func() { // readers racing with the writers
			defer wg.Done()
			for i := len(keys) - 1 - w; i >= 0; i -= workers {
				f.ContainsAtomic(keys[i])
				b.ContainsAtomic(keys[i])
			}
		}()
	}
	wg.Wait()
	if !f.Equal(want) || !b.Equal(bwant) {
		t.Fatal("concurrent filter differs from the sequential one")
	}
}

func TestFilter_MarshalRoundTrip(t *testing.T) {
	f := MustNew(Params{Bits: 1001, Hashes: 6, Seed: 0xfeed})
	b := MustNewBlocked(Params{Bits: 2048, Hashes: 9, Seed: 0xbeef})
	c := MustNewCounting(Params{Bits: 777, Hashes: 5, Seed: 0xcafe}, 4)
	for _, k := range randomKeys(200, 40) {
		f.Add(k)
		b.Add(k)
		c.Add(k)
	}
	var f2 Filter
	var b2 Blocked
	var c2 CountingFilter
	for _, tc := range []struct {
		m interface{ MarshalBinary() ([]byte, error) }
		u interface{ UnmarshalBinary([]byte) error }
	}{{f, &f2}, {b, &b2}, {c, &c2}} {
		enc, err := tc.m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.u.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		enc2, _ := tc.u.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatal("round trip changed the encoding")
		}
	}
	if !f.Equal(&f2) || !b.Equal(&b2) || !slicesEqual(c.Words(), c2.Words()) || c2.Width() != 4 || c2.Hashes() != 5 || c2.Counters() != 777 {
		t.Fatal("round trip changed the filter")
	}
	// Layout pin: header, then the words little-endian.
	g := MustNew(Params{Bits: 64, Hashes: 1, Seed: 2})
	g.Words()[0] = 0x0102030405060708
	enc, _ := g.MarshalBinary()
	want := []byte("DPBL\x02\x01\x01\x01\x40\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x08\x07\x06\x05\x04\x03\x02\x01")
	if !bytes.Equal(enc[:len(enc)-4], want) {
		t.Fatalf("encoding %x, want %x + crc", enc, want)
	}
}

func TestUnmarshal_Corrupt(t *testing.T) {
	f := MustNew(Params{Bits: 130, Hashes: 3, Seed: 1})
	f.Add([]byte("a"))
	good, _ := f.MarshalBinary()
	var g Filter
	// Every single-byte change, every truncation, every extension is an error.
	for i := range good {
		for _, x := range []byte{1, 0x80, 0xff} {
			bad := append([]byte(nil), good...)
			bad[i] ^= x
			if err := g.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: %v", i, x, err)
			}
		}
	}
	for n := 0; n < len(good); n++ {
		if err := g.UnmarshalBinary(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if err := g.UnmarshalBinary(append(good, 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatal("extended encoding accepted")
	}
	if g.m != 0 {
		t.Fatal("failed UnmarshalBinary changed the receiver")
	}
	// Specific messages, with a valid checksum so the field check is reached.
	reseal := func(b []byte) []byte {
		b = append([]byte(nil), b[:len(b)-4]...)
		return appendCRC(b)
	}
	for _, tc := range []struct {
		edit func(b []byte) []byte
		want string
	}{
		{func(b []byte) []byte { b[0] = 'X'; return b }, `bloom: corrupt encoding: magic is "XPBL", want "DPBL"`},
		{func(b []byte) []byte { b[4] = 3; return b }, "bloom: corrupt encoding: version is 3, want 2"},
		{func(b []byte) []byte { b[4] = 1; return b }, "bloom: corrupt encoding: version 1 is no longer read: its filters set bits where version 2 looks for others"},
		{func(b []byte) []byte { b[5] = 2; return b }, "bloom: corrupt encoding: kind is 2 (Blocked), want 1 (Filter)"},
		{func(b []byte) []byte { b[5] = 9; return b }, "bloom: corrupt encoding: kind is 9 (unknown), want 1 (Filter)"},
		{func(b []byte) []byte { b[6] = 0; return reseal(b) }, "bloom: corrupt encoding: k must be in [1, 32], got 0"},
		{func(b []byte) []byte { b[6] = 33; return reseal(b) }, "bloom: corrupt encoding: k must be in [1, 32], got 33"},
		{func(b []byte) []byte { b[7] = 4; return reseal(b) }, "bloom: corrupt encoding: cell width must be one of [1] for a Filter, got 4"},
		{func(b []byte) []byte { b[8], b[9] = 0, 0; return reseal(b) }, "bloom: corrupt encoding: m must be at least 1, got 0"},
		{func(b []byte) []byte { b[8] = 200; return reseal(b) }, "bloom: corrupt encoding: m = 200 needs 56 bytes, got 48"},
		{func(b []byte) []byte { b[len(b)-5] |= 0x80; return reseal(b) }, "bloom: corrupt encoding: padding bits after cell 129 are set"},
		{func(b []byte) []byte { b[len(b)-1]++; return b }, "bloom: corrupt encoding: checksum is"},
		{func(b []byte) []byte { return b[:3] }, "bloom: corrupt encoding: 3 bytes, shorter than the 24-byte minimum"},
	} {
		err := g.UnmarshalBinary(tc.edit(append([]byte(nil), good...)))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// A blocked encoding with m not a multiple of 512.
	b := MustNewBlocked(Params{Bits: 512, Hashes: 3})
	enc, _ := b.MarshalBinary()
	enc[9] = 3 // m = 768
	var bb Blocked
	if err := bb.UnmarshalBinary(reseal(enc)); err == nil || err.Error() != "bloom: corrupt encoding: blocked m must be a multiple of 512, got 768" {
		t.Errorf("blocked m: %v", err)
	}
	var cc CountingFilter
	c := MustNewCounting(Params{Bits: 10, Hashes: 3}, 8)
	enc, _ = c.MarshalBinary()
	enc[7] = 2
	if err := cc.UnmarshalBinary(reseal(enc)); err == nil || err.Error() != "bloom: corrupt encoding: cell width must be one of [4 8 16] for a CountingFilter, got 2" {
		t.Errorf("counting width: %v", err)
	}
}

func appendCRC(b []byte) []byte {
	return appendEncodingCRC(b)
}

// TestNoAllocs guards every per-key method, byte-key and hash-taking,
// plain and atomic, and the counting filter at each width (Remove has a
// path of its own for 4-bit counters and a generic one for 8 and 16).
func TestNoAllocs(t *testing.T) {
	key := []byte("10.0.0.1:5353>10.0.0.2:53/udp")
	absent := []byte("absent")
	const h = 0x0123456789abcdef
	f := MustNew(ParamsFor(1000, 0.01))
	b := MustNewBlocked(BlockedParamsFor(1000, 0.01))
	cases := map[string]func(){
		"Filter.Add":                 func() { f.Add(key) },
		"Filter.Contains":            func() { f.Contains(key) },
		"Filter.AddHash":             func() { f.AddHash(h) },
		"Filter.ContainsHash":        func() { f.ContainsHash(h) },
		"Filter.AddAtomic":           func() { f.AddAtomic(key) },
		"Filter.ContainsAtomic":      func() { f.ContainsAtomic(key) },
		"Filter.AddHashAtomic":       func() { f.AddHashAtomic(h) },
		"Filter.ContainsHashAtomic":  func() { f.ContainsHashAtomic(h) },
		"Filter.TestAndAdd":          func() { f.TestAndAdd(key) },
		"Filter.TestAndAddHash":      func() { f.TestAndAddHash(h + 1) },
		"Blocked.Add":                func() { b.Add(key) },
		"Blocked.Contains":           func() { b.Contains(key) },
		"Blocked.AddHash":            func() { b.AddHash(h) },
		"Blocked.ContainsHash":       func() { b.ContainsHash(h) },
		"Blocked.AddAtomic":          func() { b.AddAtomic(key) },
		"Blocked.ContainsAtomic":     func() { b.ContainsAtomic(key) },
		"Blocked.AddHashAtomic":      func() { b.AddHashAtomic(h) },
		"Blocked.ContainsHashAtomic": func() { b.ContainsHashAtomic(h) },
		"Blocked.TestAndAdd":         func() { b.TestAndAdd(key) },
		"Blocked.TestAndAddHash":     func() { b.TestAndAddHash(h + 1) },
	}
	for _, width := range []int{4, 8, 16} {
		c := MustNewCounting(ParamsFor(1000, 0.01), width)
		name := func(m string) string { return fmt.Sprintf("CountingFilter(%d bits).%s", width, m) }
		cases[name("Add")] = func() { c.Add(key) }
		cases[name("Contains")] = func() { c.Contains(key) }
		cases[name("Count")] = func() { c.Count(key) }
		cases[name("AddHash")] = func() { c.AddHash(h) }
		cases[name("ContainsHash")] = func() { c.ContainsHash(h) }
		cases[name("CountHash")] = func() { c.CountHash(h) }
		cases[name("Remove")] = func() { c.Add(key); _ = c.Remove(key) }
		cases[name("RemoveHash")] = func() { c.AddHash(h); _ = c.RemoveHash(h) }
		cases[name("Remove absent")] = func() { _ = c.Remove(absent) }
		cases[name("RemoveHash absent")] = func() { _ = c.RemoveHash(h + 2) }
	}
	for name, fn := range cases {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func TestBlocked_Spread(t *testing.T) {
	// Keys spread over blocks evenly: the block loads follow Poisson(lambda);
	// check the largest load stays below lambda + 8 sd.
	bp := Params{Bits: 512 * 256, Hashes: 8}
	b := MustNewBlocked(bp)
	loads := make([]int, 256)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 25600; i++ {
		h := r.Uint64()
		loads[flow.Reduce(h, 256)]++
		b.AddHash(h)
	}
	for i, l := range loads {
		if math.Abs(float64(l)-100) > 80 {
			t.Fatalf("block %d holds %d keys, lambda 100", i, l)
		}
	}
}

// TestTestAndAdd checks TestAndAdd of both filters against the reference
// positions: it answers what Contains answered just before, and afterwards
// the key's bits are set exactly as Add sets them.
func TestTestAndAdd(t *testing.T) {
	keys := randomKeys(600, 31)
	for _, k := range []int{1, 3, 7, 8, 14, 20} {
		p := Params{Bits: 512 * 4, Hashes: k, Seed: uint64(k) * 7}
		f, b := MustNew(p), MustNewBlocked(p)
		fset, bset := make([]bool, p.Bits), make([]bool, p.Bits)
		for i, key := range keys {
			key := key
			if i%3 == 2 {
				key = keys[i/3] // a repeat: present for certain
			}
			for _, c := range []struct {
				name string
				set  []bool
				pos  []uint32
				tas  func([]byte) bool
			}{
				{"Filter", fset, refPositions(key, uint32(p.Bits), k, p.Seed), f.TestAndAdd},
				{"Blocked", bset, refBlockedPositions(key, uint32(p.Bits), k, p.Seed), b.TestAndAdd},
			} {
				want := true
				for _, j := range c.pos {
					want = want && c.set[j]
					c.set[j] = true
				}
				if got := c.tas(key); got != want {
					t.Fatalf("%s k=%d key %d: TestAndAdd = %v, reference %v", c.name, k, i, got, want)
				}
			}
		}
		if !slicesEqual(f.Words(), packBits(fset)) || !slicesEqual(b.Words(), packBits(bset)) {
			t.Fatalf("k=%d: bits differ from the reference after TestAndAdd", k)
		}
	}
}

// TestAtomic_MatchesPlain: the atomic lookups answer exactly what the plain
// ones answer, for every k, on empty and filling filters (TestAtomic only
// checks that added keys are found, which a lookup answering true passes).
func TestAtomic_MatchesPlain(t *testing.T) {
	keys := randomKeys(400, 77)
	for k := 1; k <= MaxHashes; k++ {
		f := MustNew(Params{Bits: 3001, Hashes: k, Seed: uint64(k)})
		b := MustNewBlocked(Params{Bits: 512 * 5, Hashes: k, Seed: uint64(k)})
		added := 0
		for _, adds := range []int{0, 10, 60, 200} {
			for ; added < adds; added++ {
				f.AddAtomic(keys[added])
				b.AddAtomic(keys[added])
			}
			fmiss, bmiss := 0, 0
			for i, key := range keys {
				fa, ba := f.ContainsAtomic(key), b.ContainsAtomic(key)
				if fa != f.Contains(key) || ba != b.Contains(key) {
					t.Fatalf("k=%d, %d added, key %d: atomic and plain lookups differ", k, adds, i)
				}
				if !fa {
					fmiss++
				}
				if !ba {
					bmiss++
				}
			}
			if adds == 0 && (fmiss != len(keys) || bmiss != len(keys)) {
				t.Fatalf("k=%d: empty filters contain %d and %d keys", k, len(keys)-fmiss, len(keys)-bmiss)
			}
		}
	}
}

// TestBlocked_TestAndAddHashAnswersAsContains: TestAndAddHash reports
// what ContainsHash said just before it, at every fill from empty to
// saturated, both for seven bits per key (its own written-out test) and
// for other counts (through contains); and a key it reports absent is
// present afterwards.
func TestBlocked_TestAndAddHashAnswersAsContains(t *testing.T) {
	for _, k := range []int{7, 1, 6, 8, 14} {
		f := MustNewBlocked(Params{Bits: 4 * BlockBits, Hashes: k, Seed: 3})
		rng := rand.New(rand.NewPCG(uint64(k), 1))
		var yes, no int
		for i := range 8000 {
			h := rng.Uint64()
			want := f.ContainsHash(h)
			if got := f.TestAndAddHash(h); got != want {
				t.Fatalf("k=%d, key %d: TestAndAddHash(%#x) = %v, ContainsHash said %v", k, i, h, got, want)
			}
			if !f.ContainsHash(h) {
				t.Fatalf("k=%d, key %d: absent after TestAndAddHash", k, i)
			}
			if want {
				yes++
			} else {
				no++
			}
		}
		if yes < 1000 || no < 100 {
			t.Fatalf("k=%d: %d keys present, %d not: want both common", k, yes, no)
		}
	}
}

// TestEqual_EveryField: Equal is true for a filter and its clone, and
// false once any one of m, k, the seed or a single bit differs, for Filter
// and Blocked alike. (The kernel's learn-mode tests compare filters with
// Equal, so an Equal that ignored a field would hide a mismatch there.)
func TestEqual_EveryField(t *testing.T) {
	p := Params{Bits: 1024, Hashes: 4, Seed: 9}
	keys := randomKeys(50, 90)
	vary := []struct {
		name string
		edit func(Params) Params
	}{
		{"bits", func(q Params) Params { q.Bits += 512; return q }},
		{"hashes", func(q Params) Params { q.Hashes++; return q }},
		{"seed", func(q Params) Params { q.Seed++; return q }},
	}
	f := MustNew(p)
	b := MustNewBlocked(p)
	for _, k := range keys {
		f.Add(k)
		b.Add(k)
	}
	if !f.Equal(f.Clone()) || !b.Equal(b.Clone()) {
		t.Fatal("a filter differs from its clone")
	}
	for _, v := range vary {
		q := v.edit(p)
		g, c := MustNew(q), MustNewBlocked(q)
		// Same bits where the sizes agree, so only the field differs.
		copy(g.Words(), f.Words())
		copy(c.Words(), b.Words())
		if f.Equal(g) || g.Equal(f) {
			t.Errorf("Filter: Equal is true with different %s", v.name)
		}
		if b.Equal(c) || c.Equal(b) {
			t.Errorf("Blocked: Equal is true with different %s", v.name)
		}
	}
	for _, j := range []int{0, 700, 1023} {
		g, c := f.Clone(), b.Clone()
		g.Words()[j/64] ^= 1 << (j % 64)
		c.Words()[j/64] ^= 1 << (j % 64)
		if f.Equal(g) || g.Equal(f) || b.Equal(c) || c.Equal(b) {
			t.Errorf("Equal is true with bit %d flipped", j)
		}
	}
}
