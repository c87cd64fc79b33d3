package cms

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

const benchBatch = 4096

// benchStream is a seeded Zipf(1.1) stream of 1e6 packets over 1e5 flows,
// built once.
var benchStream = sync.OnceValues(func() ([]uint32, []flow.Key) {
	return zipfStream(1, 1_000_000, 100_000, 1.1)
})

func meanAbsErr(s *Sketch, keys []flow.Key, exact []uint64) float64 {
	var sum float64
	var n int
	for i, c := range exact {
		if c > 0 {
			sum += float64(uint64(s.Estimate(keys[i].Bytes())) - c)
			n++
		}
	}
	return sum / float64(n)
}

func BenchmarkSketch(b *testing.B) {
	stream, keys := benchStream()
	exact := exactCounts(stream, len(keys))
	for _, eps := range []float64{1e-3, 1e-4} {
		for _, cons := range []bool{false, true} {
			p := ParamsFor(eps, 0.01).WithSeed(1).WithConservative(cons)
			name := fmt.Sprintf("eps=%g/d=%d/conservative=%v", eps, p.Depth, cons)
			b.Run("Add/"+name, func(b *testing.B) {
				s := MustNew(p)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					for _, f := range stream[i : i+benchBatch] {
						s.Add(keys[f].Bytes(), 1)
					}
					i = (i + benchBatch) % (len(stream) - benchBatch)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/packet")
				full := MustNew(p)
				for _, f := range stream {
					full.Add(keys[f].Bytes(), 1)
				}
				b.ReportMetric(meanAbsErr(full, keys, exact), "abs-err")
				b.ReportMetric(float64(p.SizeBytes()), "bytes")
			})
		}
		b.Run(fmt.Sprintf("Estimate/eps=%g", eps), func(b *testing.B) {
			s := MustNew(ParamsFor(eps, 0.01).WithSeed(1))
			for _, f := range stream {
				s.Add(keys[f].Bytes(), 1)
			}
			b.ReportAllocs()
			i := 0
			var sink uint32
			for b.Loop() {
				for _, f := range stream[i : i+benchBatch] {
					sink += s.Estimate(keys[f].Bytes())
				}
				i = (i + benchBatch) % (len(stream) - benchBatch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/packet")
			_ = sink
		})
	}
}

func BenchmarkTopK(b *testing.B) {
	stream, keys := benchStream()
	for _, k := range []int{100, 1000} {
		b.Run(fmt.Sprintf("Add/k=%d", k), func(b *testing.B) {
			t, _ := NewTopK(ParamsFor(1e-4, 0.01).WithSeed(1).WithConservative(true), k)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				for _, f := range stream[i : i+benchBatch] {
					t.Add(keys[f], 1)
				}
				i = (i + benchBatch) % (len(stream) - benchBatch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/packet")
		})
	}
}

func BenchmarkDetector_Filter(b *testing.B) {
	stream, keys := benchStream()
	d, _ := NewDetector(LabParams(4096, 1), DefaultThreshold)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for _, f := range stream[i : i+benchBatch] {
			d.Filter(keys[f].Bytes())
		}
		i = (i + benchBatch) % (len(stream) - benchBatch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/packet")
}

// BenchmarkParallel compares the two multi-core designs: one shared
// Concurrent sketch (atomic CAS per counter) and per-worker sketches merged
// on read. ns/packet is wall time per packet over all workers.
func BenchmarkParallel(b *testing.B) {
	stream, keys := benchStream()
	p := ParamsFor(1e-4, 0.01).WithSeed(1)
	workers := runtime.GOMAXPROCS(0)
	run := func(b *testing.B, add func(w int, key []byte)) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, f := range stream[w*benchBatch : (w+1)*benchBatch] {
						add(w, keys[f].Bytes())
					}
				}()
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch*workers), "ns/packet")
	}
	b.Run("Concurrent", func(b *testing.B) {
		c, _ := NewConcurrent(p)
		run(b, func(_ int, k []byte) { c.Add(k, 1) })
	})
	b.Run("PerWorker", func(b *testing.B) {
		s := make([]*Sketch, workers)
		for i := range s {
			s[i] = MustNew(p)
		}
		run(b, func(w int, k []byte) { s[w].Add(k, 1) })
	})
}
