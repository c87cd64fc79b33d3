package maglev

// Populate exposes the filling loop so tests can inject the paper's offsets
// and skips.
func Populate(entries []uint32, offsets, skips, weights []uint32) {
	populate(entries, make([]uint32, len(weights)), offsets, skips, weights)
}

// PopulateCounts is Populate that also returns the entries per backend.
func PopulateCounts(entries []uint32, offsets, skips, weights []uint32) []uint32 {
	counts := make([]uint32, len(weights))
	populate(entries, counts, offsets, skips, weights)
	return counts
}

// Permutation exposes a backend's (offset, skip).
func Permutation(name string, seed uint64, m uint32) (uint32, uint32) {
	return permutation(name, seed, m)
}

// RingFromPoints builds a ring over the given points, sorted with ties in
// owner order, so tests can aim the lookup index at hard cases.
func RingFromPoints(backends []Backend, points []uint64, owners []uint32) *Ring {
	r := &Ring{backends: backends}
	r.buildIndex(len(points), func(j int) (uint64, uint32) { return points[j], owners[j] })
	return r
}
