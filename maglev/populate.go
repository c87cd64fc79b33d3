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
// entry for "taken": M/8 + 16*N bytes of scratch (24 KiB for N = 1000,
// M = 65537).
func populate(entries []uint32, offsets, skips, weights []uint32) {
	m := uint32(len(entries))
	for j := range entries {
		entries[j] = NoBackend
	}
	type cursor struct{ pos, skip, id, inv uint32 }
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
		cur = append(cur, cursor{offsets[i], skips[i], uint32(i), 0})
	}
	if len(cur) == 0 {
		return
	}
	taken := make([]uint64, (m+63)/64)
	// The last entries are the expensive ones: with E entries left, a
	// backend probes M/E positions on average before finding one. Below
	// tail empty entries, claim instead computes for every empty entry e
	// how many skips separate it from the backend's position,
	// k = (e - pos) * skip^-1 mod M, and takes the smallest k: the same
	// entry the probing would reach, in E steps instead of M/E.
	tail := isqrt(m) / 2
	left := m
	var empty []uint32
	// claim gives backend c the next empty entry of its permutation.
	claim := func(c *cursor) {
		pos, skip := c.pos, c.skip
		if left > tail {
			for taken[pos>>6]&(1<<(pos&63)) != 0 {
				pos += skip
				if pos >= m {
					pos -= m
				}
			}
			taken[pos>>6] |= 1 << (pos & 63)
		} else {
			if empty == nil {
				empty = make([]uint32, 0, left)
				for j := uint32(0); j < m; j++ {
					if taken[j>>6]&(1<<(j&63)) == 0 {
						empty = append(empty, j)
					}
				}
			}
			if c.inv == 0 {
				c.inv = modInverse(skip, m)
			}
			best, bestK := 0, uint64(m)
			for x, e := range empty {
				d := uint64(e) + uint64(m) - uint64(pos)
				if e >= pos {
					d = uint64(e - pos)
				}
				if k := d * uint64(c.inv) % uint64(m); k < bestK {
					best, bestK = x, k
				}
			}
			pos = empty[best]
			empty[best] = empty[len(empty)-1]
			empty = empty[:len(empty)-1]
		}
		left--
		entries[pos] = c.id
		pos += skip
		if pos >= m {
			pos -= m
		}
		c.pos = pos
	}
	if equal {
		// Round robin. The probing phase is written out (no closure) so
		// the cursor and the counters stay in registers.
		i, n := 0, len(cur)
		for left > tail {
			c := &cur[i]
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
			left--
			if i++; i == n {
				i = 0
			}
		}
		for left > 0 {
			claim(&cur[i])
			if i++; i == n {
				i = 0
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
	for filled := uint32(0); filled < m; filled++ {
		claim(&cur[h[0].c])
		h[0].odd += 2
		down(0)
	}
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
