package bloom

import (
	"encoding/binary"
	"math/rand/v2"
)

// randomKeys returns n distinct 13-byte keys (the IPv4 flow key length) from
// a PCG seeded with seed; keys from different seeds are distinct too, with
// overwhelming probability, since each key holds 64 random bits and the seed.
func randomKeys(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x626c6f6f6d))
	keys := make([][]byte, n)
	buf := make([]byte, 13*n)
	for i := range keys {
		k := buf[13*i : 13*i+13 : 13*i+13]
		binary.LittleEndian.PutUint64(k, r.Uint64())
		binary.LittleEndian.PutUint32(k[8:], uint32(seed))
		k[12] = byte(i)
		keys[i] = k
	}
	return keys
}

// falsePositives counts the keys of absent that f reports present.
func falsePositives(contains func([]byte) bool, absent [][]byte) int {
	n := 0
	for _, k := range absent {
		if contains(k) {
			n++
		}
	}
	return n
}
