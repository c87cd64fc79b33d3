package maglev

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dataplane-go/dataplane/flow"
)

// Backend is a destination of a [Table] or a [Ring].
type Backend struct {
	// Name identifies the backend (for example "10.1.0.7:80"): 1 to
	// MaxNameLen bytes, unique in a table. Only the name is hashed, so the
	// same name gets the same preference list on every node.
	Name string
	// Weight is the backend's relative share. Zero drains the backend: it
	// keeps its index but owns no entry (no new flows; connection tracking
	// keeps the established ones).
	Weight uint32
}

// Backends returns one backend of weight 1 per name.
func Backends(names ...string) []Backend {
	bs := make([]Backend, len(names))
	for i, n := range names {
		bs[i] = Backend{Name: n, Weight: 1}
	}
	return bs
}

// Table is an immutable Maglev lookup table: M entries, each the index of
// a backend in [Table.Backends] (sorted by name), or NoBackend when no
// backend has a weight.
//
// The zero value is an empty table whose Pick always reports false. A
// Table never changes after [New] returns it, so any number of goroutines
// may call its methods; to change the backends, build a new table with
// [Table.Update] and publish it with an atomic pointer swap (see the
// package documentation).
type Table struct {
	size     uint32
	seed     uint64
	backends []Backend // sorted by name
	entries  []uint32  // len size; index into backends or NoBackend
	counts   []uint32  // entries owned per backend
}

// New builds the table of the given backends. The order of backends does
// not matter: they are sorted by name first, so every node given the same
// set, weights and seed builds the same table, and [Table.Pick] returns
// indexes into that sorted list ([Table.Backends], [Table.Backend]), not
// into backends.
//
// A backend of weight 0 owns no entry (it is drained), and so does one
// whose weight is too small a part of the total to round to one entry
// (about w < W/(2M); see the package documentation). A table whose
// backends all have weight 0 is valid and routes nothing: Pick reports
// false for every flow. Backend literals without a Weight do exactly that;
// [Backends] gives each name weight 1.
func New(p Params, backends []Backend) (*Table, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	bs, err := checkBackends(backends)
	if err != nil {
		return nil, err
	}
	m := p.size()
	active := 0
	for _, b := range bs {
		if b.Weight != 0 {
			active++
		}
	}
	if active > int(m) {
		return nil, fmt.Errorf("maglev: %d backends with a weight do not fit a table of size %d (need at most one per entry, ideally size > 100 per backend)", active, m)
	}
	t := &Table{size: m, seed: p.Seed, backends: bs}
	t.entries = make([]uint32, m)
	t.counts = make([]uint32, len(bs))
	offsets, skips := make([]uint32, len(bs)), make([]uint32, len(bs))
	for i, b := range bs {
		offsets[i], skips[i] = permutation(b.Name, p.Seed, m)
	}
	weights := make([]uint32, len(bs))
	for i, b := range bs {
		weights[i] = b.Weight
	}
	populate(t.entries, t.counts, offsets, skips, weights)
	return t, nil
}

// MustNew is New for tests and literals: it panics on error.
func MustNew(p Params, backends []Backend) *Table {
	t, err := New(p, backends)
	if err != nil {
		panic(err)
	}
	return t
}

// Update returns a new table with the same size and seed as t and the
// given backends. t is not modified; readers holding t keep using it. On
// the zero Table, whose Params are zero, it builds a table of the default
// size with seed 0, as New(Params{}, backends) does.
func (t *Table) Update(backends []Backend) (*Table, error) {
	return New(t.Params(), backends)
}

// checkBackends validates and returns a sorted copy.
func checkBackends(backends []Backend) ([]Backend, error) {
	if len(backends) > MaxSize {
		return nil, fmt.Errorf("maglev: at most %d backends, got %d", MaxSize, len(backends))
	}
	bs := slices.Clone(backends)
	for i, b := range bs {
		if len(b.Name) == 0 || len(b.Name) > MaxNameLen {
			return nil, fmt.Errorf("maglev: backend %d: name must be 1 to %d bytes, got %d", i, MaxNameLen, len(b.Name))
		}
	}
	slices.SortFunc(bs, func(a, b Backend) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(bs); i++ {
		if bs[i].Name == bs[i-1].Name {
			return nil, fmt.Errorf("maglev: backend name %q appears twice; names must be unique", bs[i].Name)
		}
	}
	return bs, nil
}

// permutation returns a backend's offset and skip (section 3.4):
//
//	offset = h1(name) mod M,  skip = h2(name) mod (M-1) + 1
//
// with h1 and h2 two derived hashes of the seeded xxHash64 of the name
// (flow.Mix(h, 0) and flow.Mix(h, 1)). permutation[j] = (offset + j*skip)
// mod M visits every entry because M is prime.
func permutation(name string, seed uint64, m uint32) (offset, skip uint32) {
	h := flow.Hash64([]byte(name), seed)
	offset = uint32(flow.Mix(h, 0) % uint64(m))
	skip = uint32(flow.Mix(h, 1)%uint64(m-1)) + 1
	return offset, skip
}

// Pick returns the index in [Table.Backends] (sorted by name: use
// [Table.Backend] for the backend itself) of the backend of the flow
// whose hash is h: entries[Reduce(h, M)], where Reduce(h, M) =
// ((h>>32) * M) >> 32 as in [flow.Reduce] and in the kernel. ok is false
// when the table has no backend with a weight. Pick never allocates.
func (t *Table) Pick(h uint64) (i int, ok bool) {
	e := t.entries
	j := flow.Reduce(h, uint32(len(e)))
	if int(j) < len(e) {
		if v := e[j]; v != NoBackend {
			return int(v), true
		}
	}
	return -1, false
}

// PickKey is Pick of k.Hash(seed): the flow hash the kernel computes with
// the same seed. The table's seed (for backend names) and the flow seed
// are independent parameters. A nil k is no flow: ok is false. The zero
// Key (or another invalid one) is not checked, to keep the per-packet
// call lean: it hashes like any other key and gets a backend.
func (t *Table) PickKey(k *flow.Key, seed uint64) (int, bool) {
	if k == nil {
		return -1, false
	}
	return t.Pick(k.Hash(seed))
}

// Params returns the table's size and seed.
func (t *Table) Params() Params { return Params{Size: t.size, Seed: t.seed} }

// Size returns M, the number of entries (0 for the zero Table).
func (t *Table) Size() int { return len(t.entries) }

// Len returns the number of backends, drained ones included.
func (t *Table) Len() int { return len(t.backends) }

// Backend returns the i-th backend (sorted by name). It panics when i is
// out of range [0, Len()), like a slice index: the zero Table has no
// backend.
func (t *Table) Backend(i int) Backend { return t.backends[i] }

// Backends returns a copy of the backends, sorted by name; Pick's results
// index this slice.
func (t *Table) Backends() []Backend { return slices.Clone(t.backends) }

// Index returns the index of the backend called name, or -1.
func (t *Table) Index(name string) int {
	i, ok := slices.BinarySearchFunc(t.backends, name, func(b Backend, n string) int {
		return strings.Compare(b.Name, n)
	})
	if !ok {
		return -1
	}
	return i
}

// Entry returns entry j: a backend index or NoBackend. It panics when j
// is out of range [0, Size()), like a slice index: the zero Table has no
// entry.
func (t *Table) Entry(j int) uint32 { return t.entries[j] }

// AppendEntries appends the M entries to dst: the array the kernel's table
// map holds, one little-endian u32 per entry.
func (t *Table) AppendEntries(dst []uint32) []uint32 { return append(dst, t.entries...) }

// Count returns the number of entries backend i owns. It panics when i is
// out of range [0, Len()), like a slice index.
func (t *Table) Count(i int) int { return int(t.counts[i]) }

// MinMax returns the fewest and the most entries owned by a backend with a
// non-zero weight (0, 0 when there is none). Unweighted, max - min <= 1.
func (t *Table) MinMax() (lo, hi int) {
	first := true
	for i, c := range t.counts {
		if t.backends[i].Weight == 0 {
			continue
		}
		if first || int(c) < lo {
			lo = int(c)
		}
		if first || int(c) > hi {
			hi = int(c)
		}
		first = false
	}
	return lo, hi
}
