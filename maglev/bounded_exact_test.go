package maglev_test

import (
	"math/big"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// exactBound is ceil((1+eps) * m * w / W) computed exactly, eps taken at
// its exact binary value.
func exactBound(eps float64, m, w, wsum uint64) uint64 {
	r := new(big.Rat).SetFloat64(eps)
	r.Add(r, big.NewRat(1, 1))
	r.Mul(r, new(big.Rat).SetFrac(new(big.Int).SetUint64(m*w), new(big.Int).SetUint64(wsum)))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q.Uint64()
}

// TestBounded_ExactBound aims every flow at one backend, so that it
// carries its bound after every assignment, and checks the bound exactly:
// ceil((1+eps)*m*w/W) with no floating-point slack. The capacity used to be
// computed in floating point, whose roundings can land just above an
// integer: with weights 5 and 2 and eps = 0.03, the bound at m = 140 is
// 1.03*140*5/7 = 103 exactly, and the heavy backend took its 104th flow.
func TestBounded_ExactBound(t *testing.T) {
	cases := []struct {
		eps    float64
		wa, wb uint32
		flows  int
	}{
		{0.03, 5, 2, 600},
		{0.02, 5, 1, 1600},
		{0.1, 3, 7, 3000},
		{0.3, 1, 1, 3000},
		{0.07, 10, 1, 3000},
	}
	for _, c := range cases {
		bs := []maglev.Backend{{Name: "a", Weight: c.wa}, {Name: "b", Weight: c.wb}}
		r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 4, Seed: 3}, bs)
		b, err := maglev.NewBounded(r, c.eps)
		if err != nil {
			t.Fatal(err)
		}
		wsum := uint64(c.wa) + uint64(c.wb)
		var aimed []uint64
		for _, h := range hashes(100*c.flows, 21) {
			if i, _ := r.Pick(h); i == 0 {
				aimed = append(aimed, h)
			}
		}
		if len(aimed) < c.flows {
			t.Fatalf("only %d hashes land on backend a", len(aimed))
		}
		for m, h := range aimed[:c.flows] {
			b.Assign(h)
			for i, w := range []uint32{c.wa, c.wb} {
				if lim := exactBound(c.eps, uint64(m+1), uint64(w), wsum); b.Load(i) > lim {
					t.Fatalf("eps=%v weights %d,%d: after %d flows backend %d carries %d, bound ceil((1+eps)*m*w/W) = %d",
						c.eps, c.wa, c.wb, m+1, i, b.Load(i), lim)
				}
			}
		}
	}
}
