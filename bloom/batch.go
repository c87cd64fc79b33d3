package bloom

import "github.com/dataplane-go/dataplane/flow"

// groupSize is how many keys the batch methods take at a time: enough
// that the cache misses of many keys overlap, few enough that their
// positions stay in a small array on the stack.
const groupSize = 16

// RemoveBatch removes one insertion of each key of keys, in order, and
// returns how many it removed. A key that [CountingFilter.Remove] would
// refuse with [ErrNotPresent] is skipped and changes nothing, so the filter
// ends as a loop of Remove over keys leaves it; where you need to know
// which keys were refused, call Remove. RemoveBatch is the faster of the
// two once the counters outgrow the CPU's caches: it computes the counter
// positions of a group of keys first and then updates the counters in a
// loop of a few instructions each, so that the CPU's out-of-order window
// holds the cache misses of many keys at once rather than of one or two.
// It never allocates; the zero CountingFilter removes nothing.
func (f *CountingFilter) RemoveBatch(keys [][]byte) int {
	if f.k == 0 || f.k > MaxHashes {
		return 0 // the zero filter; k > MaxHashes cannot happen
	}
	var pos [groupSize * MaxHashes]uint32
	k, m := int(f.k), uint64(f.m)
	removed := 0
	for len(keys) > 0 {
		g := keys[:min(len(keys), groupSize)]
		keys = keys[len(g):]
		for j, key := range g {
			s := bitsOf(flow.Hash64(key, f.seed))
			p := pos[j*k : (j+1)*k]
			for i := range p {
				p[i] = s.next(m)
			}
		}
		for j := range g {
			if f.removeAt(pos[j*k : (j+1)*k]) {
				removed++
			}
		}
	}
	return removed
}

// removeAt decrements the counters at positions p (a key's k positions)
// as remove does, and reports whether it could; if one is zero it restores
// those it decremented and reports false.
func (f *CountingFilter) removeAt(p []uint32) bool {
	w := f.words
	if f.lgw == 2 {
		for i, j := range p {
			if !decrement4(w, j) {
				f.undoAt(p[:i])
				return false
			}
		}
		return true
	}
	lgc, lgw, max := f.lgc, f.lgw, f.max
	for i, j := range p {
		if !decrement(w, j, lgc, lgw, max) {
			f.undoAt(p[:i])
			return false
		}
	}
	return true
}

// undoAt gives back the one that removeAt took from each counter at p:
// those below max (a saturated counter was never decremented, and a
// counter met twice gets two back).
func (f *CountingFilter) undoAt(p []uint32) {
	for _, j := range p {
		wi, off := f.loc(j)
		if f.words[wi]>>off&f.max != f.max {
			f.words[wi] += 1 << off
		}
	}
}

// AppendContains appends to found, for each key of keys in order, whether
// the key may have been added (what [Blocked.Contains] reports), and
// returns the extended slice; pass found[:0] of a slice with room for
// len(keys) answers, and it never allocates. It is faster than a loop of
// Contains once the filter outgrows the CPU's caches: it hashes a group of
// keys first and then tests them in a loop of a few instructions each, so
// that the CPU's out-of-order window holds the block loads of many keys at
// once rather than of one or two. The zero Blocked contains no key.
func (f *Blocked) AppendContains(found []bool, keys [][]byte) []bool {
	var hs [groupSize]uint64
	for len(keys) > 0 {
		var n int
		n, keys = hashGroup(&hs, keys, f.seed)
		for _, h := range hs[:n] {
			found = append(found, f.contains(nil, h, false))
		}
	}
	return found
}

// AppendContains appends to found, for each key of keys in order, whether
// the key may have been added (what [Filter.Contains] reports), and
// returns the extended slice; see [Blocked.AppendContains], which it
// mirrors. The zero Filter contains no key.
func (f *Filter) AppendContains(found []bool, keys [][]byte) []bool {
	var hs [groupSize]uint64
	for len(keys) > 0 {
		var n int
		n, keys = hashGroup(&hs, keys, f.seed)
		for _, h := range hs[:n] {
			found = append(found, f.contains(nil, h, false))
		}
	}
	return found
}

// hashGroup hashes the first groupSize keys (all of them, if fewer) into
// hs and returns how many it hashed and the keys left.
func hashGroup(hs *[groupSize]uint64, keys [][]byte, seed uint64) (int, [][]byte) {
	g := keys[:min(len(keys), groupSize)]
	for j, key := range g {
		hs[j] = flow.Hash64(key, seed)
	}
	return len(g), keys[len(g):]
}
