package flowradar

import (
	"fmt"
	"testing"
)

// BenchmarkEncoder measures Add per packet for known flows (the common
// case: every packet after a flow's first) and for new flows.
func BenchmarkEncoder(b *testing.B) {
	for _, n := range []int{100, 1e4, 1e6} {
		keys := randomKeys(n, 1)
		b.Run(fmt.Sprintf("Known/flows=%d", n), func(b *testing.B) {
			e := MustNew(ParamsFor(n, 1))
			for i := range keys {
				e.Add(&keys[i], 100)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.Add(&keys[i], 100)
				i++
				if i == len(keys) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
		})
	}
}

// BenchmarkDecode measures single decode of a table of 1e5 flows at the
// default load: Decode, which allocates its result, and DecodeInto, into
// a Decoded reused from one call to the next.
func BenchmarkDecode(b *testing.B) {
	n := 100000
	tab, _ := NewTable(ParamsFor(n, 1))
	traffic(tab.Add, randomKeys(n, 2), 3)
	for _, into := range []bool{false, true} {
		b.Run(fmt.Sprintf("into=%v", into), func(b *testing.B) {
			b.ReportAllocs()
			var d Decoded
			if err := tab.DecodeInto(&d); err != nil { // grows d's arrays: the calls below reuse them
				b.Fatal(err)
			}
			var err error
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
			b.ReportMetric(float64(len(d.Flows))/float64(n), "decode-rate")
		})
	}
}
