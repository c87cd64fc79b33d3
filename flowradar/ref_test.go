package flowradar

import (
	"math/rand/v2"

	"github.com/dataplane-go/dataplane/flow"
)

// refTable is the obviously-right reference: the encoding written out
// plainly, with a []bool filter and the padded key XORed byte by byte.
// The filter is the blocked Bloom filter as documented: block
// flow.Reduce(h, FilterBits/512), and for i < FilterHashes the in-block
// bit (flow.Mix(h, i/7) >> (9*(i%7))) & 511.
type refTable struct {
	p      Params
	filter []bool
	cells  []Cell
}

func newRef(p Params) *refTable {
	return &refTable{p: p, filter: make([]bool, p.FilterBits), cells: make([]Cell, p.Cells)}
}

func (r *refTable) add(k flow.Key, size uint32) bool {
	b := k.Bytes()
	fh := flow.Hash64(b, r.p.Seed)
	isNew := false
	block := flow.Reduce(fh, r.p.FilterBits/512)
	for i := 0; i < r.p.FilterHashes; i++ {
		field := flow.Mix(fh, uint32(i/7)) >> (9 * (i % 7)) & 511
		bit := 512*block + uint32(field)
		if !r.filter[bit] {
			isNew = true
		}
		r.filter[bit] = true
	}
	th := fh
	sub := r.p.Cells / uint32(r.p.Hashes)
	for s := 0; s < r.p.Hashes; s++ {
		c := &r.cells[uint32(s)*sub+flow.Index(th, uint32(32+s), sub)]
		if isNew {
			for i, x := range b {
				c.FlowXOR[i] ^= x
			}
			c.FlowXOR[39] ^= byte(len(b))
			c.FlowCount++
		}
		c.PacketCount++
		c.ByteCount += uint64(size)
	}
	return isNew
}

func (r *refTable) equal(t *Table) bool {
	for i, bit := range r.filter {
		if bit != (t.Filter()[i/64]>>(i%64)&1 == 1) {
			return false
		}
	}
	for i := range r.cells {
		if r.cells[i] != t.cell(i) {
			return false
		}
	}
	return true
}

// randomKeys returns n distinct keys, a sixth of them IPv6.
func randomKeys(n int, seed uint64) []flow.Key {
	rng := rand.New(rand.NewPCG(seed, 99))
	seen := make(map[flow.Key]struct{}, n)
	out := make([]flow.Key, 0, n)
	for len(out) < n {
		var k flow.Key
		if rng.IntN(6) == 0 {
			var s, d [16]byte
			for i := range s {
				s[i], d[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			k = flow.KeyFrom16(s, d, uint16(rng.Uint32()), uint16(rng.Uint32()), flow.ProtoTCP)
		} else {
			var s, d [4]byte
			for i := range s {
				s[i], d[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			k = flow.KeyFrom4(s, d, uint16(rng.Uint32()), uint16(rng.Uint32()), flow.ProtoUDP)
		}
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// truth is the exact per-flow table the tests compare against.
type truth map[flow.Key][2]uint64

// traffic encodes a heavy-tailed number of packets per flow (1 + a
// geometric-ish tail) into the encoder e and returns the exact counts.
func traffic(add func(*flow.Key, uint32) bool, keys []flow.Key, seed uint64) truth {
	rng := rand.New(rand.NewPCG(seed, 7))
	tr := make(truth, len(keys))
	for i := range keys {
		pk := 1 + int(rng.ExpFloat64()*4)
		for j := 0; j < pk; j++ {
			size := uint32(64 + rng.IntN(1400))
			add(&keys[i], size)
			c := tr[keys[i]]
			tr[keys[i]] = [2]uint64{c[0] + 1, c[1] + uint64(size)}
		}
	}
	return tr
}
