package cms

import (
	"math"

	"github.com/dataplane-go/dataplane/flow"
)

// groupSize is how many keys the batch methods take at a time: enough
// keys that their counters' cache misses overlap, few enough that the
// positions stay in a small array on the stack. 8 and 32 measured the
// same as 16.
const groupSize = 16

// group holds the counter positions of up to groupSize keys, key by key,
// row by row (key j's row r at pos[j*d+r]).
type group struct {
	pos [groupSize * MaxDepth]uint32 // MaxCounters fits in 32 bits
}

// locate fills g with the counter positions of the keys whose hashes are
// hs, at most groupSize of them, touching no counter. Computing every
// position first is what makes a batch fast: the update loop that follows
// is a few instructions per counter, so the CPU's out-of-order window
// holds the cache misses of many keys at once, where a loop of Add, with
// a key's hashing between its counters and the next key's, holds those of
// one or two. (Loading the counters here, as a prefetch, made it slower:
// the loads must retire in order behind the hashing.)
func (s *Sketch) locate(g *group, hs []uint64) {
	w, d := uint64(s.width), s.depth
	pos := g.pos[:uint32(len(hs))*d]
	m := 0
	for _, h := range hs {
		x, base := h, uint64(0)
		for range d {
			pos[m] = uint32(base + uint64(rowIndex(x, w)))
			m++
			x += flow.Golden
			base += w
		}
	}
}

// addAt is [Sketch.addEstimate] for a key whose counter positions locate
// found: it adds n and returns the key's new estimate. Its conservative
// branch is the second half of addConservative. Sharing it (positions
// first, then a common raise) cost addConservative, the per-key hot path,
// 3 to 5% in an interleaved A/B, since the shared half is not inlined; so
// each keeps its own.
func (s *Sketch) addAt(pos []uint32, n uint32) uint32 {
	fast := s.addTotal(n)
	c := s.counters
	est := ^uint32(0)
	if s.cons {
		for _, i := range pos {
			est = min(est, c[i])
		}
		target := satAdd(est, n)
		for _, i := range pos {
			c[i] = max(c[i], target)
		}
		return target
	}
	for _, i := range pos {
		v := c[i] + n
		if !fast {
			v = satAdd(c[i], n)
		}
		c[i] = v
		est = min(est, v)
	}
	return est
}

// AddBatch adds n occurrences of each key of keys, in order: the sketch
// ends as a loop of [Sketch.Add] over keys leaves it, counter for counter.
// It is the faster of the two when the sketch is larger than the CPU's
// caches, where the cache misses of many keys overlap (see the package
// doc); a packet batch from a ring or a capture is the natural input. It
// never allocates; on the zero Sketch it does nothing.
func (s *Sketch) AddBatch(keys [][]byte, n uint32) {
	if s.depth == 0 || s.depth > MaxDepth {
		return // the zero Sketch; depth > MaxDepth cannot happen
	}
	var g group
	var hs [groupSize]uint64
	for len(keys) > 0 {
		ks := keys[:min(len(keys), groupSize)]
		keys = keys[len(ks):]
		for j, k := range ks {
			hs[j] = flow.Hash64(k, s.seed)
		}
		s.addGroup(&g, hs[:len(ks)], n)
	}
}

// AddHashes is [Sketch.AddBatch] for keys whose hashes under the sketch's
// seed are hs (see [Sketch.Hash]).
func (s *Sketch) AddHashes(hs []uint64, n uint32) {
	if s.depth == 0 || s.depth > MaxDepth {
		return
	}
	var g group
	for len(hs) > 0 {
		h := hs[:min(len(hs), groupSize)]
		hs = hs[len(h):]
		s.addGroup(&g, h, n)
	}
}

// addGroup adds n to each of the keys whose hashes are hs, at most
// groupSize of them, in order.
func (s *Sketch) addGroup(g *group, hs []uint64, n uint32) {
	s.locate(g, hs)
	d := int(s.depth)
	if !s.cons {
		// Standard update with no counter able to saturate (see the
		// invariant on Sketch): one pass over the positions, no estimates.
		t := s.total + uint64(len(hs))*uint64(n)
		if t >= s.total && t <= math.MaxUint32 {
			s.total = t
			c := s.counters
			for _, i := range g.pos[:len(hs)*d] {
				c[i] += n
			}
			return
		}
	}
	for j := range hs {
		s.addAt(g.pos[j*d:(j+1)*d], n)
	}
}

// AddBatch counts n packets (or bytes) of each flow of keys, in order:
// the tracker ends as a loop of [TopK.Add] over keys leaves it, sketch
// and leaders alike. Like [Sketch.AddBatch] it is the faster of the two
// when the sketch is larger than the CPU's caches. Invalid keys are
// ignored, as Add ignores them, and the zero TopK ignores every key. It
// never allocates.
func (t *TopK) AddBatch(keys []flow.Key, n uint32) {
	s := t.sketch
	if s == nil || s.depth == 0 || s.depth > MaxDepth || n == 0 {
		return // the zero TopK; the rest cannot happen; 0 counts nothing (see Add)
	}
	var g group
	var hs [groupSize]uint64
	var at [groupSize]int32 // position in keys of the group's j-th flow
	for len(keys) > 0 {
		ks := keys[:min(len(keys), groupSize)]
		keys = keys[len(ks):]
		m := 0
		for j := range ks {
			if ks[j].IsValid() {
				hs[m], at[m] = ks[j].Hash(s.seed), int32(j)
				m++
			}
		}
		s.locate(&g, hs[:m])
		d := int(s.depth)
		for j := range m {
			est := s.addAt(g.pos[j*d:(j+1)*d], n)
			t.offer(&ks[at[j]], hs[j], est)
		}
	}
}
