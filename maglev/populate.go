package maglev

import "math/bits"

// populate fills entries (len M, M prime) with Pseudocode 1 of the paper:
// backends take turns, and at its turn a backend claims the next entry of
// its permutation (offset + j*skip) mod M that is still empty, until every
// entry is owned. Backends are identified by their position in offsets,
// skips and weights; weight 0 takes no turn.
//
// Weights (the paper leaves them open): backend i takes its k-th turn
// (k = 0, 1, ...) at virtual time (k + 1/2) / w_i, turns in increasing time
// and ties in index order. Every turn claims exactly one entry, so backend
// i ends with the number of turns it had when the table filled up, which is
// M*w_i/W rounded by the Sainte-Lague (Webster) divisor method: w_i/D
// rounded to nearest for one divisor D, within half an entry of the share
// at that divisor (D is not exactly W/M, so the roundings of many small
// backends can add up on a large one; see the package doc). With equal
// weights the order is plain round robin, which is the paper's loop, and
// that case takes a fast path.
//
// Memory: no N x M permutation array. Each backend keeps a cursor (its
// current position, and skip, 2*skip, 3*skip, 4*skip mod M, so that a probe
// computes four positions at once), plus one bit per entry for "taken":
// M/8 + 28*N bytes of scratch (35 KiB for N = 1000, M = 65537), 24*N more
// for the heap of a weighted fill, and at most 4*tail bytes at the end
// (see filler.tail).
//
// populate also sets counts[i] (len(weights) of them) to the number of
// entries backend i owns, which is the number of turns it took.
func populate(entries, counts []uint32, offsets, skips, weights []uint32) {
	m := uint32(len(entries))
	clear(counts)
	cur := make([]cursor, 0, len(weights))
	var w0 uint32
	equal := true
	for i, w := range weights {
		if w == 0 {
			continue
		}
		if w0 == 0 {
			w0 = w
		} else if w != w0 {
			equal = false
		}
		s := skips[i]
		s2 := advance(s, s, m)
		cur = append(cur, cursor{pos: offsets[i], id: uint32(i),
			step: [4]uint32{s, s2, advance(s2, s, m), advance(s2, s2, m)}})
	}
	if len(cur) == 0 {
		for j := range entries {
			entries[j] = NoBackend
		}
		return
	}
	f := &filler{entries: entries, taken: make([]uint64, (m+63)/64), m: m, left: m,
		tail: min(isqrt(m), m)}
	if equal {
		f.roundRobin(cur)
		// Round robin from the first backend: each takes M/n turns, and
		// the first M mod n one more.
		n := uint32(len(cur))
		for i, c := range cur {
			counts[c.id] = m / n
			if uint32(i) < m%n {
				counts[c.id]++
			}
		}
		return
	}
	// Weighted: a binary min-heap of active backends keyed by the time of
	// their next turn, (2*k+1)/w compared exactly in integers as
	// (2*k_a+1)*w_b < (2*k_b+1)*w_a (k < 2^23 and w < 2^32 fit in 64 bits).
	type turn struct {
		odd uint64 // 2*k+1
		w   uint64
		id  uint32 // backend index: ties go to the lower one
		c   uint32 // index in cur
	}
	less := func(a, b *turn) bool {
		x, y := a.odd*b.w, b.odd*a.w
		return x < y || (x == y && a.id < b.id)
	}
	h := make([]turn, len(cur))
	for i := range cur {
		h[i] = turn{1, uint64(weights[cur[i].id]), cur[i].id, uint32(i)}
	}
	down := func(i int) {
		n := len(h)
		x := h[i]
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			s := l
			if r := l + 1; r < n && less(&h[r], &h[l]) {
				s = r
			}
			if !less(&h[s], &x) {
				break
			}
			h[i] = h[s]
			i = s
		}
		h[i] = x
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for f.left > 0 {
		f.claim(&cur[h[0].c])
		h[0].odd += 2
		down(0)
	}
	for _, t := range h {
		counts[t.id] = uint32(t.odd / 2) // odd = 2*turns + 1
	}
}

// A cursor is a backend's place in its permutation: pos is the next entry
// it prefers, step[j] = (j+1)*skip mod M, inv = skip^-1 mod M once needed
// (0 before).
type cursor struct {
	pos, id, inv uint32
	step         [4]uint32
}

// A filler holds the state of one table fill. Claims go through three
// phases by the number of empty entries left; each gives the same entry,
// the first empty one of the backend's permutation from its position,
// found in the way that is cheapest at that fill level:
//
//   - more than half empty (round robin only; weighted fills start with
//     the second phase): test one position at a time, the first is
//     usually empty;
//   - down to tail empty: test four positions per step without a branch
//     between them (a backend probes M/left positions on average, and the
//     loop's exit, the one unpredictable branch, is then taken once per
//     four probes);
//   - the last tail: compute for every empty entry e how many skips
//     separate it from the backend's position, k = (e - pos) * skip^-1
//     mod M, and take the smallest k, in left steps instead of M/left.
//
// tail = sqrt(M) is about where the last two cost the same (measured at
// M = 65537: about 4 ns per probe against 1.5 ns per empty entry).
type filler struct {
	entries []uint32
	taken   []uint64 // bit j: entries[j] is owned
	empty   []uint32 // the empty entries, once left <= tail
	m, left uint32
	tail    uint32
}

// roundRobin fills the table with equal weights: the paper's loop. The
// first two phases are written out so the counters stay in registers.
func (f *filler) roundRobin(cur []cursor) {
	m, taken, entries := f.m, f.taken, f.entries
	i, n := 0, len(cur)
	left := f.left
	for left > m/2 {
		c := &cur[i]
		pos, skip := c.pos, c.step[0]
		for taken[pos>>6]&(1<<(pos&63)) != 0 {
			pos = advance(pos, skip, m)
		}
		taken[pos>>6] |= 1 << (pos & 63)
		entries[pos] = c.id
		c.pos = advance(pos, skip, m)
		left--
		if i++; i == n {
			i = 0
		}
	}
	for left > f.tail {
		c := &cur[i]
		pos := f.probe(c)
		taken[pos>>6] |= 1 << (pos & 63)
		entries[pos] = c.id
		c.pos = advance(pos, c.step[0], m)
		left--
		if i++; i == n {
			i = 0
		}
	}
	f.left = left
	for f.left > 0 {
		f.claim(&cur[i])
		if i++; i == n {
			i = 0
		}
	}
}

// claim gives backend c the next empty entry of its permutation.
func (f *filler) claim(c *cursor) {
	var pos uint32
	switch {
	case f.left > f.tail:
		pos = f.probe(c)
		f.taken[pos>>6] |= 1 << (pos & 63)
	default:
		pos = f.nearest(c)
	}
	f.left--
	f.entries[pos] = c.id
	c.pos = advance(pos, c.step[0], f.m)
}

// probe returns the first entry not marked taken among c.pos, c.pos+skip,
// c.pos+2*skip, ... (mod M), testing four positions per step.
func (f *filler) probe(c *cursor) uint32 {
	m, taken := f.m, f.taken
	pos := c.pos
	s := &c.step
	for {
		p := [4]uint32{pos, advance(pos, s[0], m), advance(pos, s[1], m), advance(pos, s[2], m)}
		full := uint(taken[p[0]>>6]>>(p[0]&63)&1) | uint(taken[p[1]>>6]>>(p[1]&63)&1)<<1 |
			uint(taken[p[2]>>6]>>(p[2]&63)&1)<<2 | uint(taken[p[3]>>6]>>(p[3]&63)&1)<<3
		if full != 15 {
			return p[bits.TrailingZeros(^full)&3]
		}
		pos = advance(pos, s[3], m)
	}
}

// nearest returns the empty entry that c's permutation reaches first, and
// removes it from f.empty: the entry e with the smallest
// k = (e - pos) * skip^-1 mod M.
func (f *filler) nearest(c *cursor) uint32 {
	m := f.m
	if f.empty == nil {
		f.empty = make([]uint32, 0, f.left)
		for w, t := range f.taken {
			for free := ^t; free != 0; free &= free - 1 {
				if j := uint32(w*64 + bits.TrailingZeros64(free)); j < m {
					f.empty = append(f.empty, j)
				}
			}
		}
	}
	if c.inv == 0 {
		c.inv = modInverse(c.step[0], m)
	}
	// k = x mod M for x = (e + M - pos) * inv < 2M*M < 2^47, by Barrett
	// reduction with r = floor(2^64 / M): q = x*r >> 64 is floor(x/M) or
	// one less, so x - q*M is k or k + M. The running minimum keeps
	// k<<32 | index, so the smallest k wins (k is unique: e -> k is a
	// bijection).
	r := ^uint64(0) / uint64(m)
	base := uint64(m) - uint64(c.pos)
	inv := uint64(c.inv)
	best := ^uint64(0)
	for x, e := range f.empty {
		v := (uint64(e) + base) * inv
		q, _ := bits.Mul64(v, r)
		k := v - q*uint64(m)
		if k >= uint64(m) {
			k -= uint64(m)
		}
		best = min(best, k<<32|uint64(x))
	}
	x := uint32(best)
	pos := f.empty[x]
	f.empty[x] = f.empty[len(f.empty)-1]
	f.empty = f.empty[:len(f.empty)-1]
	return pos
}

// advance returns (pos + skip) mod m for pos, skip < m < 2^31 without a
// branch: the wrap is taken for about half of all skips, so a branch would
// be mispredicted on about half of the probes.
func advance(pos, skip, m uint32) uint32 {
	p := pos + skip - m // negative (as int32) when no wrap is needed
	return p + m&uint32(int32(p)>>31)
}

func isqrt(n uint32) uint32 {
	r := uint32(0)
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

// modInverse returns a^-1 mod m for a in [1, m), m prime.
func modInverse(a, m uint32) uint32 {
	// Extended Euclid: keep t with t*a = r (mod m).
	t, nt := int64(0), int64(1)
	r, nr := int64(m), int64(a)
	for nr != 0 {
		q := r / nr
		t, nt = nt, t-q*nt
		r, nr = nr, r-q*nr
	}
	if t < 0 {
		t += int64(m)
	}
	return uint32(t)
}
