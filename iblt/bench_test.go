package iblt

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

var sink uint64

// BenchmarkTable_Insert reports Insert's ns/key, with k = 3 and 4 (the two
// that ParamsFor chooses from), beside one xxHash64 of the same key in the
// same run (the target: at most 3x).
func BenchmarkTable_Insert(b *testing.B) {
	for _, keyLen := range []int{flow.KeyLen4, flow.KeyLen6} {
		rng := rand.New(rand.NewPCG(1, uint64(keyLen)))
		keys := randKeys(rng, 1024, keyLen)
		tb := MustNew(Params{Cells: 3 * 512, Hashes: 3, KeyLen: keyLen, Seed: 1})
		b.Run(fmt.Sprintf("xxhash/L=%d", keyLen), func(b *testing.B) {
			b.ReportAllocs()
			var s uint64
			for b.Loop() {
				for _, k := range keys {
					s += flow.Hash64(k, 1)
				}
			}
			sink = s
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
		})
		for _, tb := range []*Table{tb, MustNew(Params{Cells: 4 * 512, Hashes: 4, KeyLen: keyLen, Seed: 1})} {
			b.Run(fmt.Sprintf("Insert/L=%d/k=%d", keyLen, tb.Hashes()), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for i, k := range keys {
						tb.Insert(k, uint64(i))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
			})
		}
	}
}

// BenchmarkTable_List lists d differences: at d = 1,000 from the table
// ParamsFor gives for 99% success (1,384 cells, k = 4), at d = 10,000 from
// 12,600 cells with k = 3 (1.26 d, the threshold); into=true lists
// into one Listing, reused from run to run.
func BenchmarkTable_List(b *testing.B) {
	for _, d := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			p, _ := ParamsFor(d, 13, 0.99, 7)
			if d == 10000 {
				p = Params{Cells: 12600, Hashes: 3, KeyLen: 13, Seed: 7}
			}
			tb := MustNew(p)
			key := make([]byte, 13)
			rng := rand.New(rand.NewPCG(2, 3))
			for i := range d {
				binary.LittleEndian.PutUint64(key, rng.Uint64())
				binary.LittleEndian.PutUint32(key[8:], uint32(i))
				tb.Insert(key, uint64(i))
			}
			for _, into := range []bool{false, true} {
				b.Run(fmt.Sprintf("into=%v", into), func(b *testing.B) {
					var l Listing // into: one Listing, reused
					b.ReportAllocs()
					ok := 0
					for b.Loop() {
						var ins []Entry
						var err error
						if into {
							err = tb.ListInto(&l)
							ins = l.Inserted
						} else {
							ins, _, err = tb.List()
						}
						if err == nil && len(ins) == d {
							ok++
						}
					}
					b.ReportMetric(float64(ok)/float64(b.N), "decode-rate")
					b.ReportMetric(float64(p.Cells)/float64(d), "cells/diff")
				})
			}
		})
	}
}
