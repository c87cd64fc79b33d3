package maglev_test

import (
	"fmt"
	"sync/atomic"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/maglev"
)

// A load balancer picks a backend for each flow; every packet of the flow
// hashes to the same entry, on every node that uses the same seed.
func Example() {
	tb := maglev.MustNew(maglev.Params{Seed: 2016}, maglev.Backends(
		"10.1.0.1:80", "10.1.0.2:80", "10.1.0.3:80"))
	syn := flow.MustKey("192.0.2.7", "198.51.100.1", 41000, 80, flow.ProtoTCP)
	i, _ := tb.PickKey(&syn, 0)
	j, _ := tb.PickKey(&syn, 0)
	fmt.Println(i == j)
	lo, hi := tb.MinMax()
	fmt.Println(tb.Size(), lo, hi) // 65537 entries, 21845 or 21846 each
	// Output:
	// true
	// 65537 21845 21846
}

// Draining a backend (weight 0) before maintenance: it owns no entry, and
// only its flows move.
func ExampleTable_Update() {
	bs := maglev.Backends("a", "b", "c", "d")
	old := maglev.MustNew(maglev.Params{Size: 65537, Seed: 1}, bs)
	bs[3].Weight = 0
	drained, _ := old.Update(bs)
	fmt.Println(drained.Count(drained.Index("d")))
	fmt.Printf("moved %.2f of the hash space, d owned %.2f\n",
		maglev.Moved(old, drained), old.Shares()[old.Index("d")])
	// Output:
	// 0
	// moved 0.25 of the hash space, d owned 0.25
}

// Readers pick from the current table without a lock; a writer publishes a
// new one with a pointer swap.
func ExampleTable_Pick() {
	var current atomic.Pointer[maglev.Table]
	current.Store(maglev.MustNew(maglev.Params{Size: 7}, maglev.Backends("a", "b")))

	next, _ := current.Load().Update(maglev.Backends("a", "b", "c"))
	current.Store(next)

	i, ok := current.Load().Pick(0x8000000000000000)
	fmt.Println(ok, current.Load().Backend(i).Name != "")
	// Output: true true
}

// Weights: a backend of weight 3 gets three times the entries of one of
// weight 1.
func ExampleNew_weights() {
	tb := maglev.MustNew(maglev.Params{Size: 65537}, []maglev.Backend{
		{Name: "big", Weight: 3}, {Name: "small", Weight: 1}})
	fmt.Println(tb.Count(tb.Index("big")), tb.Count(tb.Index("small")))
	// Output: 49153 16384
}

// Pick's index is into the table's backends sorted by name, not into the
// slice given to New: read the backend back with Backend. And a backend
// without a Weight is drained.
func ExampleTable_Backend() {
	given := []maglev.Backend{{Name: "web-3", Weight: 1}, {Name: "big", Weight: 4}, {Name: "web-1"}}
	tb := maglev.MustNew(maglev.Params{Seed: 1}, given)
	counts := map[string]int{}
	for h := uint64(0); h < 1<<20; h++ {
		i, _ := tb.Pick(h << 44)
		counts[tb.Backend(i).Name]++
	}
	fmt.Println(tb.Backend(0).Name, tb.Backend(1).Name, tb.Backend(2).Name)
	fmt.Printf("big %.2f, web-3 %.2f, web-1 %.2f\n", float64(counts["big"])/(1<<20),
		float64(counts["web-3"])/(1<<20), float64(counts["web-1"])/(1<<20))
	// Output:
	// big web-1 web-3
	// big 0.80, web-3 0.20, web-1 0.00
}

// A ring with bounded loads never lets a backend exceed (1+eps) times the
// mean load.
func ExampleBounded() {
	r := maglev.MustNewRing(maglev.RingParams{VirtualNodes: 100, Seed: 1}, maglev.Backends("a", "b", "c", "d"))
	b, _ := maglev.NewBounded(r, 0.1)
	for h := uint64(0); h < 1000; h++ {
		b.Assign(flow.Mix(h, 0))
	}
	most := uint64(0)
	for _, l := range b.Loads(nil) {
		most = max(most, l)
	}
	fmt.Println(most <= 275) // ceil(1.1 * 1000 / 4)
	// Output: true
}

// A ring sends a flow to the owner of the next point on the circle at or
// after its hash. Removing a backend moves exactly the flows it owned.
func ExampleNewRing() {
	r, err := maglev.NewRing(maglev.RingParams{Seed: 1}, maglev.Backends("a", "b", "c", "d"))
	if err != nil {
		fmt.Println(err)
		return
	}
	k := flow.MustKey("192.0.2.7", "198.51.100.1", 41000, 80, flow.ProtoTCP)
	i, ok := r.Pick(k.Hash(0))
	fmt.Println(r.Backend(i).Name, ok, r.Points()) // 160 points per backend of weight 1

	hashes := make([]uint64, 100_000)
	for j := range hashes {
		hashes[j] = flow.Mix(uint64(j), 0)
	}
	smaller, _ := r.Update(maglev.Backends("a", "b", "c"))
	owned := maglev.Tally(r, r.Len(), hashes)[r.Index("d")] / float64(len(hashes))
	fmt.Printf("d owned %.3f, moved %.3f\n", owned, maglev.MovedFlows(r, smaller, hashes))
	// Output:
	// c true 640
	// d owned 0.238, moved 0.238
}
