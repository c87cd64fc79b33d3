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

// A 1-hash filter (k = 1) costs about 100 bits per flow at 1%, against
// 9.6 with the optimal k (ExampleParamsFor).
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

// Expire a batch of flows with one call. A key that Remove would refuse
// (here one never added) is skipped, and the count says how many went.
func ExampleCountingFilter_RemoveBatch() {
	c := bloom.MustNewCounting(bloom.ParamsFor(1000, 0.01), 4)
	a, b := []byte("flow a"), []byte("flow b")
	c.Add(a)
	c.Add(b)
	fmt.Println(c.RemoveBatch([][]byte{a, []byte("never added"), b}))
	fmt.Println(c.Contains(a), c.Contains(b))
	// Output:
	// 2
	// false false
}

// Test a batch of keys with one call; found[:0] reuses the answers' room.
func ExampleBlocked_AppendContains() {
	f := bloom.MustNewBlocked(bloom.BlockedParamsFor(1000, 0.01))
	f.Add([]byte("flow a"))
	found := make([]bool, 0, 64)
	found = f.AppendContains(found[:0], [][]byte{[]byte("flow a"), []byte("flow b")})
	fmt.Println(found)
	// Output:
	// [true false]
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

// A filter travels as bytes: a collector saves the flows it has seen and
// another process reloads them. Corrupt bytes are an error, and the filter
// they were meant for is left as it was.
func ExampleFilter_MarshalBinary() {
	seen := bloom.MustNew(bloom.ParamsFor(1000, 0.01))
	k := flow.MustKey("192.0.2.1", "198.51.100.7", 40000, 443, flow.ProtoTCP)
	seen.Add(k.Bytes())
	enc, err := seen.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Println(len(enc), "bytes")

	var loaded bloom.Filter
	if err := loaded.UnmarshalBinary(enc); err != nil {
		panic(err)
	}
	fmt.Println(loaded.Contains(k.Bytes()), loaded.Equal(seen))

	enc[30] ^= 1 // one flipped bit
	var damaged bloom.Filter
	err = damaged.UnmarshalBinary(enc)
	fmt.Println(errors.Is(err, bloom.ErrCorrupt), damaged.Contains(k.Bytes()))
	// Output:
	// 1224 bytes
	// true true
	// true false
}

// Two vantage points each keep a filter of the flows they saw; the union
// holds the flows seen by either. Filters of another size, k or seed
// cannot be combined.
func ExampleFilter_Union() {
	p := bloom.ParamsFor(1000, 0.01)
	east, west := bloom.MustNew(p), bloom.MustNew(p)
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 1000, 80, flow.ProtoTCP)
	b := flow.MustKey("10.0.0.3", "10.0.0.2", 2000, 80, flow.ProtoTCP)
	east.Add(a.Bytes())
	west.Add(b.Bytes())
	if err := east.Union(west); err != nil {
		panic(err)
	}
	fmt.Println(east.Contains(a.Bytes()), east.Contains(b.Bytes()))

	other := bloom.MustNew(bloom.ParamsFor(2000, 0.01))
	err := east.Union(other)
	fmt.Println(errors.Is(err, bloom.ErrIncompatible))
	fmt.Println(err)
	// Output:
	// true true
	// true
	// bloom: incompatible filters: filter bits differ: 9586 and 19171
}

// A counting filter keeps the set as flows come and go; its plain Filter
// (a quarter of the memory with 4-bit counters) is what a kernel or a peer
// needs to test membership.
func ExampleCountingFilter_Filter() {
	c := bloom.MustNewCounting(bloom.ParamsFor(1000, 0.01), 4)
	open := []byte("10.0.0.1:40000>10.0.0.2:443/tcp")
	closed := []byte("10.0.0.5:40001>10.0.0.2:443/tcp")
	c.Add(open)
	c.Add(closed)
	if err := c.Remove(closed); err != nil {
		panic(err)
	}
	f := c.Filter()
	fmt.Println(f.Contains(open), f.Contains(closed))
	fmt.Println(f.Bits() == c.Counters(), f.SizeBytes()*4 == c.SizeBytes())
	// Output:
	// true false
	// true true
}
