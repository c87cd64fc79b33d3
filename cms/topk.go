package cms

import (
	"fmt"
	"math"
	"slices"

	"github.com/dataplane-go/dataplane/flow"
)

// Entry is a flow and its estimated count.
type Entry struct {
	Key   flow.Key
	Count uint32 // the sketch's estimate when the flow was last seen
}

// TopK tracks the k flows with the largest estimates: a [Sketch] counts
// every flow, and an indexed min-heap of at most k entries holds the
// current leaders, smallest at the root. A hash index from flow to heap
// position makes every update O(log k) with no scan of the heap; once the
// heap is full, an update whose new estimate is below the root's (most of
// them) touches neither heap nor index. All storage is sized by [NewTopK],
// so [TopK.Add] never allocates.
//
// A flow enters when its estimate exceeds the root's; a leader's count is
// refreshed whenever it is seen. Counts of leaders are therefore estimates
// as of their last packet, never below their true count at that time.
//
// The zero TopK is not valid; use [NewTopK]. It is harmless, like the zero
// Sketch: Add ignores its input and returns 0, it tracks no flow (Min is 0,
// Top and HeavyHitters are empty), Reset does nothing and Sketch returns
// nil. Not safe for concurrent use.
type TopK struct {
	sketch *Sketch
	heap   []topEntry
	index  []int32 // open addressing, linear probing; heap position or -1
	mask   uint64
	k      int
}

type topEntry struct {
	key  flow.Key
	hash uint64
	est  uint32
	slot int32 // position in index
}

// MaxK is the largest k [NewTopK] accepts.
const MaxK = 1 << 24

// NewTopK returns a tracker of the k largest flows over a sketch with
// dimensions p. Besides the sketch, it allocates the top-k structures up
// front, so that Add never allocates: 64 to 72 bytes per unit of k, about
// 1 GiB at MaxK (more than a 32-bit process can usually get).
func NewTopK(p Params, k int) (*TopK, error) {
	if k < 1 || k > MaxK {
		return nil, fmt.Errorf("cms: k must be in [1, %d], got %d", MaxK, k)
	}
	s, err := New(p)
	if err != nil {
		return nil, err
	}
	size := 1
	for size < 2*k {
		size <<= 1
	}
	t := &TopK{
		sketch: s,
		heap:   make([]topEntry, 0, k),
		index:  make([]int32, size),
		mask:   uint64(size - 1),
		k:      k,
	}
	for i := range t.index {
		t.index[i] = -1
	}
	return t, nil
}

// K returns k.
func (t *TopK) K() int { return t.k }

// Sketch returns the underlying sketch (for Estimate, Total, Marshal), nil
// for the zero TopK. Adding to it directly bypasses the heap; resetting or
// replacing its counters (Reset, UnmarshalBinary) would leave the heap with
// counts the sketch no longer backs, which [TopK.Add] assumes never
// happens: use [TopK.Reset].
func (t *TopK) Sketch() *Sketch { return t.sketch }

// Add counts n packets (or bytes) of flow key and returns its new estimate.
// An invalid key (the zero Key) is not a flow: Add ignores it and returns
// 0, so it never enters the top k. Adding 0 counts nothing: Add returns
// the key's estimate and leaves the top k as it was. The zero TopK ignores
// every key.
func (t *TopK) Add(key flow.Key, n uint32) uint32 {
	if !key.IsValid() || t.sketch == nil {
		return 0
	}
	h := key.Hash(t.sketch.seed) // = flow.Hash64(key.Bytes(), seed), unrolled
	if n == 0 {
		return t.sketch.EstimateHash(h) // no estimate rises: nothing to offer
	}
	est := t.sketch.addEstimate(h, n)
	t.offer(&key, h, est)
	return est
}

// offer updates the heap for flow key, of hash h, whose estimate est has
// just been raised.
func (t *TopK) offer(key *flow.Key, h uint64, est uint32) {
	// Fast path, most packets once the heap is full: a flow whose new
	// estimate is below the root's is not in the heap (estimates never
	// decrease, so a leader's is at least the count it was entered with,
	// which is at least the root's) and does not enter it.
	if len(t.heap) == t.k && est < t.heap[0].est {
		return
	}
	if pos := t.find(*key, h); pos >= 0 {
		t.heap[pos].est = est
		t.down(pos)
		return
	}
	if len(t.heap) < t.k {
		t.heap = append(t.heap, topEntry{key: *key, hash: h, est: est})
		pos := len(t.heap) - 1
		t.insertIndex(pos)
		t.up(pos)
		return
	}
	if est > t.heap[0].est {
		t.deleteIndex(t.heap[0].slot)
		t.heap[0] = topEntry{key: *key, hash: h, est: est}
		t.insertIndex(0)
		t.down(0)
	}
}

// find returns the heap position of key, or -1.
func (t *TopK) find(key flow.Key, h uint64) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		p := t.index[i]
		if p < 0 {
			return -1
		}
		if e := &t.heap[p]; e.hash == h && e.key == key {
			return int(p)
		}
	}
}

// insertIndex records heap position pos (not yet indexed) in the index.
func (t *TopK) insertIndex(pos int) {
	e := &t.heap[pos]
	i := e.hash & t.mask
	for t.index[i] >= 0 {
		i = (i + 1) & t.mask
	}
	t.index[i] = int32(pos)
	e.slot = int32(i)
}

// deleteIndex empties index slot i and shifts later entries of its probe
// run back (backward-shift deletion, so lookups need no tombstones).
func (t *TopK) deleteIndex(slot int32) {
	i := uint64(slot)
	t.index[i] = -1
	for j := (i + 1) & t.mask; t.index[j] >= 0; j = (j + 1) & t.mask {
		home := t.heap[t.index[j]].hash & t.mask
		// The entry at j may move to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.index[i] = t.index[j]
			t.heap[t.index[i]].slot = int32(i)
			t.index[j] = -1
			i = j
		}
	}
}

func (t *TopK) swap(a, b int) {
	h := t.heap
	h[a], h[b] = h[b], h[a]
	t.index[h[a].slot] = int32(a)
	t.index[h[b].slot] = int32(b)
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if t.heap[p].est <= t.heap[i].est {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *TopK) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.heap[r].est < t.heap[l].est {
			m = r
		}
		if t.heap[i].est <= t.heap[m].est {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// Min returns the smallest count among the leaders, the estimate a flow
// must exceed to enter, or 0 while fewer than k flows are tracked.
func (t *TopK) Min() uint32 {
	if len(t.heap) < t.k || len(t.heap) == 0 { // k is 0 in the zero TopK
		return 0
	}
	return t.heap[0].est
}

// Len returns the number of flows tracked, at most k.
func (t *TopK) Len() int { return len(t.heap) }

// AppendTop appends the tracked flows to dst, largest count first (ties by
// key bytes), and returns the extended slice.
func (t *TopK) AppendTop(dst []Entry) []Entry {
	n := len(dst)
	for _, e := range t.heap {
		dst = append(dst, Entry{Key: e.key, Count: e.est})
	}
	slices.SortFunc(dst[n:], compareEntries)
	return dst
}

// Top returns the tracked flows, largest count first. Counts are the
// sketch's estimates, never below the true counts and, with probability at
// least 1-delta, above them by at most t.Sketch().ErrorBound() (eps*N): a
// flow whose count is within that bound may hold only a few packets of its
// own, and on a capture of many small flows the last entries often do.
// Choose eps so that eps*N is below the counts that matter (or compare each
// Count with the bound).
func (t *TopK) Top() []Entry { return t.AppendTop(make([]Entry, 0, len(t.heap))) }

// HeavyHitters returns the tracked flows whose count is at least phi*N,
// largest first. Every flow whose true count is at least phi*N is among
// them when k >= 1/phi and the sketch's estimates of other flows stay below
// phi*N (which eps*N < phi*N makes likely); with k < 1/phi some may be
// missed. phi must be in (0, 1], as for [NewFractionDetector]; for any other
// phi (0, negative, above 1, NaN) it returns nil, like a query that
// matches no flow, rather than every tracked flow or an error. Counts
// saturate at 2^32-1, which reads "at least that": where phi*N is larger
// (N beyond 2^32, as byte counts soon are), the flows of saturated count
// are the heavy hitters, as a fraction [Detector]'s threshold stops at
// 2^32-1 too.
func (t *TopK) HeavyHitters(phi float64) []Entry {
	if !(phi > 0 && phi <= 1) || len(t.heap) == 0 {
		return nil // the zero TopK has no sketch, and no flow
	}
	thr := min(fraction(phi, t.sketch.total), math.MaxUint32)
	var out []Entry
	for _, e := range t.AppendTop(nil) {
		if float64(e.Count) >= thr {
			out = append(out, e)
		}
	}
	return out
}

// Reset forgets every flow and zeroes the sketch.
func (t *TopK) Reset() {
	if t.sketch == nil {
		return // the zero TopK
	}
	t.sketch.Reset()
	t.heap = t.heap[:0]
	for i := range t.index {
		t.index[i] = -1
	}
}

func compareEntries(a, b Entry) int {
	if a.Count != b.Count {
		if a.Count > b.Count {
			return -1
		}
		return 1
	}
	ab, an := a.Key.Array()
	bb, bn := b.Key.Array()
	if c := slices.Compare(ab[:], bb[:]); c != 0 {
		return c
	}
	return an - bn
}
