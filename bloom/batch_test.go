package bloom

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCounting_RemoveBatch: RemoveBatch leaves exactly the counters a loop
// of Remove leaves and removes the keys the loop removes, for every
// counter width, with keys never added, keys removed more often than
// added, a key repeated within a group, saturated counters (4-bit, a key
// added past 15), tiny filters where a key takes a counter more than once
// (which Remove can refuse for a key Contains reports), and batch lengths
// around the group size.
func TestCounting_RemoveBatch(t *testing.T) {
	keys := randomKeys(400, 3)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, width := range []int{4, 8, 16} {
		for _, p := range []Params{ParamsFor(300, 0.01), {Bits: 7, Hashes: 9, Seed: 4}, {Bits: 64, Hashes: 3, Seed: 5}} {
			loop, batch := MustNewCounting(p, width), MustNewCounting(p, width)
			for i, k := range keys[:300] {
				for range 1 + i%3 {
					loop.Add(k)
					batch.Add(k)
				}
			}
			for range 20 { // saturate the first key's counters at width 4
				loop.Add(keys[0])
				batch.Add(keys[0])
			}
			var rm [][]byte
			for _, n := range []int{0, 1, groupSize - 1, groupSize, groupSize + 1, 3*groupSize + 7, 600} {
				rm = rm[:0]
				want := 0
				for range n {
					k := keys[rng.IntN(len(keys))]
					if loop.Remove(k) == nil {
						want++
					}
					rm = append(rm, k)
				}
				if got := batch.RemoveBatch(rm); got != want {
					t.Fatalf("width %d, %v, batch of %d: RemoveBatch removed %d, the Remove loop %d", width, p, n, got, want)
				}
				if !slices.Equal(batch.Words(), loop.Words()) {
					t.Fatalf("width %d, %v, after a batch of %d: counters differ", width, p, n)
				}
			}
		}
	}
	var zero CountingFilter
	if n := zero.RemoveBatch(keys[:3]); n != 0 {
		t.Fatalf("zero CountingFilter: RemoveBatch removed %d", n)
	}
	c := MustNewCounting(ParamsFor(1000, 0.01), 4)
	if a := testing.AllocsPerRun(100, func() {
		for _, k := range keys[:50] {
			c.Add(k)
		}
		c.RemoveBatch(keys[:50])
	}); a != 0 {
		t.Fatalf("RemoveBatch: %v allocations", a)
	}
}

// TestAppendContains: AppendContains answers what a loop of Contains
// answers, key for key, members and non-members alike (false positives
// included), for batch lengths around the group size, after what found
// already holds; the zero filters contain nothing; it never allocates
// into a slice with room.
func TestAppendContains(t *testing.T) {
	keys := randomKeys(1000, 8)
	p := Params{Bits: 4096, Hashes: 5, Seed: 2} // about 40% fill: some false positives
	classic, blocked := MustNew(p), MustNewBlocked(p)
	for _, k := range keys[:500] {
		classic.Add(k)
		blocked.Add(k)
	}
	filters := map[string]struct {
		contains       func([]byte) bool
		appendContains func([]bool, [][]byte) []bool
	}{
		"Filter":  {classic.Contains, classic.AppendContains},
		"Blocked": {blocked.Contains, blocked.AppendContains},
	}
	for name, f := range filters {
		fp, at := 0, 0
		for _, n := range []int{0, 1, groupSize - 1, groupSize, groupSize + 1, 3*groupSize + 2, 900} {
			start := at
			batch := keys[start : start+n]
			at = (at + 37) % 100
			got := f.appendContains([]bool{true, false}, batch)
			if len(got) != n+2 || !got[0] || got[1] {
				t.Fatalf("%s: %d keys gave %d answers, or the prefix changed", name, n, len(got))
			}
			for i, k := range batch {
				if want := f.contains(k); got[2+i] != want {
					t.Fatalf("%s: batch of %d, key %d: AppendContains %v, Contains %v", name, n, i, got[2+i], want)
				}
				if got[2+i] && start+i >= 500 {
					fp++
				}
			}
		}
		if fp == 0 {
			t.Fatalf("%s: no false positive among the batches: the test cannot tell a copy of the members from the filter", name)
		}
	}
	var zc Filter
	var zb Blocked
	for name, got := range map[string][]bool{"Filter": zc.AppendContains(nil, keys[:20]), "Blocked": zb.AppendContains(nil, keys[:20])} {
		if len(got) != 20 || slices.Contains(got, true) {
			t.Fatalf("zero %s: AppendContains gave %v", name, got)
		}
	}
	found := make([]bool, 0, 100)
	if a := testing.AllocsPerRun(100, func() {
		found = classic.AppendContains(found[:0], keys[:100])
		found = blocked.AppendContains(found[:0], keys[:100])
	}); a != 0 {
		t.Fatalf("AppendContains: %v allocations", a)
	}
}
