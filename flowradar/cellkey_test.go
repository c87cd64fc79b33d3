package flowradar

import (
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// FuzzCellKey: Cell.Key, which decoders call on every cell they test and
// so builds no error, accepts exactly the FlowXOR values that
// flow.KeyFromPadded accepts, with the same key.
func FuzzCellKey(f *testing.F) {
	k4 := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	k6 := flow.MustKey("2001:db8::1", "2001:db8::2", 3, 4, flow.ProtoUDP)
	p4, p6 := k4.Padded(), k6.Padded()
	f.Add(p4[:])
	f.Add(p6[:])
	x := p4
	for i := range x {
		x[i] ^= p6[i] // two flows' XOR: no key
	}
	f.Add(x[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Cell
		n := copy(c.FlowXOR[:], b)
		want, werr := flow.KeyFromPadded(c.FlowXOR[:])
		got, ok := c.Key()
		if ok != (werr == nil) || got != want {
			t.Fatalf("FlowXOR %x (%d input bytes): Cell.Key %v, %v; KeyFromPadded %v, %v", c.FlowXOR, n, got, ok, want, werr)
		}
	})
}

// TestCellKey_NoAllocs: Cell.Key, called by the decoders on every cell
// they test, allocates neither for a key nor for the many cells holding
// none.
func TestCellKey_NoAllocs(t *testing.T) {
	k := flow.MustKey("2001:db8::1", "2001:db8::2", 3, 4, flow.ProtoUDP)
	var pure, mixed Cell
	pure.FlowXOR = k.Padded()
	mixed.FlowXOR = k.Padded()
	mixed.FlowXOR[flow.PaddedLen-1] = 21 // a length byte no single key has
	var sink bool
	if a := testing.AllocsPerRun(100, func() {
		_, ok1 := pure.Key()
		_, ok2 := mixed.Key()
		sink = ok1 && !ok2
	}); a != 0 {
		t.Errorf("Cell.Key allocates %v times per pair of calls", a)
	}
	if !sink {
		t.Error("Cell.Key: the pure cell must give a key and the mixed one none")
	}
}
