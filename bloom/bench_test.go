package bloom

import (
	"fmt"
	"testing"
)

const benchBatch = 256

// benchKeys returns n members and n absent keys, built before timing.
func benchKeys(n int) (members, absent [][]byte) {
	return randomKeys(n, 1000), randomKeys(n, 2000)
}

type benchFilter interface {
	Add([]byte)
	Contains([]byte) bool
	Bits() uint64
}

func runContains(b *testing.B, f benchFilter, keys [][]byte, fpr float64, n int) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := 0; j < benchBatch; j++ {
			f.Contains(keys[i])
			if i++; i == len(keys) {
				i = 0
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/key")
	b.ReportMetric(fpr, "fpr")
	b.ReportMetric(float64(f.Bits())/float64(n), "bits/key")
}

func BenchmarkFilter(b *testing.B) {
	for _, n := range []int{1e4, 1e6} {
		members, absent := benchKeys(n)
		for _, kind := range []string{"classic", "blocked"} {
			build := func() benchFilter {
				if kind == "classic" {
					return MustNew(ParamsFor(uint64(n), 0.01))
				}
				return MustNewBlocked(BlockedParamsFor(uint64(n), 0.01))
			}
			f := build()
			for _, k := range members {
				f.Add(k)
			}
			fpr := float64(falsePositives(f.Contains, absent)) / float64(n)
			b.Run(fmt.Sprintf("%s/Add/n=%d", kind, n), func(b *testing.B) {
				g := build()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					for j := 0; j < benchBatch; j++ {
						g.Add(members[i])
						if i++; i == n {
							i = 0
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/key")
			})
			b.Run(fmt.Sprintf("%s/Contains/hit/n=%d", kind, n), func(b *testing.B) { runContains(b, f, members, fpr, n) })
			b.Run(fmt.Sprintf("%s/Contains/miss/n=%d", kind, n), func(b *testing.B) { runContains(b, f, absent, fpr, n) })
		}
	}
}

func BenchmarkCountingFilter(b *testing.B) {
	for _, n := range []int{1e4, 1e6} {
		members, _ := benchKeys(n)
		c := MustNewCounting(ParamsFor(uint64(n), 0.01), 4)
		for _, k := range members {
			c.Add(k)
		}
		b.Run(fmt.Sprintf("RemoveAdd/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				for j := 0; j < benchBatch; j++ {
					if c.Remove(members[i]) != nil {
						b.Fatal("member not removed")
					}
					c.Add(members[i])
					if i++; i == n {
						i = 0
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/pair")
		})
	}
}
