package maglev_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// TestNextPrime_NoneAboveLargest guards that NextPrime finds no prime
// from 2^32-4 up to 2^32-1 (the largest prime below 2^32 is 2^32-5) and
// does not wrap around to small primes, also when started at 2^32-1.
func TestNextPrime_NoneAboveLargest(t *testing.T) {
	for _, n := range []uint32{^uint32(0) - 3, ^uint32(0) - 1, ^uint32(0)} {
		if got := maglev.NextPrime(n); got != 0 {
			t.Errorf("NextPrime(%d) = %d, want 0", n, got)
		}
	}
}

// TestNewRing_VirtualNodesLimitWithoutPoints guards the documented range
// of virtual nodes, [1, MaxRingPoints] or 0: MaxRingPoints+1 is refused
// even when no backend has a weight (so the ring would hold no point).
func TestNewRing_VirtualNodesLimitWithoutPoints(t *testing.T) {
	idle := []maglev.Backend{{Name: "a", Weight: 0}}
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: maglev.MaxRingPoints + 1}, idle); err == nil {
		t.Errorf("VirtualNodes %d accepted, want an error", maglev.MaxRingPoints+1)
	}
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: maglev.MaxRingPoints}, idle); err != nil {
		t.Errorf("VirtualNodes %d: %v, want it accepted", maglev.MaxRingPoints, err)
	}
}

// TestNewRing_OnePointTooMany guards the ring's size limit: weights times
// virtual nodes of MaxRingPoints+1 are refused.
func TestNewRing_OnePointTooMany(t *testing.T) {
	bs := []maglev.Backend{{Name: "a", Weight: maglev.MaxRingPoints/2 + 1}, {Name: "b", Weight: maglev.MaxRingPoints / 2}}
	if _, err := maglev.NewRing(maglev.RingParams{VirtualNodes: 1}, bs); err == nil {
		t.Errorf("%d points accepted, want an error", maglev.MaxRingPoints+1)
	}
}

// TestBounded_WrapsPastLastPoint guards the clockwise walk of a bounded
// assignment that starts past the ring's last point: it wraps to point 0
// and then goes on to the next points, so a key whose first choice is
// full reaches the backend of the last point.
func TestBounded_WrapsPastLastPoint(t *testing.T) {
	bs := []maglev.Backend{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}
	// Point 0 (a) at 2^40, point 1 (b) at 2^50; a hash above 2^50 wraps to a.
	r := maglev.RingFromPoints(bs, []uint64{1 << 40, 1 << 50}, []uint32{0, 1})
	const past = uint64(1) << 60
	if i, ok := r.Pick(past); !ok || i != 0 {
		t.Fatalf("Pick(2^60) = %d, %v; want 0 (wrap to the first point)", i, ok)
	}
	b, err := maglev.NewBounded(r, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	// Capacities ceil(1.01*m/2) for m = 1, 2: 1 and 2, so two keys at 0
	// both go to a.
	for k := range 2 {
		if i, _ := b.Assign(0); i != 0 {
			t.Fatalf("key %d at hash 0 assigned to %d, want 0", k, i)
		}
	}
	// Third key: capacity ceil(1.01*3/2) = 2, a is full, so the walk from
	// the wrap goes on to b.
	if i, ok := b.Assign(past); !ok || i != 1 {
		t.Errorf("Assign(2^60) with a full = %d, %v; want 1 (b, next clockwise)", i, ok)
	}
	if got := b.Load(0); got != 2 {
		t.Errorf("load of a %d, want 2 (at capacity)", got)
	}
}

// TestUnmarshal_UnknownVersion guards that an encoding whose version byte
// (the fifth, after the magic "MGLV") is neither 2 nor 1 is refused as
// corrupt.
func TestUnmarshal_UnknownVersion(t *testing.T) {
	tab := maglev.MustNew(maglev.Params{Size: 101}, maglev.Backends("a", "b"))
	data, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:4]) != "MGLV" || data[4] != 2 {
		t.Fatalf("encoding starts % x, want MGLV then version 2", data[:5])
	}
	for _, v := range []byte{0, 3, 255} {
		bad := append([]byte(nil), data...)
		bad[4] = v
		var got maglev.Table
		if err := got.UnmarshalBinary(bad); !errors.Is(err, maglev.ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("version %d, want 2 (or 1", v)) {
			t.Errorf("version %d: error %v, want ErrCorrupt naming the version", v, err)
		}
	}
}

// TestNew_TooManyBackends guards the documented bound on backends: more
// than MaxSize (one per entry of the largest table) is refused by count,
// before any name is looked at.
func TestNew_TooManyBackends(t *testing.T) {
	bs := make([]maglev.Backend, maglev.MaxSize+1)
	_, err := maglev.New(maglev.Params{}, bs)
	if err == nil || !strings.Contains(err.Error(), "at most "+strconv.Itoa(maglev.MaxSize)+" backends") {
		t.Errorf("New with MaxSize+1 backends: %v, want the count refused", err)
	}
}
