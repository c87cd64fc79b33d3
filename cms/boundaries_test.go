package cms

import (
	"errors"
	"math"
	"testing"
)

// TestFromCounters_EveryRowChecked: counters with a row summing to more
// than N are refused whichever row it is, the last one included, and
// whatever N is short of saturation, above 2^32 included (counters are
// 32-bit, but N and a row's sum are not). The same counters with N one
// larger are a valid sketch.
func TestFromCounters_EveryRowChecked(t *testing.T) {
	p := Params{Width: 3, Depth: 4, Seed: 2}
	// row returns w counters summing to sum (at most 3*(2^32-1)).
	row := func(sum uint64) []uint32 {
		var out []uint32
		for range p.Width {
			v := min(sum, math.MaxUint32)
			out = append(out, uint32(v))
			sum -= v
		}
		return out
	}
	for _, total := range []uint64{10, 1 << 33, 3*math.MaxUint32 - 1} {
		for over := range p.Depth {
			var c []uint32
			for r := range p.Depth {
				if r == over {
					c = append(c, row(total+1)...)
				} else {
					c = append(c, row(total)...)
				}
			}
			if _, err := FromCounters(p, c, total); !errors.Is(err, ErrCorrupt) {
				t.Errorf("N %d, row %d sums to N+1: %v, want ErrCorrupt", total, over, err)
			}
			if _, err := FromCounters(p, c, total+1); err != nil {
				t.Errorf("N %d, every row at most N: %v", total+1, err)
			}
		}
	}
}

// TestTopK_MinUntilFull: Min is 0 while fewer than k flows are tracked,
// one short of k included, and the smallest leader's count once k are.
func TestTopK_MinUntilFull(t *testing.T) {
	const k = 4
	tk, err := NewTopK(Params{Width: 1 << 16, Depth: 4, Seed: 6}, k) // wide: exact estimates here
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint32(k) {
		if got := tk.Min(); got != 0 {
			t.Fatalf("%d flows of k = %d tracked: Min %d, want 0", i, k, got)
		}
		tk.Add(testKey(i), 10+i)
	}
	if got := tk.Min(); got != 10 {
		t.Fatalf("k flows of 10 to 13: Min %d, want 10", got)
	}
}

// TestTopK_HeavyHittersAllOfN: phi 1 is in range: a flow that holds all
// of N is a heavy hitter at phi 1 (and only at phi 1 is no other flow).
func TestTopK_HeavyHittersAllOfN(t *testing.T) {
	tk, err := NewTopK(Params{Width: 1 << 12, Depth: 4, Seed: 5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(1)
	tk.Add(key, 7)
	if got := tk.HeavyHitters(1); len(got) != 1 || got[0].Key != key || got[0].Count != 7 {
		t.Errorf("one flow holding all of N: HeavyHitters(1) = %v, want it", got)
	}
}

// TestTopK_HeavyHittersSaturated: a count saturated at 2^32-1 means at
// least that. Once phi*N passed 2^32-1 (N of 3*(2^32-1) bytes, say), no
// count could reach it and HeavyHitters returned no flow, though one
// flow held nearly all of N; now the saturated flow is the heavy hitter,
// as a fraction Detector's threshold stops at 2^32-1 too.
func TestTopK_HeavyHittersSaturated(t *testing.T) {
	tk, err := NewTopK(Params{Width: 1 << 10, Depth: 4, Seed: 1}, 10)
	if err != nil {
		t.Fatal(err)
	}
	heavy, light := testKey(1), testKey(2)
	for range 3 {
		tk.Add(heavy, math.MaxUint32)
	}
	tk.Add(light, 1)
	got := tk.HeavyHitters(0.5)
	if len(got) != 1 || got[0].Key != heavy || got[0].Count != math.MaxUint32 {
		t.Errorf("one flow of N = %d saturated: HeavyHitters(0.5) = %v, want that flow alone", tk.Sketch().Total(), got)
	}
	d, err := NewFractionDetector(Params{Width: 1 << 10, Depth: 4, Seed: 1}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.Add(heavy.Bytes(), math.MaxUint32)
	}
	if th := d.Threshold(); th != math.MaxUint32 {
		t.Errorf("fraction detector at N = 3*(2^32-1): threshold %d, want 2^32-1", th)
	}
}

// TestFractionDetector_PhiOne: phi 1 is in range: the threshold is N
// itself, so a flow that alone made up the stream crosses it.
func TestFractionDetector_PhiOne(t *testing.T) {
	d, err := NewFractionDetector(Params{Width: 64, Depth: 2, Seed: 1}, 1)
	if err != nil {
		t.Fatalf("phi 1: %v", err)
	}
	d.Add([]byte("a"), 5)
	if got := d.Threshold(); got != 5 {
		t.Errorf("phi 1 after N = 5: threshold %d, want 5", got)
	}
}

// TestSketch_AddBatchTotalSaturates: near N = 2^64-1, AddBatch and
// AddHashes saturate N and leave the counters a loop of Add leaves: the
// batch's N plus its keys' counts wraps past 2^64, and that must not pass
// for a small N that lets the counters take the unchecked path.
func TestSketch_AddBatchTotalSaturates(t *testing.T) {
	p := Params{Width: 4, Depth: 2, Seed: 3}
	var keys [][]byte
	for i := range uint32(20) {
		k := testKey(i)
		keys = append(keys, k.Bytes())
	}
	for _, total := range []uint64{math.MaxUint64 - 1, math.MaxUint64 - 50} {
		c := make([]uint32, p.Counters())
		for i := range c {
			c[i] = math.MaxUint32 - 10
		}
		base, err := FromCounters(p, c, total)
		if err != nil {
			t.Fatal(err)
		}
		want := base.Clone()
		for _, k := range keys {
			want.Add(k, 3)
		}
		batch, hashes := base.Clone(), base.Clone()
		batch.AddBatch(keys, 3)
		var hs []uint64
		for _, k := range keys {
			hs = append(hs, hashes.Hash(k))
		}
		hashes.AddHashes(hs, 3)
		for name, s := range map[string]*Sketch{"AddBatch": batch, "AddHashes": hashes} {
			if s.Total() != math.MaxUint64 || !equalCounters(s.Counters(), want.Counters()) {
				t.Errorf("N %d: %s left N %d, counters %v; a loop of Add N %d, counters %v",
					total, name, s.Total(), s.Counters(), want.Total(), want.Counters())
			}
		}
	}
}
