package cms

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package's code changed without failing a test.

// TestSketch_SaturatesAtTotalExactly2to32 guards counter saturation at the
// first total past 2^32-1: one key counted 2^32-2 and then 2 more times
// (N = 2^32 exactly) has a true count of 2^32, so its estimate must be
// clamped at 2^32-1, never wrapped to 0, through every way of adding.
func TestSketch_SaturatesAtTotalExactly2to32(t *testing.T) {
	key := testKey(3)
	b := key.Bytes()
	for _, cons := range []bool{false, true} {
		p := Params{Width: 8, Depth: 3, Seed: 4, Conservative: cons}
		adders := map[string]func(s *Sketch, n uint32){
			"Add":       func(s *Sketch, n uint32) { s.Add(b, n) },
			"AddHash":   func(s *Sketch, n uint32) { s.AddHash(s.Hash(b), n) },
			"AddBatch":  func(s *Sketch, n uint32) { s.AddBatch([][]byte{b}, n) },
			"AddHashes": func(s *Sketch, n uint32) { s.AddHashes([]uint64{s.Hash(b)}, n) },
		}
		for name, add := range adders {
			s := MustNew(p)
			add(s, math.MaxUint32-1)
			add(s, 2)
			if s.Total() != 1<<32 {
				t.Fatalf("conservative=%v %s: N = %d, want 2^32", cons, name, s.Total())
			}
			if got := s.Estimate(b); got != math.MaxUint32 {
				t.Errorf("conservative=%v %s: estimate %d at N = 2^32, want %d", cons, name, got, uint32(math.MaxUint32))
			}
		}
		tk, err := NewTopK(p, 2)
		if err != nil {
			t.Fatal(err)
		}
		tk.Add(key, math.MaxUint32-1)
		if got := tk.Add(key, 2); got != math.MaxUint32 {
			t.Errorf("conservative=%v TopK.Add: estimate %d at N = 2^32, want %d", cons, got, uint32(math.MaxUint32))
		}
	}
}

// TestSketch_ConservativeMaxDepth guards conservative update at the
// largest depth, MaxDepth: a lone key's estimate is its count (each of its
// counters holds only its own additions).
func TestSketch_ConservativeMaxDepth(t *testing.T) {
	for _, d := range []uint32{MaxDepth - 1, MaxDepth} {
		s := MustNew(Params{Width: 16, Depth: d, Seed: 2, Conservative: true})
		b := []byte("lone key")
		s.Add(b, 5)
		s.Add(b, 2)
		if got := s.Estimate(b); got != 7 {
			t.Errorf("depth %d: estimate %d of a lone key added 5 and 2, want 7", d, got)
		}
	}
}

// TestParamsFor_DepthJustAboveMax guards ParamsFor's depth limit at its
// edge: a delta needing depth ceil(ln(1/delta)) = 32 is accepted, one
// needing 33 is refused by ParamsFor itself (no width or depth set), naming
// delta.
func TestParamsFor_DepthJustAboveMax(t *testing.T) {
	// ln(1/e^-31.5) = 31.5, ceil 32; ln(1/e^-32.5) = 32.5, ceil 33.
	if p := ParamsFor(0.01, math.Exp(-31.5)); p.Validate() != nil || p.Depth != MaxDepth {
		t.Errorf("ParamsFor(0.01, e^-31.5) = %v, %v; want depth 32", p, p.Validate())
	}
	p := ParamsFor(0.01, math.Exp(-32.5))
	if err := p.Validate(); err == nil || p.Width != 0 || p.Depth != 0 ||
		!strings.Contains(err.Error(), "delta must be at least e^-32") {
		t.Errorf("ParamsFor(0.01, e^-32.5) = %v, %v; want no dimensions and the delta error", p, err)
	}
}

// TestParamsFor_ErrorThenDepthFilledIn guards that setting Depth alone
// after a failed ParamsFor drops the sizing error, as setting Width alone
// does: Validate then names the width that is still missing.
func TestParamsFor_ErrorThenDepthFilledIn(t *testing.T) {
	p := ParamsFor(2, 0.01) // epsilon out of range
	p.Depth = 4
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "width must be at least 1, got 0") {
		t.Errorf("after setting Depth alone: Validate() = %v, want the width error", err)
	}
}

// TestSketch_MarshalZeroAndNil guards MarshalBinary's own check of its
// receiver: the zero Sketch and a nil *Sketch give an error naming
// MarshalBinary and no bytes, and a nil one does not panic.
func TestSketch_MarshalZeroAndNil(t *testing.T) {
	var nilSketch *Sketch
	for name, s := range map[string]*Sketch{"zero": {}, "nil": nilSketch} {
		var b []byte
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s Sketch: MarshalBinary panicked: %v", name, r)
				}
			}()
			b, err = s.MarshalBinary()
		}()
		if err == nil || b != nil || !strings.Contains(err.Error(), "MarshalBinary's receiver") {
			t.Errorf("%s Sketch: MarshalBinary = %#v, %v; want nil and an error naming MarshalBinary", name, b, err)
		}
	}
}

// TestSketch_UnmarshalShortHeader guards the header-length check: 24 to
// 31 bytes, which hold the dimensions and seed but not N, are refused as a
// short header.
func TestSketch_UnmarshalShortHeader(t *testing.T) {
	good, err := MustNew(Params{Width: 1, Depth: 1}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := 24; n < 32; n++ {
		var s Sketch
		err := s.UnmarshalBinary(good[:n])
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "the header alone is 32") {
			t.Errorf("%d bytes: got %v, want a short-header error", n, err)
		}
	}
}

// TestTopK_TieByKeyBytesPrefix guards Top's tie order "by key bytes" where
// one key's bytes are a prefix of the other's: an IPv4 key and an IPv6 key
// whose bytes start with the IPv4 key's and are zero after, equal once
// padded, come in the order bytes.Compare gives, the shorter first.
func TestTopK_TieByKeyBytesPrefix(t *testing.T) {
	k4 := flow.KeyFrom4([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 0x090a, 0x0b0c, 6)
	b4 := k4.Bytes()
	var src [16]byte
	copy(src[:], b4) // 01..0c 06, then zeros
	k6 := flow.KeyFrom16(src, [16]byte{}, 0, 0, 0)
	if b6 := k6.Bytes(); !bytes.HasPrefix(b6, b4) || bytes.Compare(b4, b6) >= 0 {
		t.Fatalf("test keys: %x is not a proper prefix of %x", b4, b6)
	}
	for _, order := range [][]flow.Key{{k4, k6}, {k6, k4}} {
		tk, err := NewTopK(Params{Width: 1024, Depth: 4, Seed: 1}, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range order {
			tk.Add(k, 5)
		}
		top := tk.Top()
		if len(top) != 2 || top[0].Count != top[1].Count {
			t.Fatalf("Top = %v, want two flows tied", top)
		}
		if top[0].Key != k4 || top[1].Key != k6 {
			t.Errorf("added %v: Top = %v, want the IPv4 key (a prefix of the other's bytes) first", order, top)
		}
	}
}
