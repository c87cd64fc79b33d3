package iblt

import (
	"math/rand/v2"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestHash2 checks the two-seed hash against flow.Hash64 for every key
// length up to MaxKeyLen, with random and checksum-derived seeds.
func TestHash2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, MaxKeyLen)
	for n := 0; n <= MaxKeyLen; n++ {
		for r := range 4 {
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			s1, s2 := rng.Uint64(), rng.Uint64()
			if r == 0 {
				s2 = ChecksumSeed(s1)
			}
			h1, h2 := hash2(buf[:n], s1, s2)
			if w1, w2 := flow.Hash64(buf[:n], s1), flow.Hash64(buf[:n], s2); h1 != w1 || h2 != w2 {
				t.Fatalf("len %d: hash2 = %#x, %#x; flow.Hash64 = %#x, %#x", n, h1, h2, w1, w2)
			}
		}
	}
}
