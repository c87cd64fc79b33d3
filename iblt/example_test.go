package iblt_test

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
)

// Two collectors saw almost the same flows. Each sends the other a table
// sized for the difference, not for its 1,000 flows; subtracting the two
// tables and listing names the flows only one of them saw, with their
// packet counts.
func Example() {
	p, _ := iblt.ParamsFor(10, flow.KeyLen4, 0.999, 42)
	east, west := iblt.MustNew(p), iblt.MustNew(p)
	for i := range 1000 {
		k := flow.KeyFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}, [4]byte{192, 0, 2, 1}, uint16(40000+i), 443, flow.ProtoTCP)
		if i != 7 { // east missed flow 7
			east.Insert(k.Bytes(), uint64(i%50+1))
		}
		if i != 500 && i != 501 { // west missed flows 500 and 501
			west.Insert(k.Bytes(), uint64(i%50+1))
		}
	}
	east.Subtract(west)
	onlyEast, onlyWest, err := east.List()
	fmt.Println("cells sent:", p.Cells, "error:", err)
	for _, e := range onlyEast {
		k, _ := flow.KeyFromBytes(e.Key)
		fmt.Println("only east:", k, e.Value, "packets")
	}
	for _, e := range onlyWest {
		k, _ := flow.KeyFromBytes(e.Key)
		fmt.Println("only west:", k, e.Value, "packets")
	}
	// Unordered output:
	// cells sent: 72 error: <nil>
	// only east: 10.0.1.244:40500 > 192.0.2.1:443 tcp 1 packets
	// only east: 10.0.1.245:40501 > 192.0.2.1:443 tcp 2 packets
	// only west: 10.0.0.7:40007 > 192.0.2.1:443 tcp 8 packets
}

// When the size of the difference is unknown, the sender streams coded
// symbols until the receiver has decoded: here 10 differences out of
// 2,000 flows take a handful of symbols per difference.
func ExampleDecoder() {
	key := func(i int) []byte {
		k := flow.KeyFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}, [4]byte{10, 2, 0, 1}, 53, 53, flow.ProtoUDP)
		return k.Bytes()
	}
	enc, _ := iblt.NewEncoder(flow.KeyLen4, 7)
	dec, _ := iblt.NewDecoder(flow.KeyLen4, 7)
	for i := range 2000 {
		if i < 1995 { // the sender lacks flows 1995..1999
			enc.Add(key(i))
		}
		if i >= 5 { // the receiver lacks flows 0..4
			dec.AddLocal(key(i))
		}
	}
	// A real receiver bounds the symbols it accepts (an honest stream
	// needs about 1.35 per difference, more for small differences) and
	// stops at the first error: the stream is then proven corrupt.
	var sym []byte
	for !dec.Done() {
		if dec.Received() == 1000 {
			fmt.Println("no decode after 1000 symbols")
			return
		}
		sym = enc.AppendNext(sym[:0])
		if err := dec.AddSymbol(sym); err != nil {
			fmt.Println(err)
			return
		}
	}
	var names []string
	for _, k := range dec.Remote() {
		fk, _ := flow.KeyFromBytes(k)
		names = append(names, "sender only: "+fk.String())
	}
	for _, k := range dec.Local() {
		fk, _ := flow.KeyFromBytes(k)
		names = append(names, "receiver only: "+fk.String())
	}
	sort.Strings(names)
	fmt.Println(len(names), "differences, fewer than 30 symbols:", dec.Received() < 30)
	for _, n := range names {
		fmt.Println(n)
	}
	// Output:
	// 10 differences, fewer than 30 symbols: true
	// receiver only: 10.1.7.203:53 > 10.2.0.1:53 udp
	// receiver only: 10.1.7.204:53 > 10.2.0.1:53 udp
	// receiver only: 10.1.7.205:53 > 10.2.0.1:53 udp
	// receiver only: 10.1.7.206:53 > 10.2.0.1:53 udp
	// receiver only: 10.1.7.207:53 > 10.2.0.1:53 udp
	// sender only: 10.1.0.0:53 > 10.2.0.1:53 udp
	// sender only: 10.1.0.1:53 > 10.2.0.1:53 udp
	// sender only: 10.1.0.2:53 > 10.2.0.1:53 udp
	// sender only: 10.1.0.3:53 > 10.2.0.1:53 udp
	// sender only: 10.1.0.4:53 > 10.2.0.1:53 udp
}

// One key length must serve IPv4 and IPv6 flows alike: flow.Key.Padded
// gives every flow 40 bytes, and flow.KeyFromPadded reads them back.
func ExampleDecoder_mixedFamilies() {
	flows := []flow.Key{
		flow.MustKey("10.0.0.1", "10.0.0.2", 40000, 443, flow.ProtoTCP),
		flow.MustKey("2001:db8::1", "2001:db8::2", 40001, 443, flow.ProtoTCP),
		flow.MustKey("10.0.0.3", "10.0.0.4", 53, 53, flow.ProtoUDP),
		flow.MustKey("2001:db8::3", "2001:db8::4", 123, 123, flow.ProtoUDP),
	}
	enc, _ := iblt.NewEncoder(flow.PaddedLen, 9)
	dec, _ := iblt.NewDecoder(flow.PaddedLen, 9)
	for i, k := range flows {
		p := k.Padded()
		if i != 1 { // the sender lacks the first IPv6 flow
			enc.Add(p[:])
		}
		if i != 2 { // the receiver lacks the UDP IPv4 flow
			dec.AddLocal(p[:])
		}
	}
	var sym []byte
	for !dec.Done() && dec.Received() < 100 {
		sym = enc.AppendNext(sym[:0])
		if err := dec.AddSymbol(sym); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, b := range dec.Remote() {
		k, _ := flow.KeyFromPadded(b)
		fmt.Println("sender only:", k)
	}
	for _, b := range dec.Local() {
		k, _ := flow.KeyFromPadded(b)
		fmt.Println("receiver only:", k)
	}
	// Output:
	// sender only: 10.0.0.3:53 > 10.0.0.4:53 udp
	// receiver only: [2001:db8::1]:40001 > [2001:db8::2]:443 tcp
}

// An estimator tells two hosts how large a table to exchange.
func ExampleEstimator() {
	a, _ := iblt.NewEstimator(iblt.DefaultEstimatorParams(8, 1))
	b, _ := iblt.NewEstimator(iblt.DefaultEstimatorParams(8, 1))
	for i := range 100000 {
		k := []byte(fmt.Sprintf("%08d", i))
		a.Insert(k)
		if i%50 != 0 { // b lacks 2,000 keys
			b.Insert(k)
		}
	}
	a.Subtract(b)
	est, err := a.Estimate()
	fmt.Println("estimate within a factor 2 of 2000:", err == nil && est >= 1000 && est <= 4000)
	// Output: estimate within a factor 2 of 2000: true
}

// Two hosts of about 2,000 flows each, which do not know how far apart
// they are, reconcile in two round trips: host A sends a strata estimator,
// host B answers with the estimated difference, and A sends a table sized
// for 1.5 times that, which B subtracts and lists. IPv4 and IPv6 flows
// travel alike as padded keys. Thirteen strata (bits.Len of the set size,
// plus two) estimate as well as the default 32 for sets this size, in 40%
// of the bytes.
func Example_reconcile() {
	const seed = 5
	key := func(i int) [flow.PaddedLen]byte {
		k := flow.KeyFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}, [4]byte{192, 0, 2, 1}, uint16(40000+i), 443, flow.ProtoTCP)
		if i%2 == 1 {
			k = flow.KeyFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}, [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, uint16(40000+i), 443, flow.ProtoTCP)
		}
		return k.Padded()
	}
	inA := func(i int) bool { return i < 2000 } // A has flows 0 to 1999
	inB := func(i int) bool { return i >= 20 }  // B has flows 20 to 2009

	// Round 1: A's estimator to B, B's estimate back to A.
	ep := iblt.DefaultEstimatorParams(flow.PaddedLen, seed)
	ep.Strata = bits.Len(2010) + 2
	ea, _ := iblt.NewEstimator(ep)
	eb, _ := iblt.NewEstimator(ep)
	for i := range 2010 {
		k := key(i)
		if inA(i) {
			ea.Insert(k[:])
		}
		if inB(i) {
			eb.Insert(k[:])
		}
	}
	wire, _ := ea.MarshalBinary()
	var fromA iblt.Estimator
	fromA.UnmarshalBinary(wire)
	fromA.Subtract(eb)
	est, err := fromA.Estimate()
	fmt.Println("estimator bytes:", len(wire), "estimate:", est, err)

	// Round 2: A's table, sized for 1.5 times the estimate, to B.
	p, _ := iblt.ParamsFor(est*3/2, flow.PaddedLen, 0.99, seed)
	ta, tb := iblt.MustNew(p), iblt.MustNew(p)
	for i := range 2010 {
		k := key(i)
		if inA(i) {
			ta.Insert(k[:], 0)
		}
		if inB(i) {
			tb.Insert(k[:], 0)
		}
	}
	wire, _ = ta.MarshalBinary()
	var diff iblt.Table
	diff.UnmarshalBinary(wire)
	diff.Subtract(tb)
	onlyA, onlyB, err := diff.List()
	fmt.Println("table bytes:", len(wire), "only A:", len(onlyA), "only B:", len(onlyB), err)
	var names []string
	for _, e := range onlyB {
		k, _ := flow.KeyFromPadded(e.Key)
		names = append(names, k.String())
	}
	sort.Strings(names)
	fmt.Println("first only B:", names[0])
	// Output:
	// estimator bytes: 66880 estimate: 30 <nil>
	// table bytes: 5656 only A: 20 only B: 10 <nil>
	// first only B: 10.0.7.208:42000 > 192.0.2.1:443 tcp
}

// A collector that reconciles every interval keeps one Listing and lists
// the difference of two tables into it: neither table changes, and once
// the Listing's buffers have grown, a listing allocates nothing.
func ExampleTable_ListDifferenceInto() {
	p, _ := iblt.ParamsFor(10, 4, 0.999, 7)
	a, b := iblt.MustNew(p), iblt.MustNew(p)
	var l iblt.Listing
	for interval := 1; interval <= 2; interval++ {
		a.Reset()
		b.Reset()
		for i := range 100 {
			key := []byte{byte(interval), 0, 0, byte(i)}
			if i != interval { // b misses key i = interval
				b.Insert(key, 1)
			}
			a.Insert(key, 1)
		}
		if err := a.ListDifferenceInto(b, &l); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("interval %d: only in a %v, only in b %d\n", interval, l.Inserted[0].Key, len(l.Deleted))
	}
	// Output:
	// interval 1: only in a [1 0 0 1], only in b 0
	// interval 2: only in a [2 0 0 2], only in b 0
}
