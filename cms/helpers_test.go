package cms

import (
	"encoding/binary"
	"math/rand"

	"github.com/dataplane-go/dataplane/flow"
)

// testKey returns a distinct IPv4 flow key for each i.
func testKey(i uint32) flow.Key {
	var src, dst [4]byte
	binary.BigEndian.PutUint32(src[:], 0x0a000000|i&0xffffff)
	binary.BigEndian.PutUint32(dst[:], 0xc0a80000|(i>>24))
	return flow.KeyFrom4(src, dst, uint16(1024+i%50000), 443, flow.ProtoTCP)
}

// zipfStream returns n packets over m flows with Zipf(s) flow sizes, as
// flow indexes, and the flows' keys.
func zipfStream(seed int64, n, m int, s float64) ([]uint32, []flow.Key) {
	r := rand.New(rand.NewSource(seed))
	z := rand.NewZipf(r, s, 1, uint64(m-1))
	stream := make([]uint32, n)
	for i := range stream {
		stream[i] = uint32(z.Uint64())
	}
	keys := make([]flow.Key, m)
	for i := range keys {
		keys[i] = testKey(uint32(i))
	}
	return stream, keys
}

// exactCounts is the obviously right reference: one counter per flow.
func exactCounts(stream []uint32, m int) []uint64 {
	c := make([]uint64, m)
	for _, f := range stream {
		c[f]++
	}
	return c
}

// refSketch is a slow, plain count-min sketch written from the definition:
// a d x w matrix of uint64, row r's column for key x is
// flow.Index(hash(x), r, w), estimate the minimum, conservative update
// raising counters to min+n.
type refSketch struct {
	m            [][]uint64
	w            uint32
	seed         uint64
	conservative bool
}

func newRef(p Params) *refSketch {
	r := &refSketch{w: p.Width, seed: p.Seed, conservative: p.Conservative}
	for i := uint32(0); i < p.Depth; i++ {
		r.m = append(r.m, make([]uint64, p.Width))
	}
	return r
}

func (r *refSketch) cols(key []byte) []uint32 {
	h := flow.Hash64(key, r.seed)
	var c []uint32
	for i := range r.m {
		c = append(c, flow.Index(h, uint32(i), r.w))
	}
	return c
}

func (r *refSketch) estimate(key []byte) uint64 {
	est := ^uint64(0)
	for i, c := range r.cols(key) {
		est = min(est, r.m[i][c])
	}
	return est
}

func (r *refSketch) add(key []byte, n uint64) {
	if r.conservative {
		target := r.estimate(key) + n
		for i, c := range r.cols(key) {
			r.m[i][c] = max(r.m[i][c], target)
		}
		return
	}
	for i, c := range r.cols(key) {
		r.m[i][c] += n
	}
}
