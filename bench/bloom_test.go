package bench

import (
	"io"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	bitsbloom "github.com/bits-and-blooms/bloom/v3"
	"github.com/greatroar/blobloom"
	holiman "github.com/holiman/bloomfilter/v2"
	boom "github.com/tylertreat/BoomFilters"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// Keys for the Bloom benchmarks: traffic.DistinctKeys, the distinct flows
// of the shared captures amplified to 2*blN (copies of the captures with
// disjoint addresses, per-flow structure kept), split alternately into blN
// members and blN absent keys. Without DATAPLANE_TRAFFIC_DIR the
// benchmarks skip.
const blN = 1_000_000

var blOnce sync.Once
var blKeys struct {
	members, absent [][]byte // canonical key bytes
	mh, ah          []uint64 // their flow.Hash64 with seed 0
}

func bloomKeys(tb testing.TB) {
	keys := traffic.DistinctKeys(tb, 2*blN) // skips without captures
	blOnce.Do(func() {
		seen := make(map[flow.Key]struct{}, len(keys))
		for _, k := range keys {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			b := k.AppendBytes(nil)
			if len(seen)%2 == 1 {
				blKeys.members = append(blKeys.members, b)
				blKeys.mh = append(blKeys.mh, flow.Hash64(b, 0))
			} else {
				blKeys.absent = append(blKeys.absent, b)
				blKeys.ah = append(blKeys.ah, flow.Hash64(b, 0))
			}
		}
	})
	if len(blKeys.members) < blN || len(blKeys.absent) < blN {
		tb.Fatalf("bloom keys: %d members and %d absent keys, want %d each", len(blKeys.members), len(blKeys.absent), blN)
	}
}

// blImpl is one filter implementation under test. Every contains hashes
// the key bytes itself; holiman and blobloom, which take a 64-bit hash,
// are given flow.Hash64 of the key, computed in the call.
type blImpl struct {
	name  string
	build func(n uint64, fpr float64) (add func(i int), contains func(k []byte, h uint64) bool, bits uint64)
}

func bloomImpls() []blImpl {
	return []blImpl{
		{name: "dataplane", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bloom.MustNew(bloom.ParamsFor(n, fpr))
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Contains(k) }, f.Bits()
		}},
		{name: "dataplane-blocked", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bloom.MustNewBlocked(bloom.BlockedParamsFor(n, fpr))
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Contains(k) }, f.Bits()
		}},
		{name: "bits-and-blooms", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bitsbloom.NewWithEstimates(uint(n), fpr)
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Test(k) }, uint64(f.Cap())
		}},
		{name: "holiman", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f, err := holiman.NewOptimal(n, fpr)
			if err != nil {
				panic(err)
			}
			return func(i int) { f.AddHash(flow.Hash64(blKeys.members[i], 0)) },
				func(k []byte, _ uint64) bool { return f.ContainsHash(flow.Hash64(k, 0)) }, f.M()
		}},
		{name: "blobloom", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := blobloom.NewOptimized(blobloom.Config{Capacity: n, FPRate: fpr})
			return func(i int) { f.Add(flow.Hash64(blKeys.members[i], 0)) },
				func(k []byte, _ uint64) bool { return f.Has(flow.Hash64(k, 0)) }, f.NumBits()
		}},
		{name: "boom", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := boom.NewBloomFilter(uint(n), fpr)
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Test(k) }, uint64(f.Capacity())
		}},
	}
}

const blBatch = 1024

// blCPU returns the CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID)
// in nanoseconds. The benchmark host is shared, so wall time includes time
// spent waiting for a core; the cpu-ns metrics leave that out. Callers lock
// their goroutine to its thread.
func blCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// BenchmarkBloom: Add and Contains (hits: members; misses: absent keys) on
// blN amplified capture flows, at FPR 1% and 0.1%, every implementation in
// the same run. Each peer hashes keys its own way; the hash-taking peers
// (holiman, blobloom) get flow.Hash64 computed inside the timed loop, as
// ours does. Reported: ns/key, cpu-ns/key (thread CPU time, see blCPU,
// of each batch of blBatch keys alone, as BenchmarkBloomPaired counts it:
// not the benchmark's own start and end), measured fpr over blN absent
// keys, bits/key.
func BenchmarkBloom(b *testing.B) {
	bloomKeys(b)
	for _, fpr := range []float64{0.01, 0.001} {
		for _, im := range bloomImpls() {
			add, contains, bits := im.build(blN, fpr)
			for i := 0; i < blN; i++ {
				add(i)
			}
			fp := 0
			for i, k := range blKeys.absent[:blN] {
				if contains(k, blKeys.ah[i]) {
					fp++
				}
			}
			for i, k := range blKeys.members[:1000] {
				if !contains(k, blKeys.mh[i]) {
					b.Fatalf("%s: false negative", im.name)
				}
			}
			measured := float64(fp) / blN
			report := func(b *testing.B, keys int, cpu int64) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
				b.ReportMetric(float64(cpu)/float64(keys), "cpu-ns/key")
				b.ReportMetric(measured, "fpr")
				b.ReportMetric(float64(bits)/blN, "bits/key")
			}
			b.Run(subName("fpr", fpr, "op", "add", "impl", im.name), func(b *testing.B) {
				addF, _, _ := im.build(blN, fpr)
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				i, keys := 0, 0
				var cpu int64
				for b.Loop() {
					t0 := blCPU()
					for j := 0; j < blBatch; j++ {
						addF(i)
						if i++; i == blN {
							i = 0
						}
					}
					cpu += blCPU() - t0
					keys += blBatch
				}
				report(b, keys, cpu)
			})
			for _, set := range []struct {
				op   string
				keys [][]byte
				hs   []uint64
			}{{"contains-hit", blKeys.members, blKeys.mh}, {"contains-miss", blKeys.absent, blKeys.ah}} {
				b.Run(subName("fpr", fpr, "op", set.op, "impl", im.name), func(b *testing.B) {
					b.ReportAllocs()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					i, keys, found := 0, 0, 0
					var cpu int64
					for b.Loop() {
						t0 := blCPU()
						for j := 0; j < blBatch; j++ {
							if contains(set.keys[i], set.hs[i]) {
								found++
							}
							if i++; i == blN {
								i = 0
							}
						}
						cpu += blCPU() - t0
						keys += blBatch
					}
					report(b, keys, cpu)
					_ = found
				})
			}
		}
	}
}

// countingParams sizes our 4-bit counting filter for n keys at fpr as
// ParamsFor does, with the counters rounded down to whole 64-bit words
// (16 counters each): the filter stores its counters in words, the peer's
// in ceil(m/2) bytes, and the targets compare them at no more memory.
func countingParams(n uint64, fpr float64) bloom.Params {
	p := bloom.ParamsFor(n, fpr)
	p.Bits &^= 15
	return p
}

// boomCountingBytes is the memory of the counters of a BoomFilters
// counting filter with m 4-bit buckets: NewBuckets packs them into whole
// bytes, so an odd m takes half a byte more than m/2.
func boomCountingBytes(m uint) int { return int((m*4 + 7) / 8) }

// BenchmarkCountingBloom: counting filters with 4-bit counters, ours and
// BoomFilters' (NewDefaultCountingBloomFilter), at the same n, FPR and
// memory, for n = 1e5 (counters in cache) and 1e6. Remove is timed per
// batch of 1024 members in thread CPU time; the batch is then added back
// outside the measured part. Reported: cpu-ns/remove, fpr, bits/key.
func BenchmarkCountingBloom(b *testing.B) {
	bloomKeys(b)
	type ops struct {
		add      func([]byte)
		remove   func([]byte) bool
		contains func([]byte) bool
		bytes    int
	}
	impls := []struct {
		name  string
		build func(n uint64, fpr float64) ops
	}{
		{"dataplane", func(n uint64, fpr float64) ops {
			c := bloom.MustNewCounting(countingParams(n, fpr), 4)
			return ops{c.Add, func(k []byte) bool { return c.Remove(k) == nil }, c.Contains, c.SizeBytes()}
		}},
		{"boom", func(n uint64, fpr float64) ops {
			c := boom.NewDefaultCountingBloomFilter(uint(n), fpr)
			return ops{func(k []byte) { c.Add(k) }, c.TestAndRemove, c.Test, boomCountingBytes(c.Capacity())}
		}},
	}
	for _, n := range []int{100_000, blN} {
		members, absent := blKeys.members[:n], blKeys.absent[:n]
		for _, fpr := range []float64{0.01, 0.001} {
			for _, im := range impls {
				o := im.build(uint64(n), fpr)
				for _, k := range members {
					o.add(k)
				}
				fp := 0
				for _, k := range absent {
					if o.contains(k) {
						fp++
					}
				}
				measured := float64(fp) / float64(n)
				b.Run(subName("n", n, "fpr", fpr, "op", "remove", "impl", im.name), func(b *testing.B) {
					b.ReportAllocs()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					i, keys := 0, 0
					var removing int64
					for b.Loop() {
						batch := members[i : i+blBatch]
						t0 := blCPU()
						for _, k := range batch {
							if !o.remove(k) {
								b.Fatal("member not removed")
							}
						}
						removing += blCPU() - t0
						for _, k := range batch {
							o.add(k)
						}
						keys += blBatch
						if i += blBatch; i+blBatch > n {
							i = 0
						}
					}
					b.ReportMetric(float64(removing)/float64(keys), "cpu-ns/remove")
					b.ReportMetric(measured, "fpr")
					b.ReportMetric(float64(8*o.bytes)/float64(n), "bits/key")
				})
			}
		}
	}
}

// BenchmarkBloomPaired measures each target comparison as a pair in one
// benchmark: batches of blBatch keys alternate between our filter and the
// peer's (each with its own filter, the order swapped every round), so
// both meet the same load from other processes on a shared host, which
// separate sub-benchmarks seconds apart do not. Reported: thread CPU
// ns/key of each, and x-peer, the peer's time over ours (above 1: ours is
// faster). A pair is named by impl= (ours) and vs= (the peer). Pairs,
// with the peers built as in BenchmarkBloom and BenchmarkCountingBloom:
// classic Contains vs bits-and-blooms, blocked Contains vs blobloom (hits
// and misses, at 1% and 0.1%), and counting Remove vs BoomFilters' 4-bit
// counting filter (n = 1e5 and 1e6; the batch is added back untimed).
// Each pair also runs with ours through its batch method (AppendContains,
// RemoveBatch) against the peer's per-key calls, as impl=...-batch.
func BenchmarkBloomPaired(b *testing.B) {
	bloomKeys(b)
	impl := func(name string) blImpl {
		for _, im := range bloomImpls() {
			if im.name == name {
				return im
			}
		}
		panic("no bloom implementation " + name)
	}
	// paired runs op(0, i) (ours) and op(1, i) (the peer) on the batch of
	// keys starting at i, alternating; op returns the thread CPU time to
	// count.
	paired := func(b *testing.B, n int, op func(side, i int) int64) {
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpu [2]int64
		i, keys, round := 0, 0, 0
		for b.Loop() {
			for r := 0; r < 2; r++ {
				side := (r + round) % 2
				cpu[side] += op(side, i)
			}
			round++
			keys += blBatch
			if i += blBatch; i+blBatch > n {
				i = 0
			}
		}
		b.ReportMetric(float64(cpu[0])/float64(keys), "ours-cpu-ns/key")
		b.ReportMetric(float64(cpu[1])/float64(keys), "peer-cpu-ns/key")
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "x-peer")
	}
	for _, fpr := range []float64{0.01, 0.001} {
		for _, pair := range [][2]string{{"dataplane", "bits-and-blooms"}, {"dataplane-blocked", "blobloom"}} {
			var contains [2]func([]byte, uint64) bool
			for side, name := range pair {
				add, c, _ := impl(name).build(blN, fpr)
				for i := 0; i < blN; i++ {
					add(i)
				}
				contains[side] = c
			}
			for _, set := range []struct {
				op   string
				keys [][]byte
				hs   []uint64
			}{{"contains-hit", blKeys.members, blKeys.mh}, {"contains-miss", blKeys.absent, blKeys.ah}} {
				{
					var appendContains func([]bool, [][]byte) []bool
					if pair[0] == "dataplane-blocked" {
						f := bloom.MustNewBlocked(bloom.BlockedParamsFor(blN, fpr))
						for i := 0; i < blN; i++ {
							f.Add(blKeys.members[i])
						}
						appendContains = f.AppendContains
					} else {
						f := bloom.MustNew(bloom.ParamsFor(blN, fpr))
						for i := 0; i < blN; i++ {
							f.Add(blKeys.members[i])
						}
						appendContains = f.AppendContains
					}
					found := make([]bool, 0, blBatch)
					b.Run(subName("fpr", fpr, "op", set.op, "impl", pair[0]+"-batch", "vs", pair[1]), func(b *testing.B) {
						hits := 0
						paired(b, blN, func(side, i int) int64 {
							t0 := blCPU()
							if side == 0 {
								found = appendContains(found[:0], set.keys[i:i+blBatch])
								for _, ok := range found {
									if ok {
										hits++
									}
								}
							} else {
								c := contains[1]
								for j := i; j < i+blBatch; j++ {
									if c(set.keys[j], set.hs[j]) {
										hits++
									}
								}
							}
							return blCPU() - t0
						})
						if set.op == "contains-hit" && hits != 2*blBatch*b.N {
							b.Fatalf("%d of %d members found", hits, 2*blBatch*b.N)
						}
					})
				}
				b.Run(subName("fpr", fpr, "op", set.op, "impl", pair[0], "vs", pair[1]), func(b *testing.B) {
					found := 0
					paired(b, blN, func(side, i int) int64 {
						c := contains[side]
						t0 := blCPU()
						for j := i; j < i+blBatch; j++ {
							if c(set.keys[j], set.hs[j]) {
								found++
							}
						}
						return blCPU() - t0
					})
					if set.op == "contains-hit" && found != 2*blBatch*b.N {
						b.Fatalf("%d of %d members found", found, 2*blBatch*b.N)
					}
				})
			}
		}
	}
	for _, n := range []int{100_000, blN} {
		members := blKeys.members[:n]
		for _, fpr := range []float64{0.01, 0.001} {
			ours := bloom.MustNewCounting(countingParams(uint64(n), fpr), 4)
			peer := boom.NewDefaultCountingBloomFilter(uint(n), fpr)
			for _, k := range members {
				ours.Add(k)
				peer.Add(k)
			}
			remove := [2]func([]byte) bool{
				func(k []byte) bool { return ours.Remove(k) == nil },
				peer.TestAndRemove,
			}
			add := [2]func([]byte){ours.Add, func(k []byte) { peer.Add(k) }}
			for _, batched := range []bool{false, true} {
				name := map[bool]string{false: "dataplane", true: "dataplane-batch"}[batched]
				b.Run(subName("n", n, "fpr", fpr, "op", "remove", "impl", name, "vs", "boom"), func(b *testing.B) {
					paired(b, n, func(side, i int) int64 {
						batch := members[i : i+blBatch]
						t0 := blCPU()
						if side == 0 && batched {
							if ours.RemoveBatch(batch) != len(batch) {
								b.Fatal("member not removed")
							}
						} else {
							for _, k := range batch {
								if !remove[side](k) {
									b.Fatal("member not removed")
								}
							}
						}
						t := blCPU() - t0
						for _, k := range batch {
							add[side](k)
						}
						return t
					})
				})
			}
		}
	}
}

// TestBoomCountingBytes: the size the benchmarks report for BoomFilters'
// counting filter is the byte array its buckets hold, for even and odd m
// (Buckets.WriteTo returns that length plus an 18-byte header).
func TestBoomCountingBytes(t *testing.T) {
	for _, m := range []uint{1, 2, 15, 16, boom.OptimalM(100_000, 0.01), boom.OptimalM(100_000, 0.001)} {
		n, err := boom.NewBuckets(m, 4).WriteTo(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := boomCountingBytes(m), int(n)-18; got != want {
			t.Errorf("m = %d: boomCountingBytes %d, the buckets hold %d bytes", m, got, want)
		}
	}
}

// TestCountingParams_NoMoreMemory: the counting filters the benchmarks
// race against BoomFilters' take no more memory than the peer's at each
// n and FPR of the targets ("at no more memory"). Sized by ParamsFor
// alone, ours took 3 to 7 bytes more, its counters rounded up to words.
func TestCountingParams_NoMoreMemory(t *testing.T) {
	for _, n := range []uint64{100_000, blN} {
		for _, fpr := range []float64{0.01, 0.001} {
			ours := bloom.MustNewCounting(countingParams(n, fpr), 4).SizeBytes()
			peer := boomCountingBytes(boom.OptimalM(uint(n), fpr))
			if ours > peer {
				t.Errorf("n=%d fpr=%g: ours %d bytes, BoomFilters' %d", n, fpr, ours, peer)
			}
		}
	}
}
