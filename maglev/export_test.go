package maglev

// Populate exposes the filling loop so tests can inject the paper's offsets
// and skips.
func Populate(entries []uint32, offsets, skips, weights []uint32) {
	populate(entries, offsets, skips, weights)
}

// Permutation exposes a backend's (offset, skip).
func Permutation(name string, seed uint64, m uint32) (uint32, uint32) {
	return permutation(name, seed, m)
}
