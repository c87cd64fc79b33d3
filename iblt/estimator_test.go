package iblt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestEstimator_Accuracy: over 20 trials per d, the strata estimate is
// within a factor of 2 of the true difference in at least 18 (Eppstein et
// al. report estimates mostly within 1.5x with 80-cell strata).
func TestEstimator_Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, d := range []int{0, 10, 100, 1000, 10000} {
		good := 0
		for trial := range 20 {
			p := DefaultEstimatorParams(8, rng.Uint64())
			a, _ := NewEstimator(p)
			b, _ := NewEstimator(p)
			key := make([]byte, 8)
			for i := range 5000 + d {
				binary.LittleEndian.PutUint64(key, uint64(trial)<<40|uint64(i))
				a.Insert(key)
				if i >= d {
					b.Insert(key)
				}
			}
			if err := a.Subtract(b); err != nil {
				t.Fatal(err)
			}
			est, err := a.Estimate()
			if err != nil {
				t.Fatalf("d=%d: %v", d, err)
			}
			if (d == 0 && est == 0) || (d > 0 && est*2 >= d && est <= 2*d) {
				good++
			}
		}
		if good < 18 {
			t.Errorf("d=%d: %d of 20 estimates within 2x", d, good)
		}
	}
}

func TestEstimator_Marshal(t *testing.T) {
	e, _ := NewEstimator(EstimatorParams{Strata: 5, Cells: 8, KeyLen: 4, Seed: 3})
	for i := range 100 {
		e.Insert(binary.LittleEndian.AppendUint32(nil, uint32(i)))
	}
	b, _ := e.MarshalBinary()
	var u Estimator
	if err := u.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := u.MarshalBinary()
	if !bytes.Equal(b, b2) || u.p != e.p {
		t.Fatal("estimator round trip differs")
	}
	for name, bad := range map[string][]byte{"truncated": b[:len(b)-1], "magic": append([]byte("XBSE"), b[4:]...), "empty": nil} {
		if err := u.UnmarshalBinary(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s estimator encoding: %v, want ErrFormat", name, err)
		}
	}
	o, _ := NewEstimator(EstimatorParams{Strata: 5, Cells: 8, KeyLen: 4, Seed: 4})
	if err := e.Subtract(o); !errors.Is(err, ErrIncompatible) {
		t.Errorf("Subtract of another seed: %v", err)
	}
	for _, p := range []EstimatorParams{{Strata: 0, Cells: 8, KeyLen: 4}, {Strata: 65, Cells: 8, KeyLen: 4}, {Strata: 3, Cells: 6, KeyLen: 4}, {Strata: 3, Cells: 8, KeyLen: 0}} {
		if _, err := NewEstimator(p); err == nil {
			t.Errorf("NewEstimator(%+v) accepted", p)
		}
	}
}

// A difference too large for the estimator: its sparsest stratum cannot be
// listed. Estimate says so with ErrDecodeIncomplete and a positive lower
// bound, instead of the 0 ("no difference") of the published algorithm.
func TestEstimator_DifferenceTooLarge(t *testing.T) {
	const d = 5000
	for _, strata := range []int{1, 4} {
		p := EstimatorParams{Strata: strata, Cells: 80, KeyLen: 8, Seed: 1}
		a, err := NewEstimator(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewEstimator(p)
		for i := range d {
			var k [8]byte
			binary.LittleEndian.PutUint64(k[:], uint64(i)*0x9E3779B97F4A7C15)
			a.Insert(k[:])
		}
		if err := a.Subtract(b); err != nil {
			t.Fatal(err)
		}
		est, err := a.Estimate()
		if !errors.Is(err, ErrDecodeIncomplete) {
			t.Errorf("strata %d: difference of %d: Estimate = %d, %v; want ErrDecodeIncomplete", strata, d, est, err)
		}
		if est < 1<<(strata-1) {
			t.Errorf("strata %d: lower bound %d, want at least %d", strata, est, 1<<(strata-1))
		}
		if want := "stratum (80 cells) cannot be listed ("; err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("strata %d: error %q does not name the stratum's size as %q", strata, err, want)
		}
	}
}

// The zero Estimator is not valid: every method says so with ErrInvalid
// instead of panicking, and Estimate does not report "no difference".
func TestEstimator_Zero(t *testing.T) {
	var z Estimator
	for _, key := range [][]byte{nil, []byte("abcd")} {
		if err := z.Insert(key); !errors.Is(err, ErrInvalid) {
			t.Errorf("zero Estimator: Insert(%q) = %v, want ErrInvalid", key, err)
		}
	}
	if n, err := z.Estimate(); !errors.Is(err, ErrInvalid) || n != 0 {
		t.Errorf("zero Estimator: Estimate = %d, %v; want 0 and ErrInvalid", n, err)
	}
	var z2 Estimator
	if err := z.Subtract(&z2); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero Estimator: Subtract(zero) = %v, want ErrInvalid", err)
	}
	e, _ := NewEstimator(EstimatorParams{Strata: 2, Cells: 4, KeyLen: 4, Seed: 1})
	if err := e.Subtract(&z); !errors.Is(err, ErrInvalid) {
		t.Errorf("Subtract(zero Estimator) = %v, want ErrInvalid", err)
	}
	if b, err := z.MarshalBinary(); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero Estimator: MarshalBinary = %x, %v; want ErrInvalid", b, err)
	}
}

// TestEstimator_FailedStratumIsNotEmpty: a stratum that cannot be listed
// holds at least two entries, so the difference is not empty even when
// every stratum above it is. Estimate returned 0 (count 0 scaled by the
// stratum's rate, as in Algorithm 2), which reads as no difference. Here
// two keys of stratum 0 share all 4 cells of the default 80-cell strata
// (found by a deterministic search), the only difference.
func TestEstimator_FailedStratumIsNotEmpty(t *testing.T) {
	p := DefaultEstimatorParams(8, 42)
	a, _ := NewEstimator(p)
	b, _ := NewEstimator(p)
	tb := a.strata[0]
	seen := map[[4]uint32][]byte{}
	var pair [2][]byte
	for i := uint64(0); pair[0] == nil; i++ {
		key := binary.LittleEndian.AppendUint64(nil, i)
		if a.stratum(key) != 0 {
			continue
		}
		h := flow.Hash64(key, p.Seed)
		var cells [4]uint32
		for j := range cells {
			cells[j] = flow.Index(h, uint32(j), tb.sub)
		}
		if other, ok := seen[cells]; ok {
			pair = [2][]byte{other, key}
		}
		seen[cells] = key
	}
	for _, key := range pair {
		a.Insert(key)
	}
	if err := a.Subtract(b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.strata[0].List(); !errors.Is(err, ErrDecodeIncomplete) {
		t.Fatalf("stratum 0 lists: %v", err)
	}
	if est, err := a.Estimate(); est < 2 || err != nil {
		t.Errorf("difference of 2 keys sharing all cells of stratum 0: Estimate = %d, %v; want at least 2 and no error", est, err)
	}
	// The same with strata of 4 cells (one per sub-table), where any two
	// keys of one stratum share all their cells.
	p = EstimatorParams{Strata: 8, Cells: 4, KeyLen: 8, Seed: 7}
	a, _ = NewEstimator(p)
	n := 0
	for i := uint64(0); n < 2; i++ {
		key := binary.LittleEndian.AppendUint64(nil, i)
		if a.stratum(key) == 1 {
			a.Insert(key)
			n++
		}
	}
	if est, err := a.Estimate(); est < 4 || err != nil {
		t.Errorf("difference of 2 keys in stratum 1 of 4-cell strata: Estimate = %d, %v; want at least 4 and no error", est, err)
	}
}

// satShl saturates only where n << s overflows: 0 stays 0 at any shift.
func TestSatShl(t *testing.T) {
	for _, c := range []struct{ n, s, want int }{
		{0, 0, 0}, {0, 63, 0}, {0, 200, 0}, {1, 0, 1}, {3, 4, 48},
		{1, bits.UintSize - 2, 1 << (bits.UintSize - 2)}, {1, bits.UintSize - 1, math.MaxInt},
		{2, bits.UintSize - 2, math.MaxInt}, {math.MaxInt, 1, math.MaxInt},
	} {
		if got := satShl(c.n, c.s); got != c.want {
			t.Errorf("satShl(%d, %d) = %d, want %d", c.n, c.s, got, c.want)
		}
	}
}

// TestEstimator_StratumFormula: a key lands in the stratum the documented
// formula names, which a peer implementation must reproduce: inserting
// one key changes that stratum's table alone, which then lists the key.
func TestEstimator_StratumFormula(t *testing.T) {
	p := EstimatorParams{Strata: 6, Cells: 16, KeyLen: 13, Seed: 0x5eed}
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[int]bool{}
	for range 200 {
		key := make([]byte, p.KeyLen)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		want := min(bits.TrailingZeros64(flow.Mix(flow.Hash64(key, p.Seed), 1<<31)), p.Strata-1)
		seen[want] = true
		e, err := NewEstimator(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Insert(key); err != nil {
			t.Fatal(err)
		}
		for i, tb := range e.strata {
			if tb.IsEmpty() != (i != want) {
				t.Fatalf("key %x: stratum %d empty %v; the formula names stratum %d", key, i, tb.IsEmpty(), want)
			}
		}
		if ins, _, err := e.strata[want].List(); err != nil || len(ins) != 1 || !bytes.Equal(ins[0].Key, key) {
			t.Fatalf("key %x: stratum %d lists %v, %v", key, want, ins, err)
		}
	}
	if len(seen) < 5 { // 200 keys reach strata 0 to 4 with near certainty; the last takes the rest
		t.Errorf("200 keys reached only strata %v", seen)
	}
}
