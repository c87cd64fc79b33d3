package maglev

// Picker is what the measuring helpers need: a backend choice for a flow
// hash, and the backend's name so two pickers with different backend lists
// can be compared. [Table] and [Ring] are Pickers.
type Picker interface {
	Pick(h uint64) (int, bool)
	Backend(i int) Backend
}

var (
	_ Picker = (*Table)(nil)
	_ Picker = (*Ring)(nil)
)

// Shares returns the fraction of the hash space each backend of t owns:
// Count(i)/M. The exact fraction differs from it by less than 1/2^32 per
// entry, because Pick reduces the high 32 bits of the hash.
func (t *Table) Shares() []float64 {
	s := make([]float64, len(t.counts))
	for i, c := range t.counts {
		s[i] = float64(c) / float64(len(t.entries))
	}
	return s
}

// MaxMean returns the largest load over the mean load (1 is perfect
// balance; the paper's overprovisioning is MaxMean - 1). It returns 0 for
// no load. Loads are counts or shares: finite and not negative (an
// infinite load gives NaN).
func MaxMean(loads []float64) float64 {
	var sum, hi float64
	for _, l := range loads {
		sum += l
		if l > hi {
			hi = l
		}
	}
	if sum == 0 {
		return 0
	}
	return hi * float64(len(loads)) / sum
}

// Tally returns, for n backends, how many of hashes p sends to each
// backend (hashes p has no backend for, or whose index is n or more, are
// not counted). A nil p routes no hash, as in [MovedFlows]. An n below 1
// means no backend: the result is empty. The result's n counts are
// allocated up front: n is the number of backends, not a bound on it.
func Tally(p Picker, n int, hashes []uint64) []float64 {
	p = orEmpty(p)
	counts := make([]float64, max(n, 0))
	for _, h := range hashes {
		if i, ok := p.Pick(h); ok && i < n {
			counts[i]++
		}
	}
	return counts
}

// MovedFlows returns the fraction of hashes whose backend name differs
// between a and b (a flow with no backend in one of them counts as moved
// unless it has none in both). A nil Picker, or a nil *Table or *Ring in
// one, routes no hash, as a nil table does for [Moved].
func MovedFlows(a, b Picker, hashes []uint64) float64 {
	if len(hashes) == 0 {
		return 0
	}
	a, b = orEmpty(a), orEmpty(b)
	moved := 0
	for _, h := range hashes {
		i, okA := a.Pick(h)
		j, okB := b.Pick(h)
		switch {
		case okA != okB:
			moved++
		case okA && a.Backend(i).Name != b.Backend(j).Name:
			moved++
		}
	}
	return float64(moved) / float64(len(hashes))
}

// orEmpty returns p, or the zero Table when p is nil or holds a nil
// *Table or *Ring: a Picker that routes nothing.
func orEmpty(p Picker) Picker {
	switch q := p.(type) {
	case nil:
		return &Table{}
	case *Table:
		if q == nil {
			return &Table{}
		}
	case *Ring:
		if q == nil {
			return &Table{}
		}
	}
	return p
}

// Moved returns the exact fraction of the hash space whose backend (by
// name) differs between tables a and b, which may have different sizes.
// Entry j of a table of size M receives the hashes whose high 32 bits x
// satisfy floor(x*M/2^32) = j, that is x in [ceil(j*2^32/M),
// ceil((j+1)*2^32/M)); Moved sweeps both partitions together. A hash
// that neither table routes has not moved, as in [MovedFlows]. A nil
// table counts as the zero Table, which routes nothing.
func Moved(a, b *Table) float64 {
	if a == nil {
		a = &Table{}
	}
	if b == nil {
		b = &Table{}
	}
	ae, be := a.entries, b.entries
	if len(ae) == 0 && len(be) == 0 {
		return 0
	}
	// A table of no entries routes no hash: sweep it as one entry of
	// NoBackend, so that only the other table's routed space counts as
	// moved (none of it when every backend there is drained).
	none := []uint32{NoBackend}
	if len(ae) == 0 {
		ae = none
	}
	if len(be) == 0 {
		be = none
	}
	ma, mb := uint64(len(ae)), uint64(len(be))
	// Translate a's backend indexes to b's.
	tr := make([]uint32, len(a.backends))
	for i, be := range a.backends {
		if j := b.Index(be.Name); j >= 0 {
			tr[i] = uint32(j)
		} else {
			tr[i] = NoBackend - 1 // matches nothing in b
		}
	}
	const space = uint64(1) << 32
	start := func(j, m uint64) uint64 { return (j*space + m - 1) / m } // ceil(j*2^32/m)
	var moved uint64
	var ja, jb uint64
	x := uint64(0)
	for x < space {
		endA, endB := start(ja+1, ma), start(jb+1, mb)
		end := min(endA, endB)
		ea, eb := ae[ja], be[jb]
		if ea != NoBackend {
			ea = tr[ea]
		}
		if ea != eb {
			moved += end - x
		}
		x = end
		if endA == end {
			ja++
		}
		if endB == end {
			jb++
		}
	}
	return float64(moved) / float64(space)
}
