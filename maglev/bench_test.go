package maglev_test

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/maglev"
)

func BenchmarkTable(b *testing.B) {
	for _, m := range []uint32{16381, 65537} {
		for _, n := range []int{10, 100, 1000} {
			bs := maglev.Backends(names(n)...)
			b.Run(fmt.Sprintf("Build/n=%d/m=%d", n, m), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					maglev.MustNew(maglev.Params{Size: m, Seed: 1}, bs)
				}
			})
		}
	}
	bs := maglev.Backends(names(1000)...)
	for i := range bs {
		bs[i].Weight = uint32(1 + i%4)
	}
	b.Run("Build/n=1000/m=65537/weighted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			maglev.MustNew(maglev.Params{Seed: 1}, bs)
		}
	})
	tb := maglev.MustNew(maglev.Params{Seed: 1}, maglev.Backends(names(1000)...))
	keys := make([]flow.Key, 1024)
	for i := range keys {
		keys[i] = flow.KeyFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}, [4]byte{192, 0, 2, 1}, uint16(i*7), 80, flow.ProtoTCP)
	}
	hs := hashes(1024, 1)
	b.Run("Pick/hash", func(b *testing.B) {
		b.ReportAllocs()
		sink := 0
		for b.Loop() {
			for _, h := range hs {
				i, _ := tb.Pick(h)
				sink += i
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(hs)), "ns/packet")
		_ = sink
	})
	b.Run("Hash", func(b *testing.B) {
		b.ReportAllocs()
		var sink uint64
		for b.Loop() {
			for i := range keys {
				sink += keys[i].Hash(0)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/packet")
		_ = sink
	})
	b.Run("PickKey", func(b *testing.B) {
		b.ReportAllocs()
		sink := 0
		for b.Loop() {
			for i := range keys {
				j, _ := tb.PickKey(&keys[i], 0)
				sink += j
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/packet")
		_ = sink
	})
}

func BenchmarkRing(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 160, Seed: 1}, maglev.Backends(names(n)...))
		hs := hashes(4096, 2)
		b.Run(fmt.Sprintf("Pick/n=%d/v=160", n), func(b *testing.B) {
			b.ReportAllocs()
			sink := 0
			for b.Loop() {
				for _, h := range hs {
					i, _ := r.Pick(h)
					sink += i
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(hs)), "ns/packet")
			_ = sink
		})
	}
	// Warm (above): the same 4096 hashes every iteration, so the index
	// lines they touch stay in the core's caches. Cold: every iteration
	// takes the next 4096 of 2^20 random hashes (8 MiB, so a hash comes
	// back only every 256 iterations) and each lookup lands on a random
	// part of the 3.0 MB index, more than a per-core L2 cache holds: as
	// with real traffic of many flows. Lookups are independent, as a
	// balancer's are, so the processor may overlap them.
	r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 160, Seed: 1}, maglev.Backends(names(1000)...))
	cold := hashes(1<<20, 9)
	b.Run("Pick/n=1000/v=160/cold", func(b *testing.B) {
		b.ReportAllocs()
		s, k := 0, 0
		for b.Loop() {
			for _, h := range cold[k : k+4096] {
				i, _ := r.Pick(h)
				s += i
			}
			k = (k + 4096) % (len(cold) - 4096)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/packet")
		_ = s
	})
	bs := maglev.Backends(names(1000)...)
	b.Run("Build/n=1000/v=160", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			maglev.MustNewRing(maglev.RingParams{Seed: 1}, bs)
		}
	})
}
