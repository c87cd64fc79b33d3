package maglev

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
// M*w_i/W rounded by the Sainte-Lague (Webster) divisor method: within about
// one entry of its exact share. With equal weights the order is plain round
// robin, which is the paper's loop, and that case takes a fast path.
//
// Memory: no N x M permutation array. Each backend keeps only its current
// position and skip (the position advances by skip mod M), plus one bit per
// entry for "taken": M/8 + 12*N bytes of scratch (20 KiB for N = 1000,
// M = 65537).
func populate(entries []uint32, offsets, skips, weights []uint32) {
	m := uint32(len(entries))
	for j := range entries {
		entries[j] = NoBackend
	}
	type cursor struct{ pos, skip, id uint32 }
	var cur []cursor
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
		cur = append(cur, cursor{offsets[i], skips[i], uint32(i)})
	}
	if len(cur) == 0 {
		return
	}
	taken := make([]uint64, (m+63)/64)
	// claim gives backend c the next empty entry of its permutation.
	claim := func(c *cursor) {
		pos, skip := c.pos, c.skip
		for taken[pos>>6]&(1<<(pos&63)) != 0 {
			pos += skip
			if pos >= m {
				pos -= m
			}
		}
		taken[pos>>6] |= 1 << (pos & 63)
		entries[pos] = c.id
		pos += skip
		if pos >= m {
			pos -= m
		}
		c.pos = pos
	}
	if equal {
		filled := uint32(0)
		for {
			for i := range cur {
				claim(&cur[i])
				filled++
				if filled == m {
					return
				}
			}
		}
	}
	// Weighted: a binary min-heap of active backends keyed by the time of
	// their next turn, (2*k+1)/w compared exactly in integers as
	// (2*k_a+1)*w_b < (2*k_b+1)*w_a (k < 2^23 and w < 2^32 fit in 64 bits).
	type turn struct {
		odd uint64 // 2*k+1
		w   uint64
		c   uint32 // index in cur
	}
	less := func(a, b turn) bool {
		x, y := a.odd*b.w, b.odd*a.w
		if x != y {
			return x < y
		}
		return cur[a.c].id < cur[b.c].id
	}
	h := make([]turn, len(cur))
	for i := range cur {
		h[i] = turn{1, uint64(weights[cur[i].id]), uint32(i)}
	}
	down := func(i int) {
		n := len(h)
		for {
			l := 2*i + 1
			if l >= n {
				return
			}
			s := l
			if r := l + 1; r < n && less(h[r], h[l]) {
				s = r
			}
			if !less(h[s], h[i]) {
				return
			}
			h[i], h[s] = h[s], h[i]
			i = s
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for filled := uint32(0); filled < m; filled++ {
		claim(&cur[h[0].c])
		h[0].odd += 2
		down(0)
	}
}
