package cms

import (
	"math"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestSketch_AddBatch: AddBatch and AddHashes leave exactly the counters
// and total that a loop of Add leaves, in both update modes, for batch
// lengths around the group size, with keys repeated within a group, and
// past the point where N passes 2^32 (after a whale), where Add moves
// from the unchecked to the saturating update, to where the whale's own
// counters saturate.
func TestSketch_AddBatch(t *testing.T) {
	stream, keys := zipfStream(3, 4000, 300, 1.2)
	for _, whale := range []bool{false, true} {
		for _, cons := range []bool{false, true} {
			p := Params{Width: 67, Depth: 4, Seed: 9, Conservative: cons}
			loop, batch, hashes := MustNew(p), MustNew(p), MustNew(p)
			if whale {
				for _, s := range []*Sketch{loop, batch, hashes} {
					s.Add([]byte("whale"), math.MaxUint32-100)
				}
			}
			var bs [][]byte
			var hs []uint64
			at := 0
			for _, n := range []int{0, 1, groupSize - 1, groupSize, groupSize + 1, 3*groupSize + 5, 1000} {
				bs, hs = bs[:0], hs[:0]
				for i, f := range stream[at : at+n] {
					b := keys[f].Bytes()
					if whale && (at+i)%10 == 0 {
						b = []byte("whale")
					}
					loop.Add(b, 3)
					bs = append(bs, b)
					hs = append(hs, hashes.Hash(b))
				}
				at += n
				batch.AddBatch(bs, 3)
				hashes.AddHashes(hs, 3)
				for name, s := range map[string]*Sketch{"AddBatch": batch, "AddHashes": hashes} {
					if s.Total() != loop.Total() || !slices.Equal(s.Counters(), loop.Counters()) {
						t.Fatalf("whale=%v conservative=%v, after a batch of %d: %s total %d, Add loop %d; counters equal: %v",
							whale, cons, n, name, s.Total(), loop.Total(), slices.Equal(s.Counters(), loop.Counters()))
					}
				}
			}
			if whale && loop.Estimate([]byte("whale")) != math.MaxUint32 {
				t.Fatalf("the stream did not saturate the whale's counters (estimate %d)", loop.Estimate([]byte("whale")))
			}
		}
	}
}

// The zero Sketch and the zero TopK ignore batches as they ignore Add.
func TestSketch_AddBatchZero(t *testing.T) {
	var s Sketch
	s.AddBatch([][]byte{[]byte("a"), nil}, 1)
	s.AddHashes([]uint64{1, 2, 3}, 1)
	if s.Total() != 0 || s.Estimate([]byte("a")) != 0 {
		t.Fatalf("zero Sketch after batches: total %d", s.Total())
	}
	var top TopK
	top.AddBatch([]flow.Key{testKey(1), testKey(2)}, 1)
	if len(top.Top()) != 0 {
		t.Fatalf("zero TopK after a batch: leaders %v", top.Top())
	}
}

// TestTopK_AddBatch: a batch leaves the tracker as a loop of Add does:
// the same leaders with the same counts, and the same sketch, with
// invalid keys in the stream (ignored by both) and a k small enough that
// leaders are displaced within a batch.
func TestTopK_AddBatch(t *testing.T) {
	stream, keys := zipfStream(4, 20000, 2000, 1.05)
	for _, cons := range []bool{false, true} {
		p := Params{Width: 512, Depth: 3, Seed: 5, Conservative: cons}
		loop, _ := NewTopK(p, 20)
		batch, _ := NewTopK(p, 20)
		var ks []flow.Key
		for i := 0; i < len(stream); {
			n := min(1+i%(3*groupSize), len(stream)-i)
			ks = ks[:0]
			for j, f := range stream[i : i+n] {
				k := keys[f]
				if j%7 == 3 {
					k = flow.Key{} // invalid: ignored
				}
				loop.Add(k, 1)
				ks = append(ks, k)
			}
			i += n
			batch.AddBatch(ks, 1)
			if got, want := batch.Top(), loop.Top(); !slices.Equal(got, want) {
				t.Fatalf("conservative=%v, after %d packets: AddBatch leaders %v, Add loop %v", cons, i, got, want)
			}
		}
		if !slices.Equal(batch.Sketch().Counters(), loop.Sketch().Counters()) || batch.Sketch().Total() != loop.Sketch().Total() {
			t.Fatalf("conservative=%v: sketches differ after the stream", cons)
		}
		if len(loop.Top()) != 20 {
			t.Fatalf("conservative=%v: %d leaders, want a full heap of 20", cons, len(loop.Top()))
		}
	}
}
