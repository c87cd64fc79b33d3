package cms

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// checkTopK verifies the heap order and that the index maps every tracked
// flow to its heap position and nothing else.
func checkTopK(t *testing.T, tk *TopK) {
	t.Helper()
	for i := 1; i < len(tk.heap); i++ {
		if tk.heap[(i-1)/2].est > tk.heap[i].est {
			t.Fatalf("heap order broken at %d", i)
		}
	}
	used := 0
	for slot, p := range tk.index {
		if p < 0 {
			continue
		}
		used++
		if int(p) >= len(tk.heap) || tk.heap[p].slot != int32(slot) {
			t.Fatalf("index slot %d points to %d, which does not point back", slot, p)
		}
	}
	if used != len(tk.heap) {
		t.Fatalf("index holds %d entries, heap %d", used, len(tk.heap))
	}
	for i, e := range tk.heap {
		if got := tk.find(e.key, e.hash); got != i {
			t.Fatalf("find(heap[%d]) = %d", i, got)
		}
	}
}

// TestTopK_Invariants drives a small tracker (many evictions, a crowded
// index) with seeded random flows and checks every structure after each
// update, and that tracked counts are estimates as of the flow's last add.
func TestTopK_Invariants(t *testing.T) {
	tk, err := NewTopK(Params{Width: 64, Depth: 3, Seed: 1}, 7)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(4))
	last := map[flow.Key]uint32{}
	for i := range 5000 {
		k := testKey(uint32(r.Intn(40)))
		last[k] = tk.Add(k, uint32(1+r.Intn(2)))
		if i%7 == 0 {
			checkTopK(t, tk)
		}
	}
	checkTopK(t, tk)
	for _, e := range tk.Top() {
		if last[e.Key] != e.Count {
			t.Fatalf("%v tracked with %d, last estimate %d", e.Key, e.Count, last[e.Key])
		}
	}
	tk.Reset()
	if tk.Len() != 0 || tk.Min() != 0 || tk.Sketch().Total() != 0 {
		t.Fatal("Reset left state")
	}
	checkTopK(t, tk)
}

// TestTopK_Exact: with an exact sketch (no collisions is not
// guaranteed, so a wide one) and distinct flow sizes the tracker keeps
// exactly the k largest flows in order.
func TestTopK_Exact(t *testing.T) {
	tk, _ := NewTopK(Params{Width: 1 << 16, Depth: 4, Seed: 2}, 5)
	// flow i gets i+1 packets, interleaved
	for round := range 20 {
		for i := range 20 {
			if round <= i {
				tk.Add(testKey(uint32(i)), 1)
			}
		}
	}
	top := tk.Top()
	if len(top) != 5 {
		t.Fatalf("%d entries", len(top))
	}
	for j, e := range top {
		if want := testKey(uint32(19 - j)); e.Key != want || e.Count != uint32(20-j) {
			t.Fatalf("rank %d: %v %d, want %v %d", j, e.Key, e.Count, want, 20-j)
		}
	}
	if tk.Min() != 16 {
		t.Fatalf("Min %d, want 16", tk.Min())
	}
	if hh := tk.HeavyHitters(0.09); len(hh) != 2 { // N = 210, 0.09N = 18.9
		t.Fatalf("heavy hitters at 0.09: %v", hh)
	}
}

// recall returns the share of reported flows whose true count is at least
// the k-th largest true count (ties at the boundary count as correct).
func recall(reported []Entry, exact map[flow.Key]uint64, k int) float64 {
	counts := make([]uint64, 0, len(exact))
	for _, c := range exact {
		counts = append(counts, c)
	}
	slices.Sort(counts)
	kth := counts[len(counts)-k]
	hit := 0
	for _, e := range reported {
		if exact[e.Key] >= kth {
			hit++
		}
	}
	return float64(hit) / float64(k)
}

// TestTopK_Recall: on a seeded Zipf stream the tracker's top k holds at
// least 99% of the true top k, at k = 100 and at the k = 1000
// (with a sketch of 2^20 counters, about the bench's 1 MB at eps 1e-4).
func TestTopK_Recall(t *testing.T) {
	n, m := 500000, 100000
	if testing.Short() {
		n, m = 200000, 50000
	}
	stream, keys := zipfStream(77, n, m, 1.1)
	exact := map[flow.Key]uint64{}
	for _, f := range stream {
		exact[keys[f]]++
	}
	for _, tc := range []struct {
		k int
		p Params
	}{
		{100, ParamsFor(0.0005, 0.01)},
		{1000, Params{Width: 1 << 18, Depth: 4}},
	} {
		tk, _ := NewTopK(tc.p.WithSeed(9).WithConservative(true), tc.k)
		for _, f := range stream {
			tk.Add(keys[f], 1)
		}
		got := recall(tk.Top(), exact, tc.k)
		if got < 0.99 {
			t.Errorf("recall %.3f at k=%d, want at least 0.99", got, tc.k)
		}
		t.Logf("k=%d: recall %.4f", tc.k, got)
		checkTopK(t, tk)
	}
}

func TestNewTopK_Errors(t *testing.T) {
	for _, k := range []int{0, -1, MaxK + 1} {
		if _, err := NewTopK(Params{Width: 8, Depth: 2}, k); err == nil {
			t.Errorf("k=%d accepted", k)
		}
	}
	if _, err := NewTopK(Params{}, 3); err == nil {
		t.Error("invalid params accepted")
	}
}

// HeavyHitters takes phi in (0, 1]; any other phi returns nil (0 and
// negative values used to return every tracked flow).
func TestTopK_HeavyHittersPhi(t *testing.T) {
	tk, _ := NewTopK(Params{Width: 1 << 12, Depth: 4, Seed: 5}, 10)
	for i := range 10 {
		tk.Add(testKey(uint32(i)), uint32(i+1)) // N = 55
	}
	if got := tk.HeavyHitters(1); len(got) != 0 {
		t.Errorf("phi 1: %d flows, none holds all of N", len(got))
	}
	if got := tk.HeavyHitters(10.0 / 55); len(got) != 1 || got[0].Count != 10 {
		t.Errorf("phi 10/55: %+v, want the flow of 10", got)
	}
	if got := tk.HeavyHitters(math.SmallestNonzeroFloat64); len(got) != 10 {
		t.Errorf("tiny phi: %d flows, want all 10", len(got))
	}
	for _, phi := range []float64{0, -1, 1.0000001, 2, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := tk.HeavyHitters(phi); got != nil {
			t.Errorf("phi %v: %d flows, want nil", phi, len(got))
		}
	}
}

// TestTopK_InvalidKey: the zero Key is not a flow: it is not counted and
// never listed (it used to enter the top k as "invalid flow").
func TestTopK_InvalidKey(t *testing.T) {
	tk, err := NewTopK(Params{Width: 64, Depth: 2, Seed: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if est := tk.Add(flow.Key{}, 5); est != 0 {
		t.Errorf("Add(zero Key) = %d, want 0", est)
	}
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	tk.Add(k, 1)
	if top := tk.Top(); len(top) != 1 || top[0].Key != k || tk.Sketch().Total() != 1 {
		t.Errorf("after the zero Key and one flow: top %v, N %d; want only the flow, N 1", top, tk.Sketch().Total())
	}
}

// TestTopK_AddZero: adding 0 packets counts nothing, so no estimate rises
// and the top k stays as it was; a flow never counted used to enter a top
// k that was not full, with count 0 or its colliding neighbours' count.
func TestTopK_AddZero(t *testing.T) {
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	b := flow.MustKey("10.0.0.3", "10.0.0.4", 3, 4, flow.ProtoUDP)
	for _, batch := range []bool{false, true} {
		tk, err := NewTopK(Params{Width: 1, Depth: 1, Seed: 1}, 3) // one counter: b's estimate is a's count
		if err != nil {
			t.Fatal(err)
		}
		tk.Add(a, 7)
		if batch {
			tk.AddBatch([]flow.Key{b, b}, 0)
		} else if est := tk.Add(b, 0); est != 7 {
			t.Errorf("Add(b, 0) = %d, want the estimate 7", est)
		}
		if top := tk.Top(); len(top) != 1 || top[0].Key != a || top[0].Count != 7 || tk.Sketch().Total() != 7 {
			t.Errorf("batch %v: after Add(a, 7) and adding b 0 times: top %v, N %d; want only a with 7, N 7", batch, top, tk.Sketch().Total())
		}
	}
}

// TestTopK_Ties pins the documented behaviour at ties and with k above
// the number of flows: a flow enters a full top k only when its estimate
// exceeds the root's (Min), not when it equals it; Top lists equal counts
// by key bytes, whatever the order the flows arrived in; and while fewer
// than k flows are tracked, every one is listed and Min is 0.
func TestTopK_Ties(t *testing.T) {
	p := Params{Width: 1 << 16, Depth: 4, Seed: 6} // wide: estimates are exact here (checked)
	hi := flow.MustKey("10.0.0.9", "10.0.0.1", 1, 2, flow.ProtoTCP)
	lo := flow.MustKey("10.0.0.1", "10.0.0.1", 1, 2, flow.ProtoTCP) // below hi in key bytes
	late := flow.MustKey("10.0.0.5", "10.0.0.1", 1, 2, flow.ProtoTCP)

	few, err := NewTopK(p, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []flow.Key{hi, lo, late} {
		few.Add(k, 3)
	}
	if got, want := few.Top(), []Entry{{lo, 3}, {late, 3}, {hi, 3}}; !slices.Equal(got, want) || few.Len() != 3 || few.Min() != 0 {
		t.Errorf("k = 10, three flows of 3: Top %v, Len %d, Min %d; want %v, 3, 0", got, few.Len(), few.Min(), want)
	}

	tk, err := NewTopK(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		tk.Add(hi, 1) // hi first: arrival order is not the listed order
		tk.Add(lo, 1)
	}
	if got, want := tk.Top(), []Entry{{lo, 5}, {hi, 5}}; !slices.Equal(got, want) || tk.Min() != 5 {
		t.Fatalf("two flows of 5: Top %v, Min %d; want %v, 5", got, tk.Min(), want)
	}
	for i := range 5 {
		if est := tk.Add(late, 1); est != uint32(i+1) {
			t.Fatalf("late's packet %d: estimate %d: collisions spoil the test", i+1, est)
		}
	}
	if got, want := tk.Top(), []Entry{{lo, 5}, {hi, 5}}; !slices.Equal(got, want) {
		t.Errorf("a third flow tying the root at 5 entered: Top %v, want %v", got, want)
	}
	tk.Add(late, 1) // 6 > 5: it enters, in place of one of the two
	top := tk.Top()
	if len(top) != 2 || top[0] != (Entry{late, 6}) || (top[1] != Entry{lo, 5} && top[1] != Entry{hi, 5}) || tk.Min() != 5 {
		t.Errorf("a third flow above the root: Top %v, Min %d; want late at 6, then lo or hi at 5", top, tk.Min())
	}
}
