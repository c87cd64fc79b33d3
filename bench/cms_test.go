package bench

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	boom "github.com/tylertreat/BoomFilters"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// The count-min stream: every packet of the main shared captures
// (traffic.Keys), replayed cmsCopies times, copy c with copy c's addresses
// (traffic.DistinctKeys: the amplifier's disjoint address ranges), so that
// the stream holds at least cmsMinPackets packets and cmsMinFlows flows
// with the captures' real flow sizes. Packets are flow indexes into keys.
const (
	cmsMinPackets = 10_000_000
	cmsMinFlows   = 1_000_000
	cmsTopK       = 1000
	cmsBatch      = 4096
	cmsDelta      = 0.01 // d = 5 for both libraries
)

type cmsStreamData struct {
	keys   []flow.Key
	bytes  [][]byte // keys' canonical bytes, for the []byte-taking APIs
	stream []uint32 // packets, as indexes into keys
	exact  []uint32 // true packets per flow
	top    []uint32 // indexes of the cmsTopK largest flows
	kth    uint32   // the cmsTopK-th largest count (ties count as top)
}

var cmsMu sync.Mutex
var cmsCached *cmsStreamData

func cmsData(tb testing.TB) *cmsStreamData {
	tb.Helper()
	cmsMu.Lock()
	defer cmsMu.Unlock()
	if cmsCached != nil {
		return cmsCached
	}
	base := traffic.Keys(tb) // skips without DATAPLANE_TRAFFIC_DIR
	pos := map[flow.Key]uint32{}
	for _, k := range base {
		if _, ok := pos[k]; !ok {
			pos[k] = uint32(len(pos))
		}
	}
	u := len(pos)
	copies := max((cmsMinPackets+len(base)-1)/len(base), (cmsMinFlows+u-1)/u)
	keys := traffic.DistinctKeys(tb, copies*u)[:copies*u] // copy c, flow i at c*u+i
	d := &cmsStreamData{keys: keys, stream: make([]uint32, 0, copies*len(base))}
	for c := range copies {
		for _, k := range base {
			d.stream = append(d.stream, uint32(c*u)+pos[k])
		}
	}
	d.bytes = make([][]byte, len(keys))
	for i := range keys {
		d.bytes[i] = keys[i].Bytes()
	}
	d.exact = make([]uint32, len(keys))
	for _, f := range d.stream {
		d.exact[f]++
	}
	idx := make([]uint32, len(keys))
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int { return int(d.exact[b]) - int(d.exact[a]) })
	d.top = idx[:cmsTopK]
	d.kth = d.exact[idx[cmsTopK-1]]
	tb.Logf("cms stream: %d packets, %d flows (%d captured flows x %d copies); top-%d flows have >= %d packets",
		len(d.stream), len(keys), u, copies, cmsTopK, d.kth)
	cmsCached = d
	return d
}

// cmsHot holds one batch of packets' keys copied next to each other, as
// keys taken from just-parsed packets are: hot in cache. The timed loops
// read keys from it, so that they measure the structure and not the
// fetch of a random key from the 60 MB key table.
//
// Each batch gets a fresh arena: BoomFilters' TopK keeps the slices it is
// given, and a reused arena would rewrite the keys it tracks under it, so
// that its linear search of the heap compared the new key against other
// flows' bytes (false matches, duplicates of one flow in the heap) and
// did about 40% fewer comparisons per packet than on stable keys.
type cmsHot struct {
	arena []byte
	bytes [][]byte
	keys  []flow.Key
}

func newCMSHot() *cmsHot {
	return &cmsHot{bytes: make([][]byte, cmsBatch), keys: make([]flow.Key, cmsBatch)}
}

// fill loads packets stream[i:i+cmsBatch], into a fresh arena, and returns
// the next i. Callers call it outside their timed parts.
func (h *cmsHot) fill(d *cmsStreamData, i int) int {
	size := 0
	for _, f := range d.stream[i : i+cmsBatch] {
		size += len(d.bytes[f])
	}
	h.arena = make([]byte, 0, size)
	for j, f := range d.stream[i : i+cmsBatch] {
		n := len(h.arena)
		h.arena = d.keys[f].AppendBytes(h.arena)
		h.bytes[j] = h.arena[n:len(h.arena):len(h.arena)]
		h.keys[j] = d.keys[f]
	}
	return (i + cmsBatch) % (len(d.stream) - cmsBatch)
}

// cmsImpl is one sketch under test.
type cmsImpl struct {
	name     string
	add      func(key []byte)
	estimate func(key []byte) uint64
	// reset writes every counter. The benchmarks call it (or the top-k
	// trackers' Reset) before their timed loop, so that the page faults
	// of a fresh sketch's memory fall outside it. Without it the first
	// iterations paid them: the only ones of a -benchtime=1x run (about
	// 6,000 ns a packet for a 10 MB sketch, against 50 to 70 with its
	// pages in), and those of a row's first -count sample (later ones
	// reuse memory the runtime has already faulted in).
	reset func()
	bytes int
}

// cmsImpls returns the sketches compared at one memory budget: BoomFilters'
// CountMinSketch with epsilon eps (uint64 counters, w = ceil(e/eps), d = 5),
// and ours at the same memory (uint32 counters, so twice the width), with
// standard and conservative update.
func cmsImpls(eps float64) []cmsImpl {
	bf := boom.NewCountMinSketch(eps, cmsDelta)
	bp := cms.ParamsFor(eps, cmsDelta)
	p := cms.Params{Width: 2 * bp.Width, Depth: bp.Depth, Seed: 1}
	std, cons := cms.MustNew(p), cms.MustNew(p.WithConservative(true))
	return []cmsImpl{
		{"dataplane", func(k []byte) { std.Add(k, 1) }, func(k []byte) uint64 { return uint64(std.Estimate(k)) }, std.Reset, p.SizeBytes()},
		{"dataplane-conservative", func(k []byte) { cons.Add(k, 1) }, func(k []byte) uint64 { return uint64(cons.Estimate(k)) }, cons.Reset, p.SizeBytes()},
		{"boom", func(k []byte) { bf.Add(k) }, func(k []byte) uint64 { return bf.Count(k) }, func() { bf.Reset() }, 8 * int(bp.Width) * int(bp.Depth)},
	}
}

// cmsErrors are the absolute errors of one sketch over the whole stream.
type cmsErrors struct{ topMean, topMax, allMean, allMax float64 }

var cmsErrCache sync.Map // name+eps -> cmsErrors

// cmsAccuracy fills a fresh sketch with the whole stream and measures its
// errors against the exact counts (cached per implementation and budget).
func cmsAccuracy(d *cmsStreamData, eps float64, which int) cmsErrors {
	impl := cmsImpls(eps)[which]
	key := fmt.Sprint(impl.name, eps)
	if e, ok := cmsErrCache.Load(key); ok {
		return e.(cmsErrors)
	}
	for _, f := range d.stream {
		impl.add(d.bytes[f])
	}
	var e cmsErrors
	for _, f := range d.top {
		err := float64(impl.estimate(d.bytes[f]) - uint64(d.exact[f]))
		e.topMean += err
		e.topMax = math.Max(e.topMax, err)
	}
	e.topMean /= float64(len(d.top))
	for i := range d.keys {
		err := float64(impl.estimate(d.bytes[i]) - uint64(d.exact[i]))
		e.allMean += err
		e.allMax = math.Max(e.allMax, err)
	}
	e.allMean /= float64(len(d.keys))
	cmsErrCache.Store(key, e)
	return e
}

// BenchmarkCMS compares Add and Estimate with BoomFilters' CountMinSketch
// at equal memory, on the amplified captures, and reports the errors of
// each sketch filled with the whole stream: abs-err-top (mean over the
// top-1000 flows), max-err-top, abs-err-all and max-err-all (all flows).
func BenchmarkCMS(b *testing.B) {
	d := cmsData(b)
	for _, eps := range []float64{1e-4, 1e-5} {
		for which := range cmsImpls(eps) {
			impl := cmsImpls(eps)[which]
			b.Run(subName("eps", eps, "op", "add", "impl", impl.name), func(b *testing.B) {
				impl.reset() // fault its pages in now (see cmsImpl.reset)
				b.ReportAllocs()
				hot, i := newCMSHot(), 0
				for b.Loop() {
					b.StopTimer()
					i = hot.fill(d, i)
					b.StartTimer()
					for _, k := range hot.bytes {
						impl.add(k)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cmsBatch), "ns/packet")
				e := cmsAccuracy(d, eps, which)
				b.ReportMetric(e.topMean, "abs-err-top")
				b.ReportMetric(e.topMax, "max-err-top")
				b.ReportMetric(e.allMean, "abs-err-all")
				b.ReportMetric(e.allMax, "max-err-all")
				b.ReportMetric(float64(impl.bytes), "bytes")
			})
			b.Run(subName("eps", eps, "op", "estimate", "impl", impl.name), func(b *testing.B) {
				impl.reset() // fault its pages in now (see cmsImpl.reset)
				for _, f := range d.stream[:1_000_000] {
					impl.add(d.bytes[f])
				}
				b.ReportAllocs()
				hot, i := newCMSHot(), 0
				var sink uint64
				for b.Loop() {
					b.StopTimer()
					i = hot.fill(d, i)
					b.StartTimer()
					for _, k := range hot.bytes {
						sink += impl.estimate(k)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cmsBatch), "ns/packet")
				_ = sink
			})
		}
	}
}

// cmsRecall is the share of the k reported flows whose true count is at
// least the k-th largest (ties at the boundary count as correct). A flow
// reported more than once counts once: a heap holding duplicates of one
// flow (as BoomFilters' did on aliased keys, see cmsHot) reports fewer
// flows, not a better recall.
func cmsRecall(d *cmsStreamData, reported []flow.Key, index map[flow.Key]uint32) float64 {
	hit := 0
	seen := make(map[flow.Key]bool, len(reported))
	for _, k := range reported {
		if i, ok := index[k]; ok && !seen[k] && d.exact[i] >= d.kth {
			hit++
		}
		seen[k] = true
	}
	return float64(hit) / float64(cmsTopK)
}

// BenchmarkCMSTopK compares the top-k tracker (sketch + indexed min-heap)
// with BoomFilters' TopK (sketch + heap searched linearly) at k = 1000 and
// equal sketch memory (1 MB and 10 MB), and reports the recall of each
// after the whole stream. Ours runs with conservative update
// (impl=dataplane) and with standard update as the peer's sketch
// (impl=dataplane-standard).
func BenchmarkCMSTopK(b *testing.B) {
	d := cmsData(b)
	index := make(map[flow.Key]uint32, len(d.keys))
	for i, k := range d.keys {
		index[k] = uint32(i)
	}
	for _, eps := range []float64{1e-4, 1e-5} {
		bp := cms.ParamsFor(eps, cmsDelta)
		for _, cons := range []bool{true, false} {
			p := cms.Params{Width: 2 * bp.Width, Depth: bp.Depth, Seed: 1, Conservative: cons}
			name := map[bool]string{true: "dataplane", false: "dataplane-standard"}[cons]
			b.Run(subName("k", cmsTopK, "eps", eps, "op", "topk-add", "impl", name), func(b *testing.B) {
				t, _ := cms.NewTopK(p, cmsTopK)
				t.Reset() // fault its pages in now (see cmsImpl.reset)
				b.ReportAllocs()
				hot, i := newCMSHot(), 0
				for b.Loop() {
					b.StopTimer()
					i = hot.fill(d, i)
					b.StartTimer()
					for _, k := range hot.keys {
						t.Add(k, 1)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cmsBatch), "ns/packet")
				full, _ := cms.NewTopK(p, cmsTopK)
				for _, f := range d.stream {
					full.Add(d.keys[f], 1)
				}
				var rep []flow.Key
				for _, e := range full.Top() {
					rep = append(rep, e.Key)
				}
				b.ReportMetric(cmsRecall(d, rep, index), "recall")
			})
		}
		b.Run(subName("k", cmsTopK, "eps", eps, "op", "topk-add", "impl", "boom"), func(b *testing.B) {
			t := boom.NewTopK(eps, cmsDelta, cmsTopK)
			t.Reset() // fault its pages in now (see cmsImpl.reset)
			b.ReportAllocs()
			hot, i := newCMSHot(), 0
			for b.Loop() {
				b.StopTimer()
				i = hot.fill(d, i)
				b.StartTimer()
				for _, k := range hot.bytes {
					// BoomFilters' TopK keeps the slice it is given, which a
					// caller reusing packet buffers must copy first; the copy
					// is left out of the timed loop (favouring the peer):
					// each batch's keys are a fresh copy (see cmsHot).
					t.Add(k)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cmsBatch), "ns/packet")
			full := boom.NewTopK(eps, cmsDelta, cmsTopK)
			for _, f := range d.stream {
				full.Add(d.bytes[f])
			}
			var rep []flow.Key
			for _, e := range full.Elements() {
				k, err := flow.KeyFromBytes(e.Data)
				if err == nil {
					rep = append(rep, k)
				}
			}
			b.ReportMetric(cmsRecall(d, rep, index), "recall")
		})
	}
}

// cmsContender is one implementation in a [cmsRace]: run processes every
// packet of the hot batch.
type cmsContender struct {
	name string
	run  func(h *cmsHot)
}

// cmsRace runs the contenders on the same hot batch in turn, batch after
// batch, so that all see the same machine load (this machine is shared),
// and returns each one's ns/packet. The first to run after a batch is
// loaded finds the caches disturbed by the load, so the order rotates. Only
// the contenders of one comparison take part, so that no third structure
// competes with them for the caches.
func cmsRace(b *testing.B, d *cmsStreamData, cs ...cmsContender) []float64 {
	spent := make([]time.Duration, len(cs))
	hot, i := newCMSHot(), 0
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		b.StopTimer() // fill's arena is not the contenders' allocation
		i = hot.fill(d, i)
		b.StartTimer()
		for r := range cs {
			j := (n + r) % len(cs) // who goes first turns: fill evicts caches
			t0 := time.Now()
			cs[j].run(hot)
			spent[j] += time.Since(t0)
		}
	}
	ns := make([]float64, len(cs))
	for j, c := range cs {
		ns[j] = float64(spent[j].Nanoseconds()) / float64(b.N*cmsBatch)
		b.ReportMetric(ns[j], "ns/"+c.name)
	}
	return ns
}

// BenchmarkCMSRatio measures the targets as ratios to BoomFilters in the
// same loop (see [cmsRace]); x-boom above 1 means faster than the peer.
// Each race is named by impl= (ours) and vs= (what it races against).
//
//   - eps=E/op=add/impl=dataplane/vs=boom: Add of ours and of BoomFilters'
//     CountMinSketch at equal memory (uint32 counters, so twice the peer's
//     width; d = 5), both given the keys as bytes. A third contender,
//     "bound", is the work of the Go/kernel contract alone, no counter
//     touched: the key's flow hash (flow.Hash64) and its d row indexes
//     (flow.Index), computed as the sketch computes them. x-boom-bound, the
//     peer's time over it, is the largest x-boom our Add could reach were
//     its counter accesses free.
//   - eps=0.0001/op=add/impl=dataplane-conservative/vs=boom: the same with
//     conservative update.
//   - k=1000/eps=1e-05/op=topk-add/impl=dataplane/vs=boom: the top-k
//     trackers (ours with conservative update) at equal sketch memory
//     (10 MB); impl=dataplane-standard: ours with standard update, as the
//     peer's (ours reaches recall 1 here with either update, BoomFilters'
//     TopK 0.995: see BenchmarkCMSTopK).
//   - k=1000/eps=1e-05/op=topk-add/impl=L/vs=own-sketch: how much of
//     library L's top-k update is its sketch work: ours, the conservative
//     Add; BoomFilters', the Add and Count its TopK.Add calls (x-sketch:
//     top-k time over that).
//   - impl=...-batch (dataplane-batch, dataplane-conservative-batch, and
//     dataplane-batch in the topk-add rows): ours through AddBatch against
//     the peer's per-key calls, x-boom-batch. A race of its own: a batch
//     contender in the per-key race would be a third sketch in the caches.
func BenchmarkCMSRatio(b *testing.B) {
	d := cmsData(b)
	addAll := func(add func([]byte)) func(*cmsHot) {
		return func(h *cmsHot) {
			for _, k := range h.bytes {
				add(k)
			}
		}
	}
	for _, eps := range []float64{1e-4, 1e-5} {
		b.Run(subName("eps", eps, "op", "add", "impl", "dataplane", "vs", "boom"), func(b *testing.B) {
			impls := cmsImpls(eps)
			p := cms.ParamsFor(eps, cmsDelta)
			w, depth := 2*p.Width, p.Depth
			var sink uint32
			ns := cmsRace(b, d,
				cmsContender{"dataplane", addAll(impls[0].add)},
				cmsContender{"boom", addAll(impls[2].add)},
				cmsContender{"bound", func(h *cmsHot) {
					for _, k := range h.bytes {
						// flow.Index(h, r, w) for r < d, as the sketch derives it:
						// Mix(h, r) = Mix(h+r*Golden, 0)
						x := flow.Hash64(k, 1)
						for range depth {
							sink += flow.Reduce(flow.Mix(x, 0), w)
							x += flow.Golden
						}
					}
				}})
			b.ReportMetric(ns[1]/ns[0], "x-boom")
			b.ReportMetric(ns[1]/ns[2], "x-boom-bound")
			_ = sink
		})
		b.Run(subName("eps", eps, "op", "add", "impl", "dataplane-batch", "vs", "boom"), func(b *testing.B) {
			impls := cmsImpls(eps)
			p := cms.ParamsFor(eps, cmsDelta)
			batch := cms.MustNew(cms.Params{Width: 2 * p.Width, Depth: p.Depth, Seed: 1})
			ns := cmsRace(b, d,
				cmsContender{"dataplane-batch", func(h *cmsHot) { batch.AddBatch(h.bytes, 1) }},
				cmsContender{"boom", addAll(impls[2].add)})
			b.ReportMetric(ns[1]/ns[0], "x-boom-batch")
		})
	}
	b.Run(subName("eps", 1e-4, "op", "add", "impl", "dataplane-conservative", "vs", "boom"), func(b *testing.B) {
		impls := cmsImpls(1e-4)
		ns := cmsRace(b, d,
			cmsContender{"dataplane-conservative", addAll(impls[1].add)},
			cmsContender{"boom", addAll(impls[2].add)})
		b.ReportMetric(ns[1]/ns[0], "x-boom")
	})
	b.Run(subName("eps", 1e-4, "op", "add", "impl", "dataplane-conservative-batch", "vs", "boom"), func(b *testing.B) {
		impls := cmsImpls(1e-4)
		bp := cms.ParamsFor(1e-4, cmsDelta)
		batch := cms.MustNew(cms.Params{Width: 2 * bp.Width, Depth: bp.Depth, Seed: 1, Conservative: true})
		ns := cmsRace(b, d,
			cmsContender{"dataplane-conservative-batch", func(h *cmsHot) { batch.AddBatch(h.bytes, 1) }},
			cmsContender{"boom", addAll(impls[2].add)})
		b.ReportMetric(ns[1]/ns[0], "x-boom-batch")
	})

	bp := cms.ParamsFor(1e-5, cmsDelta)
	tp := cms.Params{Width: 2 * bp.Width, Depth: bp.Depth, Seed: 1, Conservative: true}
	ours := func() cmsContender {
		tk, _ := cms.NewTopK(tp, cmsTopK)
		return cmsContender{"topk-dataplane", func(h *cmsHot) {
			for _, k := range h.keys {
				tk.Add(k, 1)
			}
		}}
	}
	peer := func() cmsContender {
		tk := boom.NewTopK(1e-5, cmsDelta, cmsTopK)
		return cmsContender{"topk-boom", func(h *cmsHot) {
			for _, k := range h.bytes {
				tk.Add(k) // keeps k, a fresh copy per batch: see cmsHot
			}
		}}
	}
	b.Run(subName("k", cmsTopK, "eps", 1e-5, "op", "topk-add", "impl", "dataplane", "vs", "boom"), func(b *testing.B) {
		ns := cmsRace(b, d, ours(), peer())
		b.ReportMetric(ns[1]/ns[0], "x-boom")
	})
	b.Run(subName("k", cmsTopK, "eps", 1e-5, "op", "topk-add", "impl", "dataplane-batch", "vs", "boom"), func(b *testing.B) {
		tk, _ := cms.NewTopK(tp, cmsTopK)
		ns := cmsRace(b, d, cmsContender{"topk-dataplane-batch", func(h *cmsHot) { tk.AddBatch(h.keys, 1) }}, peer())
		b.ReportMetric(ns[1]/ns[0], "x-boom-batch")
	})
	b.Run(subName("k", cmsTopK, "eps", 1e-5, "op", "topk-add", "impl", "dataplane-standard", "vs", "boom"), func(b *testing.B) {
		tk, _ := cms.NewTopK(tp.WithConservative(false), cmsTopK)
		ns := cmsRace(b, d, cmsContender{"topk-dataplane-standard", func(h *cmsHot) {
			for _, k := range h.keys {
				tk.Add(k, 1)
			}
		}}, peer())
		b.ReportMetric(ns[1]/ns[0], "x-boom")
	})
	b.Run(subName("k", cmsTopK, "eps", 1e-5, "op", "topk-add", "impl", "dataplane", "vs", "own-sketch"), func(b *testing.B) {
		s := cms.MustNew(tp)
		ns := cmsRace(b, d, ours(), cmsContender{"sketch-dataplane", addAll(func(k []byte) { s.Add(k, 1) })})
		b.ReportMetric(ns[0]/ns[1], "x-sketch")
	})
	b.Run(subName("k", cmsTopK, "eps", 1e-5, "op", "topk-add", "impl", "boom", "vs", "own-sketch"), func(b *testing.B) {
		s := boom.NewCountMinSketch(1e-5, cmsDelta)
		var sink uint64
		ns := cmsRace(b, d, peer(), cmsContender{"sketch-boom", addAll(func(k []byte) { sink += s.Add(k).Count(k) })})
		b.ReportMetric(ns[0]/ns[1], "x-sketch")
		_ = sink
	})
}
