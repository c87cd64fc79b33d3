package bloom_test

import (
	"errors"
	"fmt"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
)

// A blocklist of flows: a Bloom filter never forgets a flow it was given.
func Example() {
	f := bloom.MustNew(bloom.ParamsFor(1000, 0.01))
	bad := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	good := flow.MustKey("10.0.0.3", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	f.Add(bad.Bytes())
	fmt.Println(f.Contains(bad.Bytes()), f.Contains(good.Bytes()))
	// Output: true false
}

// Sizing from intent: one million flows at 1% false positives.
func ExampleParamsFor() {
	p := bloom.ParamsFor(1_000_000, 0.01)
	fmt.Printf("m = %d bits (%.2f per flow), k = %d\n", p.Bits, float64(p.Bits)/1e6, p.Hashes)
	fmt.Printf("predicted rate %.4f (exact), %.4f (asymptotic)\n",
		bloom.FalsePositiveRate(p.Bits, p.Hashes, 1e6), bloom.FalsePositiveRateApprox(p.Bits, p.Hashes, 1e6))
	// Output:
	// m = 9585059 bits (9.59 per flow), k = 7
	// predicted rate 0.0100 (exact), 0.0100 (asymptotic)
}

// The 1-hash filter of the course notes costs about 100 bits per flow at 1%.
func ExampleParamsForHashes() {
	p := bloom.ParamsForHashes(1000, 0.01, 1)
	fmt.Println(p.Bits, p.Hashes)
	// Output: 99500 1
}

// A blocked filter pays for its speed with some extra bits.
func ExampleBlockedParamsFor() {
	c := bloom.ParamsFor(1_000_000, 0.001)
	b := bloom.BlockedParamsFor(1_000_000, 0.001)
	fmt.Printf("classic %.2f bits/flow k=%d, blocked %.2f bits/flow k=%d\n",
		float64(c.Bits)/1e6, c.Hashes, float64(b.Bits)/1e6, b.Hashes)
	// Output: classic 14.38 bits/flow k=10, blocked 16.30 bits/flow k=7
}

// One packet hash feeds several structures.
func ExampleFilter_AddHash() {
	k := flow.MustKey("192.0.2.1", "198.51.100.7", 40000, 443, flow.ProtoTCP)
	p := bloom.ParamsFor(100, 0.01)
	p.Seed = 7
	seen, blocked := bloom.MustNew(p), bloom.MustNewBlocked(bloom.BlockedParamsFor(100, 0.01))
	h := k.Hash(p.Seed) // blocked has seed 0: it needs its own hash
	seen.AddHash(h)
	blocked.AddHash(k.Hash(blocked.Seed()))
	fmt.Println(seen.Contains(k.Bytes()), blocked.Contains(k.Bytes()))
	// Output: true true
}

// Counting filters forget on request, and refuse to forget a stranger.
func ExampleCountingFilter_Remove() {
	c := bloom.MustNewCounting(bloom.ParamsFor(1000, 0.01), 4)
	a := []byte("flow a")
	c.Add(a)
	c.Add(a)
	fmt.Println(c.Count(a))
	fmt.Println(c.Remove(a), c.Contains(a))
	fmt.Println(c.Remove(a), c.Contains(a))
	err := c.Remove(a)
	fmt.Println(errors.Is(err, bloom.ErrNotPresent))
	// Output:
	// 2
	// <nil> true
	// <nil> false
	// true
}

// Many goroutines may add and test at once with the atomic methods.
func ExampleFilter_AddAtomic() {
	f := bloom.MustNew(bloom.ParamsFor(1000, 0.01))
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			for i := 0; i < 100; i++ {
				f.AddAtomic([]byte{byte(w), byte(i)})
			}
			done <- true
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	fmt.Println(f.ContainsAtomic([]byte{3, 99}), f.EstimatedCount() > 380)
	// Output: true true
}

// First-packet detection: TestAndAdd tells a flow's first packet from the
// rest in one call, as a flow filter does (package flowradar counts a flow
// once this way).
func ExampleBlocked_TestAndAdd() {
	seen := bloom.MustNewBlocked(bloom.BlockedParamsFor(10_000, 0.001))
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 40000, 443, flow.ProtoTCP)
	b := flow.MustKey("10.0.0.9", "10.0.0.2", 40001, 443, flow.ProtoTCP)
	newFlows := 0
	for _, k := range []flow.Key{a, a, b, a, b} {
		if !seen.TestAndAdd(k.Bytes()) {
			newFlows++
		}
	}
	fmt.Println(newFlows, "flows")
	// Output: 2 flows
}
