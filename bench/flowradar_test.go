package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// FlowRadar against the exact per-flow table it replaces: a Go map from
// flow key to counters, updated per packet. Keys come from the shared
// captures (internal/traffic, DATAPLANE_TRAFFIC_DIR), amplified to 1e6
// distinct flows; every benchmark here skips when the captures are
// absent.

type frCounter struct{ packets, bytes uint64 }

var frSink uint64

// frChunk is how many packets one iteration of BenchmarkFlowRadar_Encode
// times.
const frChunk = 1 << 16

// frKeys returns n distinct flow keys: amplified capture flows. It skips
// tb without captures, like every benchmark here: random keys instead
// would give other figures (decode rates among them) under the same names.
func frKeys(tb testing.TB, n int) []flow.Key {
	tb.Helper()
	return traffic.DistinctKeys(tb, n)[:n]
}

// heapDelta returns the live-heap growth made by build.
func heapDelta(build func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	build()
	runtime.GC()
	runtime.ReadMemStats(&b)
	return b.HeapAlloc - a.HeapAlloc
}

// BenchmarkFlowRadar_Encode: ns per packet of a known flow (every flow
// already in the epoch, the case of all packets but each flow's first),
// in a random order over n flows, against the map peer (impl=gomap).
// Memory per flow: bytes/flow is the encoder's, two epochs (the active one
// and the frozen one the collector reads), against the map's live heap,
// and epoch-bytes/flow is one epoch's. The impl=dataplane rows also time,
// in the same iterations, what every packet must compute before touching
// memory: the key's hash, its filter block and bit fields (one
// flow.Reduce and a flow.Mix per seven bits) and its Hashes cell indexes
// (flow.Index), the derivation the kernel shares, as index-ns/packet, a
// lower bound of ns/packet for this layout, with the benchmark's timer
// stopped (ns/op covers the Adds alone). The impl=dataplane-batch rows
// time the same packets through Encoder.AddPackets. Each row keeps one
// table, as a switch does: timing the batch on a second encoder in the
// same iterations would leave two tables competing for the caches, and at
// 1e4 flows (0.8 MB a table) that alone costs Add about a nanosecond a
// packet.
func BenchmarkFlowRadar_Encode(b *testing.B) {
	for _, n := range []int{1e4, 1e6} {
		keys := frKeys(b, n)
		// Every flow, in one random order; each iteration takes the next
		// frChunk of them, so that the timed packets range over all n
		// flows rather than repeating the same 65,536.
		order := rand.New(rand.NewPCG(1, 1)).Perm(n)
		all := make([]flow.Key, 0, n)
		for _, i := range order {
			all = append(all, keys[i])
		}
		chunk := min(n, frChunk)
		b.Run(subName("flows", n, "impl", "dataplane"), func(b *testing.B) {
			p := flowradar.ParamsFor(n, 1)
			e := flowradar.MustNew(p)
			for i := range keys {
				e.Add(&keys[i], 100)
			}
			off := 0
			var addT, idxT time.Duration
			var s uint64
			sub := p.Cells / uint32(p.Hashes)
			b.ReportAllocs()
			for b.Loop() {
				batch := all[off : off+chunk]
				if off += chunk; off+chunk > n {
					off = 0
				}
				t0 := time.Now()
				for i := range batch {
					e.Add(&batch[i], 100)
				}
				addT += time.Since(t0)
				// The index floor is a metric of its own, out of ns/op.
				b.StopTimer()
				t1 := time.Now()
				for i := range batch {
					h := batch[i].Hash(p.Seed)
					s += uint64(flow.Reduce(h, p.FilterBits/512)) // the filter's block
					for j := range uint32(p.FilterHashes+6) / 7 { // its bit fields, seven per mix
						s += flow.Mix(h, j)
					}
					for j := range uint32(p.Hashes) {
						s += uint64(flow.Index(h, flowradar.MaxFilterHashes+j, sub))
					}
				}
				idxT += time.Since(t1)
				b.StartTimer()
			}
			frSink += s
			pk := float64(b.N * chunk)
			b.ReportMetric(float64(addT.Nanoseconds())/pk, "ns/packet")
			b.ReportMetric(float64(idxT.Nanoseconds())/pk, "index-ns/packet")
			// The encoder timed holds two epochs (Params.SizeBytes is one).
			b.ReportMetric(float64(2*p.SizeBytes())/float64(n), "bytes/flow")
			b.ReportMetric(float64(p.SizeBytes())/float64(n), "epoch-bytes/flow")
		})
		b.Run(subName("flows", n, "impl", "dataplane-batch"), func(b *testing.B) {
			e := flowradar.MustNew(flowradar.ParamsFor(n, 1))
			for i := range keys {
				e.Add(&keys[i], 100)
			}
			pkts := make([]flowradar.Packet, len(all))
			for i := range all {
				pkts[i] = flowradar.Packet{Key: all[i], Size: 100}
			}
			off := 0
			b.ReportAllocs()
			for b.Loop() {
				batch := pkts[off : off+chunk]
				if off += chunk; off+chunk > n {
					off = 0
				}
				e.AddPackets(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunk), "ns/packet")
		})
		b.Run(subName("flows", n, "impl", "gomap"), func(b *testing.B) {
			var m map[flow.Key]*frCounter
			size := heapDelta(func() {
				m = make(map[flow.Key]*frCounter)
				for i := range keys {
					m[keys[i]] = &frCounter{1, 100}
				}
			})
			b.ReportAllocs()
			off := 0
			for b.Loop() {
				batch := all[off : off+chunk]
				if off += chunk; off+chunk > n {
					off = 0
				}
				for i := range batch {
					c := m[batch[i]]
					c.packets++
					c.bytes += 100
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunk), "ns/packet")
			b.ReportMetric(float64(size)/float64(n), "bytes/flow")
		})
	}
}

// BenchmarkFlowRadar_Trace replays every packet of the main captures, in
// capture order (new and known flows mixed, real flow sizes), into an
// encoder sized for their flows (impl=dataplane) and into the map peer
// (impl=gomap), each iteration one epoch. Like the encoder, which Flips
// between two tables and empties the one it takes back, the peer keeps two
// maps, one for the epoch being counted and one for the collector, and
// clears the one it reuses: a new map every epoch would time its
// allocation and the garbage collector as well (measured: from a sixth
// more time per packet on a quiet machine to twice as much on a busy one).
func BenchmarkFlowRadar_Trace(b *testing.B) {
	pk := traffic.Keys(b)
	flows := map[flow.Key]uint64{} // packets a flow
	for _, k := range pk {
		flows[k]++
	}
	b.Run(subName("impl", "dataplane"), func(b *testing.B) {
		e := flowradar.MustNew(flowradar.ParamsFor(len(flows), 1))
		b.ReportAllocs()
		for b.Loop() {
			e.Flip()
			for i := range pk {
				e.Add(&pk[i], 100)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pk)), "ns/packet")
		d, _ := e.Flip().Decode()
		frCheck(b, d.Flows, flows)
		b.ReportMetric(float64(len(d.Flows))/float64(len(flows)), "decode-rate")
	})
	b.Run(subName("impl", "gomap"), func(b *testing.B) {
		epochs := [2]map[flow.Key]*frCounter{}
		for i := range epochs {
			epochs[i] = make(map[flow.Key]*frCounter, len(flows))
		}
		b.ReportAllocs()
		for r := 0; b.Loop(); r++ {
			m := epochs[r%2]
			clear(m)
			for i := range pk {
				c := m[pk[i]]
				if c == nil {
					c = new(frCounter)
					m[pk[i]] = c
				}
				c.packets++
				c.bytes += 100
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pk)), "ns/packet")
	})
}

// BenchmarkFlowRadar_Decode: single decode of 1e5 flows at the default
// load (1.36 cells per flow); the target is under 50 ms. call=Decode
// allocates each result (a copy of the table among it); call=DecodeInto
// decodes into one Decoded, as a collector would epoch after epoch.
func BenchmarkFlowRadar_Decode(b *testing.B) {
	n := 100000
	keys := frKeys(b, n)
	tab, _ := flowradar.NewTable(flowradar.ParamsFor(n, 3))
	sent := frSent(keys, 4)
	for i := range keys {
		for j := 0; j <= i%4; j++ {
			tab.Add(&keys[i], 100)
		}
	}
	for _, into := range []bool{false, true} {
		call := map[bool]string{false: "Decode", true: "DecodeInto"}[into]
		b.Run(subName("call", call), func(b *testing.B) {
			var d flowradar.Decoded
			if err := tab.DecodeInto(&d); err != nil { // the memory DecodeInto reuses
				b.Fatal(err)
			}
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if into {
					err = tab.DecodeInto(&d)
				} else {
					d, err = tab.Decode()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/decode")
			frCheck(b, d.Flows, sent)
			b.ReportMetric(float64(len(d.Flows))/float64(n), "decode-rate")
		})
	}
}

// frParams returns 4-hash parameters with Cells = cpf*flows and the
// default filter for flows (flows taken for known, expected over the
// filling: about 0.001 for 1e4 flows), so the tables measure the counting
// table alone.
func frParams(flows int, cpf float64, seed uint64) flowradar.Params {
	p := flowradar.ParamsFor(flows, seed)
	p.Cells = (uint32(cpf*float64(flows)) + 3) / 4 * 4
	return p
}

// The decode-rate benchmarks report their figures as metrics of each row
// and, with -v, also as one table at the end (frRow collects its rows,
// frPrint logs it): a table on stdout among the result lines would get in
// the way of benchstat and of reading the results.
var frTable struct {
	sync.Mutex
	rows []string
}

func frRow(format string, a ...any) {
	frTable.Lock()
	frTable.rows = append(frTable.rows, fmt.Sprintf(format, a...))
	frTable.Unlock()
}

// frPrint logs the collected rows under title and header, with -v only,
// from the parent benchmark after its sub-benchmarks: b.Log's lines are
// indented, on lines of their own, after every result line.
func frPrint(b *testing.B, title, header string) {
	frTable.Lock()
	defer frTable.Unlock()
	if len(frTable.rows) > 0 && testing.Verbose() {
		b.Logf("%s\n%s\n%s\n%s", title, header, strings.Repeat("-", len(header)), strings.Join(frTable.rows, "\n"))
	}
	frTable.rows = nil
}

// BenchmarkFlowRadar_SingleDecodeRate: the fraction of flows single
// decode recovers against the load, in cells per flow (the peeling
// threshold of a 4-hash partitioned table is 1.295), for 1e4 and 1e5
// flows, over 5 seeds each ("complete": seeds where every flow the table
// holds was decoded). Run with -benchtime=1x; with -v, it also logs the
// results as a table.
func BenchmarkFlowRadar_SingleDecodeRate(b *testing.B) {
	for _, n := range []int{1e4, 1e5} {
		keys := frKeys(b, n)
		sent := frSent(keys, 1)
		for _, cpf := range []float64{1.0, 1.1, 1.2, 1.25, 1.28, 1.30, 1.32, 1.36, 1.5} {
			b.Run(subName("flows", n, "cells-per-flow", fmt.Sprintf("%.2f", cpf)), func(b *testing.B) {
				var rate float64
				full := 0
				const seeds = 5
				for b.Loop() {
					rate, full = 0, 0
					for s := uint64(0); s < seeds; s++ {
						tab, _ := flowradar.NewTable(frParams(n, cpf, s))
						for i := range keys {
							tab.Add(&keys[i], 100)
						}
						// The denominator is the flows the table holds: a
						// flow-filter false positive (summed over the
						// filling, about 0.001 per table at 1e4 flows and
						// 0.011 at 1e5) is never encoded, which is the
						// filter's error, not the counting table's.
						held := tab.Flows()
						d, _ := tab.Decode()
						frCheck(b, d.Flows, sent)
						rate += float64(len(d.Flows)) / float64(held) / seeds
						if len(d.Flows) == held {
							full++
						}
					}
				}
				b.ReportMetric(rate, "decode-rate")
				b.ReportMetric(float64(full)/seeds, "full-decodes")
				frRow("| %7d | %10.2f | %11.4f | %8s |", n, cpf, rate, fmt.Sprintf("%d/%d", full, seeds))
			})
		}
	}
	frPrint(b, "Single decode, 4 sub-tables: decoded fraction against cells per flow (5 seeds)",
		"|   flows | cells/flow | decode-rate | complete |")
}

// BenchmarkFlowRadar_NetworkDecodeRate: a leaf-spine network (4 leaves, 2
// spines; flows between random leaves, spine by ECMP) with 1e4 flows,
// every switch's table sized to the given cells per flow of the busiest
// switch. Single decode at the busiest switch against network-wide
// decoding (FlowDecode, then CounterDecode) of all switches, the paper's
// headline comparison. Run with -benchtime=1x; with -v, it also logs the
// results as a table.
func BenchmarkFlowRadar_NetworkDecodeRate(b *testing.B) {
	n := 10000
	keys := frKeys(b, n)
	sent := frSent(keys, 5)
	for _, cpf := range []float64{0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4} {
		b.Run(subName("flows", n, "cells-per-flow", fmt.Sprintf("%.2f", cpf)), func(b *testing.B) {
			var single, network, exact float64
			var loaded int
			for b.Loop() {
				// Size for the busiest switch: count flows per switch first.
				probe, _ := flowradar.NewLeafSpine(4, 2, frParams(64, 1, 1), 9)
				per := make([]int, 6)
				var path []int
				for i := range keys {
					for _, sw := range probe.Path(&keys[i], path[:0]) {
						per[sw]++
					}
				}
				loaded = 0
				for _, c := range per {
					loaded = max(loaded, c)
				}
				p := frParams(loaded, cpf, 1)
				p.FilterBits = flowradar.ParamsFor(n, 1).FilterBits // every switch's filter sized for all n flows
				net, _ := flowradar.NewLeafSpine(4, 2, p, 9)
				for i := range keys {
					for j := 0; j <= i%5; j++ {
						net.Send(&keys[i], 100)
					}
				}
				tabs := net.Flip()
				busiest := 0
				for j := range per {
					if per[j] > per[busiest] {
						busiest = j
					}
				}
				d, _ := tabs[busiest].Decode()
				frCheck(b, d.Flows, sent)
				single = float64(len(d.Flows)) / float64(per[busiest])
				nw, _ := flowradar.DecodeNetwork(tabs)
				network = float64(len(nw.Flows)) / float64(n)
				ok, all := 0, 0
				for _, f := range nw.Flows {
					want, found := sent[f.Key]
					if !found {
						b.Fatalf("network decode: flow %v was never sent", f.Key)
					}
					for _, c := range f.Counts {
						all++
						if c.Exact && uint64(c.Packets) == want {
							ok++
						}
					}
				}
				exact = float64(ok) / float64(max(all, 1))
			}
			b.ReportMetric(single, "single-decode-rate")
			b.ReportMetric(network, "network-decode-rate")
			b.ReportMetric(exact, "exact-counter-rate")
			frRow("| %20.2f | %16.4f | %15.4f | %14.4f |", cpf, single, network, exact)
		})
	}
	frPrint(b, "Leaf-spine 4x2, 1e4 flows: single decode at the busiest switch vs network-wide decode",
		"| cells/flow (busiest) | single (busiest) | network (flows) | exact counters |")
}

// frSent returns the packets sent of each key: keys[i] sent 1 + i%cycle
// times, as the benchmarks here send them.
func frSent(keys []flow.Key, cycle int) map[flow.Key]uint64 {
	sent := make(map[flow.Key]uint64, len(keys))
	for i, k := range keys {
		sent[k] = uint64(1 + i%cycle)
	}
	return sent
}

// frCheck fails b unless every decoded flow was sent, with its packets
// and 100 bytes a packet: a decode rate counts flows, and only flows
// decoded right may count.
func frCheck(b *testing.B, got []flowradar.Flow, sent map[flow.Key]uint64) {
	b.Helper()
	for _, f := range got {
		if n, ok := sent[f.Key]; !ok || f.Packets != n || f.Bytes != 100*n {
			b.Fatalf("decoded flow %v with %d packets and %d bytes; sent %d packets (of 100 bytes)", f.Key, f.Packets, f.Bytes, n)
		}
	}
}
