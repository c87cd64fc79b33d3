package flow

import (
	"math/rand/v2"
	"testing"
)

// TestHash64Pair checks the two-seed hash against Hash64 for every key
// length up to 256, including seeds that differ in one bit.
func TestHash64Pair(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 256)
	for n := 0; n <= len(buf); n++ {
		for r := range 4 {
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			s1, s2 := rng.Uint64(), rng.Uint64()
			if r == 0 {
				s2 = s1 ^ 1
			}
			h1, h2 := Hash64Pair(buf[:n], s1, s2)
			if w1, w2 := Hash64(buf[:n], s1), Hash64(buf[:n], s2); h1 != w1 || h2 != w2 {
				t.Fatalf("len %d: Hash64Pair = %#x, %#x; Hash64 = %#x, %#x", n, h1, h2, w1, w2)
			}
		}
	}
}
