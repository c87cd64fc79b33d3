package bloom

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// refCounting is the obviously right counting filter: a slice of ints.
type refCounting struct {
	c    []int
	max  int
	k    int
	seed uint64
}

func (r *refCounting) positions(key []byte) []uint32 {
	return refPositions(key, uint32(len(r.c)), r.k, r.seed)
}

func (r *refCounting) add(key []byte) {
	for _, j := range r.positions(key) {
		if r.c[j] < r.max {
			r.c[j]++
		}
	}
}

// remove succeeds when every position not saturated holds at least as many
// counts as the key has positions there; then it takes them.
func (r *refCounting) remove(key []byte) bool {
	mult := map[uint32]int{}
	for _, j := range r.positions(key) {
		mult[j]++
	}
	for j, n := range mult {
		if r.c[j] != r.max && r.c[j] < n {
			return false
		}
	}
	for j, n := range mult {
		if r.c[j] != r.max {
			r.c[j] -= n
		}
	}
	return true
}

func TestCounting_MatchesReference(t *testing.T) {
	for _, tc := range []struct {
		m, k, width int
	}{{3, 8, 4}, {17, 4, 4}, {100, 7, 8}, {64, 3, 16}, {1000, 5, 4}, {1, 1, 4}, {50, 13, 4}, {30, 6, 8}, {40, 10, 16}} {
		c := MustNewCounting(Params{Bits: uint64(tc.m), Hashes: tc.k, Seed: 5}, tc.width)
		ref := &refCounting{c: make([]int, tc.m), max: 1<<tc.width - 1, k: tc.k, seed: 5}
		keys := randomKeys(40, uint64(tc.m))
		r := rand.New(rand.NewPCG(uint64(tc.m), uint64(tc.k)))
		for op := 0; op < 5000; op++ {
			key := keys[r.IntN(len(keys))]
			if r.IntN(2) == 0 {
				c.Add(key)
				ref.add(key)
			} else {
				err := c.Remove(key)
				if ok := ref.remove(key); ok != (err == nil) {
					t.Fatalf("%+v op %d: Remove = %v, reference ok = %v", tc, op, err, ok)
				}
				if err != nil && !errors.Is(err, ErrNotPresent) {
					t.Fatalf("Remove error %v", err)
				}
			}
			for j := range ref.c {
				if got := c.Counter(uint32(j)); got != uint64(ref.c[j]) {
					t.Fatalf("%+v op %d: counter %d = %d, reference %d", tc, op, j, got, ref.c[j])
				}
			}
		}
	}
}

// TestCounting_NoFalseNegatives: keys added and not removed stay present
// through removals of other keys and saturation.
func TestCounting_NoFalseNegatives(t *testing.T) {
	for _, width := range []int{4, 8} {
		p := ParamsFor(2000, 0.01)
		p.Bits /= 4 // overload the filter so counters saturate
		c := MustNewCounting(p, width)
		keys := randomKeys(4000, 50)
		r := rand.New(rand.NewPCG(50, uint64(width)))
		times := make([]int, len(keys))
		for i := range keys {
			times[i] = 1 + r.IntN(40) // up to 40 copies: 4-bit counters saturate
			for n := 0; n < times[i]; n++ {
				c.Add(keys[i])
			}
		}
		if width == 4 && c.Saturated() == 0 {
			t.Fatal("no saturated counter: the test does not exercise saturation")
		}
		// Remove every copy of the even keys.
		for i := 0; i < len(keys); i += 2 {
			for n := 0; n < times[i]; n++ {
				if err := c.Remove(keys[i]); err != nil && n == 0 {
					t.Fatalf("width %d: first Remove of added key %d: %v", width, i, err)
				}
			}
		}
		for i := 1; i < len(keys); i += 2 {
			if !c.Contains(keys[i]) {
				t.Fatalf("width %d: false negative for key %d", width, i)
			}
			if got := c.Count(keys[i]); got < uint64(min(times[i], 1<<width-1)) {
				t.Fatalf("width %d: Count = %d below %d", width, got, times[i])
			}
		}
		if !c.Filter().Contains(keys[1]) {
			t.Fatal("Filter() lost a key")
		}
	}
}

func TestCounting_RemoveAbsent(t *testing.T) {
	c := MustNewCounting(ParamsFor(1000, 0.01), 4)
	keys := randomKeys(1000, 60)
	for _, k := range keys[:500] {
		c.Add(k)
	}
	before := c.Clone()
	n := 0
	for _, k := range keys[500:] {
		err := c.Remove(k)
		if err == nil {
			// A false positive cannot be told apart from a member; put its
			// counts back and go on.
			c.Add(k)
			continue
		}
		n++
		if !errors.Is(err, ErrNotPresent) || err.Error() != "bloom: remove of a key that is not in the filter" {
			t.Fatalf("Remove(absent) = %v", err)
		}
		if !slicesEqual(c.Words(), before.Words()) {
			t.Fatal("failed Remove changed the counters")
		}
	}
	if n < 450 {
		t.Fatalf("only %d of 500 absent keys were reported absent", n)
	}
}

func TestCounting_ToFilter(t *testing.T) {
	p := ParamsFor(1000, 0.01)
	p.Seed = 77
	c := MustNewCounting(p, 8)
	f := MustNew(p)
	keys := randomKeys(1000, 70)
	for i, k := range keys {
		c.Add(k)
		if i%3 != 0 {
			f.Add(k)
		}
	}
	for i := 0; i < len(keys); i += 3 {
		if err := c.Remove(keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	// No saturation with 8-bit counters here, so the plain filter of the
	// remaining keys is exactly the non-zero counters.
	if g := c.Filter(); !g.Equal(f) {
		t.Fatal("Filter() differs from the filter of the remaining keys")
	}
	// Count: one insertion of a fresh key in a sparse filter counts 1, three count at least 3.
	d := MustNewCounting(ParamsFor(1000, 0.01), 4)
	d.Add(keys[0])
	if d.Count(keys[0]) != 1 || d.Count(keys[1]) != 0 {
		t.Fatalf("Count = %d, %d", d.Count(keys[0]), d.Count(keys[1]))
	}
	d.Add(keys[0])
	d.Add(keys[0])
	if d.Count(keys[0]) != 3 {
		t.Fatalf("Count after 3 adds = %d", d.Count(keys[0]))
	}
	if d.Width() != 4 || d.Counters() != p.Bits || d.Hashes() != p.Hashes || d.Seed() != 0 || d.SizeBytes() != 8*((int(p.Bits)*4+63)/64) || d.Params().Bits != p.Bits {
		t.Error("accessors")
	}
	d.Reset()
	if d.Count(keys[0]) != 0 {
		t.Error("Reset left counts")
	}
}

// TestCounting_RemoveRepeatedPosition: a key whose k positions repeat a
// counter needs that counter to hold the repeat count. With one count
// short, Remove reports ErrNotPresent and leaves every counter as it was
// (the decrements already made are undone); with enough, it takes them
// all; a saturated repeated counter stays saturated. Every width and k 2
// to 13 (the unrolled groups of four and the remainders), tiny m so that
// repeats are common.
func TestCounting_RemoveRepeatedPosition(t *testing.T) {
	for _, width := range []int{4, 8, 16} {
		for k := 2; k <= 13; k++ {
			const m = 7
			c := MustNewCounting(Params{Bits: m, Hashes: k, Seed: 9}, width)
			max := uint64(1)<<width - 1
			tested := 0
			for _, key := range randomKeys(200, uint64(k)) {
				mult := map[uint32]uint64{}
				for _, j := range refPositions(key, m, k, 9) {
					mult[j]++
				}
				var rep uint32 // a position the key takes more than once
				found := false
				for j, n := range mult {
					if n > 1 {
						rep, found = j, true
						break
					}
				}
				if !found {
					continue
				}
				tested++
				set := func(j uint32, v uint64) {
					wi, off := c.loc(j)
					c.words[wi] = c.words[wi]&^(max<<off) | v<<off
				}
				// One count short at rep: absent, nothing changes.
				c.Reset()
				for j, n := range mult {
					set(j, n)
				}
				set(rep, mult[rep]-1)
				before := c.Clone()
				if err := c.Remove(key); !errors.Is(err, ErrNotPresent) {
					t.Fatalf("width %d k %d: Remove with counter %d one short = %v", width, k, rep, err)
				}
				if !slicesEqual(c.Words(), before.Words()) {
					t.Fatalf("width %d k %d: failed Remove changed the counters", width, k)
				}
				// Exactly enough: every counter drops to zero.
				set(rep, mult[rep])
				if err := c.Remove(key); err != nil {
					t.Fatalf("width %d k %d: Remove = %v", width, k, err)
				}
				for j := uint32(0); j < m; j++ {
					if c.Counter(j) != 0 {
						t.Fatalf("width %d k %d: counter %d = %d after Remove", width, k, j, c.Counter(j))
					}
				}
				// Saturated at rep: the others drop, rep stays saturated.
				for j, n := range mult {
					set(j, n)
				}
				set(rep, max)
				if err := c.Remove(key); err != nil {
					t.Fatalf("width %d k %d: Remove with saturated counter = %v", width, k, err)
				}
				for j := uint32(0); j < m; j++ {
					want := uint64(0)
					if j == rep {
						want = max
					}
					if c.Counter(j) != want {
						t.Fatalf("width %d k %d: counter %d = %d, want %d", width, k, j, c.Counter(j), want)
					}
				}
				if tested == 20 {
					break
				}
			}
			if tested == 0 {
				t.Fatalf("width %d k %d: no key repeats a position", width, k)
			}
		}
	}
}

// TestCounting_CounterBounds: Counter(j) for j at or past m panics with a
// message naming j and m (it read padding as 0 for j = m and panicked with
// a bare "index out of range" further on).
func TestCounting_CounterBounds(t *testing.T) {
	c := MustNewCounting(Params{Bits: 10, Hashes: 3}, 4)
	c.Add([]byte("k"))
	total := uint64(0)
	for j := uint32(0); j < 10; j++ {
		total += c.Counter(j)
	}
	if total != 3 {
		t.Errorf("counters sum to %d after one Add with k = 3", total)
	}
	for _, j := range []uint32{10, 16, 100, 1<<32 - 1} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if want := fmt.Sprintf("bloom: CountingFilter.Counter(%d) out of range: the filter has 10 counters", j); msg != want {
					t.Errorf("Counter(%d): panic %q, want %q", j, msg, want)
				}
			}()
			c.Counter(j)
		}()
	}
}

// TestCounting_CloneIndependent checks, for each counter width, that Clone
// copies the counters (checkCloneIndependent), and that Remove on the
// clone leaves the original alone too.
func TestCounting_CloneIndependent(t *testing.T) {
	keys, more := randomKeys(300, 70), randomKeys(100, 71)
	for _, width := range []int{4, 8, 16} {
		t.Run(fmt.Sprintf("width=%d", width), func(t *testing.T) {
			p := ParamsFor(500, 0.01)
			p.Seed = 5
			c := MustNewCounting(p, width)
			for _, k := range keys {
				c.Add(k)
			}
			orig := slices.Clone(c.Words())
			d := c.Clone()
			if d.Params() != c.Params() || d.Width() != width {
				t.Fatalf("clone has params %+v and width %d", d.Params(), d.Width())
			}
			if err := d.Remove(keys[0]); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Words(), orig) || c.Count(keys[0]) == 0 {
				t.Fatal("Remove on the clone changed the original")
			}
			checkCloneIndependent(t, fmt.Sprintf("%d-bit counting filter", width), c, more)
		})
	}
}

// TestCounting_SaturatedCount: Saturated counts exactly the counters at
// 2^width - 1, at each width: none of a counter one below, all of the
// saturated ones, and Add and Remove leave them saturated.
func TestCounting_SaturatedCount(t *testing.T) {
	for _, width := range []int{4, 8, 16} {
		c := MustNewCounting(Params{Bits: 100, Hashes: 1, Seed: 3}, width)
		max := uint64(1)<<width - 1
		key := []byte("heavy")
		j := refPositions(key, 100, 1, 3)[0]
		for n := uint64(0); n < max-1; n++ {
			c.Add(key)
		}
		if got := c.Counter(j); got != max-1 || c.Saturated() != 0 {
			t.Fatalf("width %d: counter %d at %d (want %d), Saturated %d, want 0", width, j, got, max-1, c.Saturated())
		}
		c.Add(key)
		c.Add(key) // past the limit: stays saturated
		if got := c.Counter(j); got != max || c.Saturated() != 1 {
			t.Fatalf("width %d: counter %d at %d (want %d), Saturated %d, want 1", width, j, got, max, c.Saturated())
		}
		if err := c.Remove(key); err != nil || c.Counter(j) != max || c.Saturated() != 1 {
			t.Fatalf("width %d: Remove of a saturated key: %v, counter %d, Saturated %d", width, err, c.Counter(j), c.Saturated())
		}
		// Saturate every counter: each is counted once, and the words
		// hold no bit past them (no carry into the padding).
		for i := uint64(0); i < 100; i++ {
			h := (i<<32 + 99) / 100 << 32 // k = 1: counter (h>>32)*100>>32 = i
			for n := uint64(0); n <= max; n++ {
				c.AddHash(h)
			}
		}
		if got := c.Saturated(); got != 100 {
			t.Errorf("width %d: every counter saturated, Saturated %d, want 100", width, got)
		}
		if w := c.Words(); w[len(w)-1]&padMask(100, uint8(width)) != 0 {
			t.Errorf("width %d: saturated counters spilled into the padding: last word %#x", width, w[len(w)-1])
		}
	}
}
