package cms_test

import (
	"fmt"
	"sync"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

// Count packets per flow in 54 KB, whatever their number, and ask for one
// flow's count.
func Example() {
	p := cms.ParamsFor(0.001, 0.01) // error at most 0.1% of N with probability 99%
	s := cms.MustNew(p)
	dns := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	web := flow.MustKey("10.0.0.1", "93.184.216.34", 40000, 443, flow.ProtoTCP)
	for range 300 {
		s.Add(web.Bytes(), 1)
	}
	s.Add(dns.Bytes(), 1)
	fmt.Println(p.Width, p.Depth, p.SizeBytes())
	fmt.Println(s.Estimate(web.Bytes()), s.Estimate(dns.Bytes()), s.Total())
	// Output:
	// 2719 5 54380
	// 300 1 301
}

// The heavy-hitter lab: packets of a flow pass until its estimate reaches the
// threshold, then they are dropped.
func ExampleDetector_Filter() {
	d, _ := cms.NewDetector(cms.LabParams(4096, 1), 3)
	k := flow.MustKey("10.0.1.1", "10.0.2.2", 1234, 80, flow.ProtoTCP)
	for i := range 5 {
		drop, crossed := d.Filter(k.Bytes())
		fmt.Println(i, drop, crossed)
	}
	// Output:
	// 0 false false
	// 1 false false
	// 2 false true
	// 3 true false
	// 4 true false
}

// Keep the largest flows with an O(log k) update per packet.
func ExampleTopK() {
	t, _ := cms.NewTopK(cms.ParamsFor(0.001, 0.01), 2)
	for i, n := range []int{5, 50, 20} {
		k := flow.MustKey("10.0.0.1", "10.0.0.2", uint16(1000+i), 80, flow.ProtoTCP)
		for range n {
			t.Add(k, 1)
		}
	}
	for _, e := range t.Top() {
		fmt.Println(e.Key, e.Count)
	}
	// Output:
	// 10.0.0.1:1001 > 10.0.0.2:80 tcp 50
	// 10.0.0.1:1002 > 10.0.0.2:80 tcp 20
}

// Per-CPU (per-worker) sketches merged on read: each worker owns a sketch,
// so adds share no memory; the merge is exact.
func ExampleSum() {
	p := cms.Params{Width: 1024, Depth: 4, Seed: 7}
	workers := make([]*cms.Sketch, 4)
	var wg sync.WaitGroup
	key := []byte("10.0.0.1:5353>10.0.0.2:53/udp")
	for i := range workers {
		workers[i] = cms.MustNew(p)
		wg.Add(1)
		go func(s *cms.Sketch) {
			defer wg.Done()
			for range 1000 {
				s.Add(key, 1)
			}
		}(workers[i])
	}
	wg.Wait()
	all, _ := cms.Sum(workers...)
	fmt.Println(all.Estimate(key), all.Total())
	// Output: 4000 4000
}

// Conservative update never estimates above the standard sketch.
func ExampleParams_WithConservative() {
	p := cms.Params{Width: 8, Depth: 2, Seed: 1}
	std, cons := cms.MustNew(p), cms.MustNew(p.WithConservative(true))
	for i := range 100 {
		k := []byte{byte(i)}
		for range i % 7 {
			std.Add(k, 1)
			cons.Add(k, 1)
		}
	}
	k := []byte{3}
	fmt.Println(cons.Estimate(k) <= std.Estimate(k), cons.Estimate(k) >= 3)
	// Output: true true
}

// Count a batch of packets, as a receive ring or a capture reader hands
// them over, with one call; the sketch ends as per-packet Adds leave it.
func ExampleSketch_AddBatch() {
	s := cms.MustNew(cms.ParamsFor(0.001, 0.01))
	web := flow.MustKey("10.0.0.1", "93.184.216.34", 40000, 443, flow.ProtoTCP)
	dns := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	batch := [][]byte{web.Bytes(), dns.Bytes(), web.Bytes(), web.Bytes()}
	s.AddBatch(batch, 1)
	fmt.Println(s.Estimate(web.Bytes()), s.Estimate(dns.Bytes()), s.Total())
	// Output:
	// 3 1 4
}
