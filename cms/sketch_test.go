package cms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

func TestParamsFor(t *testing.T) {
	tests := []struct {
		eps, delta float64
		w, d       uint32
		err        string
	}{
		{eps: 0.01, delta: 0.01, w: 272, d: 5},
		{eps: 0.001, delta: 0.001, w: 2719, d: 7},
		{eps: 0.5, delta: 0.5, w: 6, d: 1},
		{eps: 0.1, delta: 0.99, w: 28, d: 1},
		// ln(1/delta) with a fraction below one half: the ceiling, not
		// the nearest integer (ln 10 = 2.30, ln(1/0.3) = 1.20).
		{eps: 0.01, delta: 0.1, w: 272, d: 3},
		{eps: 0.01, delta: 0.3, w: 272, d: 2},
		{eps: 0, delta: 0.1, err: "cms: epsilon must be in (0, 1), got 0"},
		{eps: 1, delta: 0.1, err: "cms: epsilon must be in (0, 1), got 1"},
		{eps: math.NaN(), delta: 0.1, err: "cms: epsilon must be in (0, 1), got NaN"},
		{eps: 0.1, delta: 1.5, err: "cms: delta must be in (0, 1), got 1.5"},
		{eps: 0.1, delta: 1, err: "cms: delta must be in (0, 1), got 1"},
		{eps: 0.1, delta: 0, err: "cms: delta must be in (0, 1), got 0"},
		{eps: 0.1, delta: 1e-20, err: "cms: delta must be at least e^-32 (depth at most 32), got 1e-20"},
		{eps: 1e-9, delta: 0.1, err: "more than the 268435456 accepted"},
	}
	for _, tt := range tests {
		p := ParamsFor(tt.eps, tt.delta)
		_, err := New(p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParamsFor(%v, %v): error %v, want %q", tt.eps, tt.delta, err, tt.err)
			}
			continue
		}
		if err != nil || p.Width != tt.w || p.Depth != tt.d {
			t.Errorf("ParamsFor(%v, %v) = w %d d %d err %v, want w %d d %d", tt.eps, tt.delta, p.Width, p.Depth, err, tt.w, tt.d)
		}
		if p.Epsilon() > tt.eps || p.Delta() > tt.delta {
			t.Errorf("ParamsFor(%v, %v) predicts eps %v delta %v, worse than asked", tt.eps, tt.delta, p.Epsilon(), p.Delta())
		}
	}
}

// TestParamsFor_MaxCounters: ParamsFor gives a sketch of exactly
// MaxCounters counters (w = 2^27, d = 2) and refuses one column more with
// its own error, naming the counters needed. Validate only: New would
// allocate 1 GiB.
func TestParamsFor_MaxCounters(t *testing.T) {
	p := ParamsFor(math.E/(1<<27), 0.2)
	if err := p.Validate(); err != nil || p.Width != 1<<27 || p.Depth != 2 {
		t.Errorf("ParamsFor(e/2^27, 0.2) = width %d, depth %d, error %v; want 2^27, 2, none", p.Width, p.Depth, err)
	}
	p = ParamsFor(math.E/(1<<27+0.5), 0.2)
	want := "cms: epsilon 2.0252777772640113e-08 and delta 0.2 need 2.684e+08 counters (width 1.342e+08, depth 2), more than the 268435456 accepted (MaxCounters)"
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("ParamsFor(e/(2^27+0.5), 0.2): error %v, want %q", err, want)
	}
}

func TestParams_Validate(t *testing.T) {
	tests := []struct {
		p   Params
		err string
	}{
		{Params{Width: 0, Depth: 4}, "cms: width must be at least 1, got 0"},
		{Params{Width: 10, Depth: 0}, "cms: depth must be in [1, 32], got 0"},
		{Params{Width: 10, Depth: 33}, "cms: depth must be in [1, 32], got 33"},
		{Params{Width: 1 << 27, Depth: 4}, "cms: width*depth must be at most 268435456, got 134217728*4"},
		{Params{Width: 1, Depth: 1}, ""},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("%+v: error %v, want %q", tt.p, err, tt.err)
		}
	}
}

// TestSketch_MatchesReference compares every counter and estimate with the
// plain reference on a seeded Zipf stream, in both update modes. With a
// whale (a first key of nearly 2^32 packets, seen again at the end) N
// passes 2^32 early, so Add takes its saturating path, and the whale's
// counters saturate: ours must then equal the reference clamped at 2^32-1.
func TestSketch_MatchesReference(t *testing.T) {
	for _, whale := range []bool{false, true} {
		for _, cons := range []bool{false, true} {
			p := Params{Width: 97, Depth: 4, Seed: 7, Conservative: cons}
			s, ref := MustNew(p), newRef(p)
			stream, keys := zipfStream(1, 20000, 3000, 1.1)
			r := rand.New(rand.NewSource(2))
			var total uint64
			if whale {
				n := uint32(math.MaxUint32 - 100)
				s.Add([]byte("whale"), n)
				ref.add([]byte("whale"), uint64(n))
				total += uint64(n)
			}
			for _, f := range stream {
				n := uint32(1 + r.Intn(3))
				s.Add(keys[f].Bytes(), n)
				ref.add(keys[f].Bytes(), uint64(n))
				total += uint64(n)
			}
			if whale { // past 2^32-1 now
				s.Add([]byte("whale"), 1000)
				ref.add([]byte("whale"), 1000)
				total += 1000
			}
			if s.Total() != total {
				t.Fatalf("whale=%v conservative=%v: Total %d, want %d", whale, cons, s.Total(), total)
			}
			saturated := 0
			for row := range ref.m {
				for col, want := range ref.m[row] {
					want = min(want, math.MaxUint32)
					got := s.Counters()[row*int(p.Width)+col]
					if uint64(got) != want {
						t.Fatalf("whale=%v conservative=%v: counter (%d, %d) = %d, want %d", whale, cons, row, col, got, want)
					}
					if got == math.MaxUint32 {
						saturated++
					}
				}
			}
			if whale && saturated == 0 {
				t.Fatalf("conservative=%v: no counter saturated, the saturating path went untested", cons)
			}
			for i := range keys {
				got, want := s.Estimate(keys[i].Bytes()), min(ref.estimate(keys[i].Bytes()), math.MaxUint32)
				if uint64(got) != want {
					t.Fatalf("whale=%v conservative=%v: Estimate(%v) = %d, want %d", whale, cons, keys[i], got, want)
				}
			}
		}
	}
}

// TestSketch_ErrorBound checks the guarantee on seeded Zipf streams: no
// estimate below the true count, and at least a 1-delta share of flows
// within eps*N (Cormode and Muthukrishnan, Theorem 1). Conservative update
// must never be worse, counter by counter.
func TestSketch_ErrorBound(t *testing.T) {
	n, m := 400000, 50000
	if testing.Short() {
		n, m = 100000, 20000
	}
	for _, s := range []float64{1.05, 1.3, 2} {
		p := ParamsFor(0.001, 0.01).WithSeed(42)
		std, cons := MustNew(p), MustNew(p.WithConservative(true))
		stream, keys := zipfStream(int64(s*100), n, m, s)
		for _, f := range stream {
			std.Add(keys[f].Bytes(), 1)
			cons.Add(keys[f].Bytes(), 1)
		}
		exact := exactCounts(stream, m)
		bound := p.Epsilon() * float64(n)
		var over, seen int
		for i, c := range exact {
			if c == 0 {
				continue
			}
			seen++
			es, ec := std.Estimate(keys[i].Bytes()), cons.Estimate(keys[i].Bytes())
			if uint64(es) < c || uint64(ec) < c {
				t.Fatalf("zipf %v: flow %d count %d estimated %d (standard), %d (conservative)", s, i, c, es, ec)
			}
			if ec > es {
				t.Fatalf("zipf %v: conservative estimate %d above standard %d", s, ec, es)
			}
			if float64(es-uint32(c)) > bound {
				over++
			}
		}
		if share := float64(over) / float64(seen); share > p.Delta() {
			t.Errorf("zipf %v: %.4f of flows exceed eps*N = %.1f, want at most delta = %.4f", s, share, bound, p.Delta())
		}
		for i, v := range cons.Counters() {
			if v > std.Counters()[i] {
				t.Fatalf("zipf %v: conservative counter %d = %d above standard %d", s, i, v, std.Counters()[i])
			}
		}
	}
}

// TestSketch_ErrorBoundValue checks ErrorBound's value: eps*N, with eps =
// e/w of the sketch's Params and N its Total, for standard and
// conservative update alike, past the point where counters saturate (N
// does not stop at 2^32-1), and with N itself saturated at 2^64-1.
func TestSketch_ErrorBoundValue(t *testing.T) {
	for _, cons := range []bool{false, true} {
		p := Params{Width: 1000, Depth: 3, Seed: 9, Conservative: cons}
		s := MustNew(p)
		var n uint64
		for i, c := range []uint32{1, 7, 992, math.MaxUint32, math.MaxUint32} {
			k := testKey(uint32(i % 3))
			s.Add(k.Bytes(), c)
			n += uint64(c)
			if s.Total() != n {
				t.Fatalf("conservative=%v: total %d, want %d", cons, s.Total(), n)
			}
			want := p.Epsilon() * float64(n)
			if got := s.ErrorBound(); got != want || want != math.E/1000*float64(n) {
				t.Errorf("conservative=%v: N = %d: ErrorBound %v, want e/1000*N = %v", cons, n, got, want)
			}
		}
		full, err := FromCounters(p, make([]uint32, p.Counters()), math.MaxUint64)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := full.ErrorBound(), p.Epsilon()*float64(uint64(math.MaxUint64)); got != want {
			t.Errorf("conservative=%v: N saturated: ErrorBound %v, want %v", cons, got, want)
		}
	}
}

func TestSketch_Saturates(t *testing.T) {
	for _, cons := range []bool{false, true} {
		s := MustNew(Params{Width: 8, Depth: 3, Conservative: cons})
		key := []byte("elephant")
		s.Add(key, math.MaxUint32-2)
		s.Add(key, 5)
		if got := s.Estimate(key); got != math.MaxUint32 {
			t.Errorf("conservative=%v: estimate after saturation %d, want %d", cons, got, uint32(math.MaxUint32))
		}
		if s.Total() != math.MaxUint32+3 {
			t.Errorf("conservative=%v: total %d", cons, s.Total())
		}
		o := s.Clone()
		if err := s.Merge(o); err != nil {
			t.Fatal(err)
		}
		if got := s.Estimate(key); got != math.MaxUint32 {
			t.Errorf("conservative=%v: estimate after merging saturated sketches %d", cons, got)
		}
	}
}

func TestSketch_EmptyKey(t *testing.T) {
	s := MustNew(Params{Width: 16, Depth: 2})
	if got := s.Estimate(nil); got != 0 {
		t.Fatalf("estimate of the empty key in an empty sketch %d, want 0", got)
	}
	s.Add(nil, 3)
	if got := s.Estimate([]byte{}); got != 3 {
		t.Fatalf("the empty key is a key: estimate %d, want 3", got)
	}
}

func TestSketch_Merge(t *testing.T) {
	p := Params{Width: 211, Depth: 5, Seed: 3}
	stream, keys := zipfStream(9, 30000, 5000, 1.2)
	whole := MustNew(p)
	parts := []*Sketch{MustNew(p), MustNew(p), MustNew(p)}
	for i, f := range stream {
		whole.Add(keys[f].Bytes(), 1)
		parts[i%3].Add(keys[f].Bytes(), 1)
	}
	var counters [][]uint32
	var totals []uint64
	for _, part := range parts {
		counters = append(counters, append([]uint32(nil), part.Counters()...))
		totals = append(totals, part.Total())
	}
	sum, err := Sum(parts...)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total() != whole.Total() || !equalCounters(sum.Counters(), whole.Counters()) {
		t.Fatal("merged per-worker sketches differ from the sketch of the whole stream")
	}
	if parts[0].Total() == sum.Total() {
		t.Fatal("Sum modified its first argument")
	}
	// Sum leaves its inputs unchanged, counters as well as totals (it
	// builds on a clone of the first, which must not share its counters).
	for i, part := range parts {
		if part.Total() != totals[i] || !equalCounters(part.Counters(), counters[i]) {
			t.Fatalf("Sum modified its argument %d", i)
		}
	}
	bad := []struct {
		p    Params
		want string
	}{
		{Params{Width: 210, Depth: 5, Seed: 3}, "width 211 and 210"},
		{Params{Width: 211, Depth: 4, Seed: 3}, "depth 5 and 4"},
		{Params{Width: 211, Depth: 5, Seed: 4}, "seed 0x3 and 0x4"},
		{Params{Width: 211, Depth: 5, Seed: 3, Conservative: true}, "conservative update false and true"},
	}
	for _, b := range bad {
		err := whole.Merge(MustNew(b.p))
		if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Merge with %+v: %v, want ErrIncompatible naming %q", b.p, err, b.want)
		}
	}
	if _, err := Sum(); err == nil {
		t.Error("Sum of nothing succeeded")
	}
}

// TestSketch_CloneIndependent checks that Clone copies the counters, for
// standard and conservative sketches: the clone starts equal (same Params,
// counters and total), Adds to the clone leave the original alone, and
// Adds to the original, a Merge into it and its Reset leave the clone
// alone.
func TestSketch_CloneIndependent(t *testing.T) {
	stream, keys := zipfStream(11, 5000, 500, 1.1)
	for _, cons := range []bool{false, true} {
		p := Params{Width: 97, Depth: 4, Seed: 8, Conservative: cons}
		s := MustNew(p)
		for _, f := range stream[:2500] {
			s.Add(keys[f].Bytes(), 1)
		}
		orig, origN := append([]uint32(nil), s.Counters()...), s.Total()
		c := s.Clone()
		if c.Params() != p || c.Total() != origN || !equalCounters(c.Counters(), orig) {
			t.Fatalf("conservative=%v: clone differs from the original", cons)
		}
		for _, f := range stream[2500:] {
			c.Add(keys[f].Bytes(), 1)
		}
		if s.Total() != origN || !equalCounters(s.Counters(), orig) {
			t.Fatalf("conservative=%v: adding to the clone changed the original", cons)
		}
		cloned, clonedN := append([]uint32(nil), c.Counters()...), c.Total()
		for _, f := range stream[:1000] {
			s.Add(keys[f].Bytes(), 3)
		}
		if err := s.Merge(c); err != nil {
			t.Fatal(err)
		}
		if c.Total() != clonedN || !equalCounters(c.Counters(), cloned) {
			t.Fatalf("conservative=%v: adding to the original changed the clone", cons)
		}
		s.Reset()
		if c.Total() != clonedN || !equalCounters(c.Counters(), cloned) {
			t.Fatalf("conservative=%v: Reset of the original changed the clone", cons)
		}
	}
}

func equalCounters(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSketch_Reset(t *testing.T) {
	s := MustNew(Params{Width: 16, Depth: 2})
	s.Add([]byte("a"), 9)
	s.Reset()
	if s.Total() != 0 || s.Estimate([]byte("a")) != 0 {
		t.Fatal("Reset left counts behind")
	}
}

func TestSketch_MarshalRoundTrip(t *testing.T) {
	for _, cons := range []bool{false, true} {
		s := MustNew(Params{Width: 50, Depth: 3, Seed: 0xfeed, Conservative: cons})
		stream, keys := zipfStream(5, 2000, 300, 1.1)
		for _, f := range stream {
			s.Add(keys[f].Bytes(), 2)
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var u Sketch
		if err := u.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if u.Params() != s.Params() || u.Total() != s.Total() || !equalCounters(u.Counters(), s.Counters()) {
			t.Fatalf("conservative=%v: round trip changed the sketch", cons)
		}
		b2, _ := u.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Fatal("re-encoding differs")
		}
		// counters are little-endian, row-major, right after the header
		if got := uint32(b[headerLen]) | uint32(b[headerLen+1])<<8 | uint32(b[headerLen+2])<<16 | uint32(b[headerLen+3])<<24; got != s.Counters()[0] {
			t.Fatalf("first counter encoded as %d, want %d", got, s.Counters()[0])
		}
	}
}

func TestSketch_UnmarshalRejects(t *testing.T) {
	s := MustNew(Params{Width: 4, Depth: 2, Seed: 1})
	s.Add([]byte("x"), 3)
	good, _ := s.MarshalBinary()
	// mod changes a copy of good and seals it with a new checksum, so that
	// the check under test, not the checksum, refuses it.
	mod := func(f func(b []byte) []byte) []byte { return reseal(f(append([]byte(nil), good...))) }
	put32 := func(b []byte, off int, v uint32) []byte {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "0 bytes, the header alone is 32"},
		{"short header", good[:31], "31 bytes"},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), `magic "XMS2", want "CMS2" (or "CMS1", format 1)`},
		{"flags", mod(func(b []byte) []byte { return put32(b, 4, 6) }), "unknown flags 0x6"},
		// each undefined bit alone, and beside the defined one
		{"flag bit 1", mod(func(b []byte) []byte { return put32(b, 4, 2) }), "unknown flags 0x2"},
		{"flag bit 31", mod(func(b []byte) []byte { return put32(b, 4, 1<<31|flagConsrv) }), "unknown flags 0x80000001"},
		{"width 0", mod(func(b []byte) []byte { return put32(b, 8, 0) }), "width must be at least 1"},
		{"depth 0", mod(func(b []byte) []byte { return put32(b, 12, 0) }), "depth must be in [1, 32], got 0"},
		{"huge", mod(func(b []byte) []byte { return put32(put32(b, 8, 1<<30), 12, 32) }), "width*depth must be at most"},
		{"one byte short", good[:len(good)-1], "67 bytes for width 4 and depth 2, want 68"},
		{"one byte long", append(append([]byte(nil), good...), 0), "69 bytes for width 4 and depth 2, want 68"},
		{"counter, not resealed", func() []byte { b := append([]byte(nil), good...); b[headerLen] ^= 2; return b }(), "checksum is 0x"},
		{"checksum", func() []byte { b := append([]byte(nil), good...); b[len(b)-1] ^= 0x80; return b }(), "checksum is 0x"},
		{"row sum", mod(func(b []byte) []byte { b[headerLen]++; return b }), "row 0 sums to"},
		{"total", mod(func(b []byte) []byte { b[24]--; return b }), "more than the total 2"},
	}
	for _, tt := range tests {
		var u Sketch
		err := u.UnmarshalBinary(tt.b)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrCorrupt containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Count(err.Error(), "cms:") != 1 {
			t.Errorf("%s: %q names the package more than once", tt.name, err)
		}
		if u.counters != nil {
			t.Errorf("%s: failed decode modified the sketch", tt.name)
		}
	}
}

// reseal replaces the checksum at the end of a format 2 encoding with
// the checksum of the bytes before it.
func reseal(b []byte) []byte {
	if len(b) < headerLen+crcLen {
		return b
	}
	body := b[:len(b)-crcLen]
	binary.LittleEndian.PutUint32(b[len(body):], crc32.Checksum(body, castagnoli))
	return b
}

// TestSketch_UnmarshalBitFlips: no single flipped bit of an encoding
// decodes, wherever it falls (the checksum's doing for the counters and
// N, which no other check covers: a counter flipped lower would give an
// estimate below the true count).
func TestSketch_UnmarshalBitFlips(t *testing.T) {
	for _, cons := range []bool{false, true} {
		s := MustNew(Params{Width: 8, Depth: 3, Seed: 5, Conservative: cons})
		for i := range 20 {
			s.Add([]byte{byte(i)}, uint32(i+1))
		}
		good, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for bit := range 8 * len(good) {
			b := append([]byte(nil), good...)
			b[bit/8] ^= 1 << (bit % 8)
			var u Sketch
			if err := u.UnmarshalBinary(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("conservative %v: bit %d of byte %d flipped: %v, want ErrCorrupt", cons, bit%8, bit/8, err)
			}
		}
	}
}

// TestSketch_UnmarshalFormat1: format 1, the magic "CMS1" and no checksum,
// still decodes, to the same sketch, and re-encodes as format 2; its
// fields are checked as before, and format 2's length with format 1's
// magic is refused.
func TestSketch_UnmarshalFormat1(t *testing.T) {
	s := MustNew(Params{Width: 4, Depth: 2, Seed: 1, Conservative: true})
	s.Add([]byte("x"), 3)
	s.Add([]byte("y"), 2)
	v2, _ := s.MarshalBinary()
	v1 := append([]byte(magicV1), v2[4:len(v2)-crcLen]...)
	var u Sketch
	if err := u.UnmarshalBinary(v1); err != nil {
		t.Fatalf("format 1: %v", err)
	}
	if u.Params() != s.Params() || u.Total() != s.Total() || !slices.Equal(u.Counters(), s.Counters()) {
		t.Fatalf("format 1 decoded to %+v, N %d, %v; want %+v, N %d, %v", u.Params(), u.Total(), u.Counters(), s.Params(), s.Total(), s.Counters())
	}
	if again, _ := u.MarshalBinary(); !bytes.Equal(again, v2) {
		t.Fatalf("format 1 re-encoded as %x, want format 2 %x", again, v2)
	}
	bad := append([]byte(nil), v1...)
	bad[headerLen]++ // row 0 now sums past N
	if err := new(Sketch).UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "row 0 sums to") {
		t.Errorf("format 1 with a counter raised: %v, want the row-sum error", err)
	}
	withCRC := append([]byte(magicV1), v2[4:]...)
	if err := new(Sketch).UnmarshalBinary(withCRC); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "want 64") {
		t.Errorf("format 1 magic with a checksum: %v, want a length error", err)
	}
}

// TestSetCounters: SetCounters makes an existing sketch what FromCounters
// makes of the same counters and total; what FromCounters refuses it
// refuses as well (as the zero Sketch), leaving the sketch as it was.
func TestSetCounters(t *testing.T) {
	p := Params{Width: 64, Depth: 4, Seed: 11}
	src := sketchOf37(p)
	s := MustNew(p)
	s.Add([]byte("held before"), 3)
	was := s.Clone()
	for name, c := range map[string]struct {
		counters []uint32
		total    uint64
	}{
		"short":           {src.Counters()[1:], src.Total()},
		"one too many":    {append(append([]uint32(nil), src.Counters()...), 0), src.Total()},
		"total below sum": {src.Counters(), src.Total() - 1},
	} {
		if err := s.SetCounters(c.counters, c.total); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
		if !equalCounters(s.Counters(), was.Counters()) || s.Total() != was.Total() {
			t.Fatalf("%s: a refused SetCounters changed the sketch", name)
		}
	}
	for _, z := range []*Sketch{nil, {}} {
		if err := z.SetCounters(src.Counters(), src.Total()); err == nil || !strings.Contains(err.Error(), "zero Sketch") {
			t.Errorf("SetCounters on %#v: %v, want an error naming the zero Sketch", z, err)
		}
	}
	if err := s.SetCounters(src.Counters(), src.Total()); err != nil {
		t.Fatal(err)
	}
	if !equalCounters(s.Counters(), src.Counters()) || s.Total() != src.Total() || s.Params() != p {
		t.Fatal("SetCounters: the sketch differs from its source")
	}
	k := testKey(3)
	if e, want := s.Estimate(k.Bytes()), src.Estimate(k.Bytes()); e != want {
		t.Errorf("estimate %d after SetCounters, want %d", e, want)
	}
}

// sketchOf37 returns a sketch of p holding 500 packets of 37 flows.
func sketchOf37(p Params) *Sketch {
	s := MustNew(p)
	for i := range uint32(500) {
		k := testKey(i % 37)
		s.Add(k.Bytes(), 1)
	}
	return s
}

func TestFromCounters(t *testing.T) {
	p := Params{Width: 64, Depth: 4, Seed: 11}
	s := sketchOf37(p)
	got, err := FromCounters(p, s.Counters(), s.Total())
	if err != nil || !equalCounters(got.Counters(), s.Counters()) || got.Total() != s.Total() {
		t.Fatalf("FromCounters: %v", err)
	}
	if _, err := FromCounters(p, s.Counters()[1:], s.Total()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short counters: %v", err)
	}
	if _, err := FromCounters(p, append(append([]uint32(nil), s.Counters()...), 0), s.Total()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("one counter too many: %v", err)
	}
	if _, err := FromCounters(p, s.Counters(), s.Total()-1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("total below a row's sum: %v", err)
	}
	// A total above the rows' sums is what a read under traffic gives
	// (see Concurrent.Snapshot): valid.
	if _, err := FromCounters(p, s.Counters(), s.Total()+1); err != nil {
		t.Errorf("total above the rows' sums: %v", err)
	}
	if _, err := FromCounters(Params{}, nil, 0); err == nil {
		t.Error("invalid params accepted")
	}
}

func TestConcurrent_MatchesSerial(t *testing.T) {
	p := Params{Width: 1000, Depth: 4, Seed: 5}
	c, err := NewConcurrent(p)
	if err != nil {
		t.Fatal(err)
	}
	serial := MustNew(p)
	stream, keys := zipfStream(3, 40000, 2000, 1.1)
	for _, f := range stream {
		serial.Add(keys[f].Bytes(), 1)
	}
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(stream); i += workers {
				c.Add(keys[stream[i]].Bytes(), 1)
			}
		}()
	}
	wg.Wait()
	snap := c.Snapshot()
	if snap.Total() != serial.Total() || !equalCounters(snap.Counters(), serial.Counters()) {
		t.Fatal("concurrent adds differ from serial adds")
	}
	k := keys[0]
	if c.Estimate(k.Bytes()) != serial.Estimate(k.Bytes()) {
		t.Fatal("Estimate differs")
	}
	if _, err := NewConcurrent(p.WithConservative(true)); err == nil {
		t.Fatal("conservative concurrent sketch accepted")
	}
	c2, _ := NewConcurrent(Params{Width: 2, Depth: 1})
	c2.Add(nil, math.MaxUint32)
	c2.Add(nil, 1)
	if c2.Estimate(nil) != math.MaxUint32 {
		t.Fatal("concurrent counter wrapped")
	}
}

func TestAllocs(t *testing.T) {
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	key := k.Bytes()
	std := MustNew(ParamsFor(0.001, 0.01))
	cons := MustNew(ParamsFor(0.001, 0.01).WithConservative(true))
	conc, _ := NewConcurrent(ParamsFor(0.001, 0.01))
	top, _ := NewTopK(ParamsFor(0.001, 0.01), 100)
	det, _ := NewDetector(LabParams(4096, 1), 10)
	keys := make([]flow.Key, 1000)
	for i := range keys {
		keys[i] = testKey(uint32(i))
	}
	batch := make([][]byte, 100)
	hashes := make([]uint64, 100)
	for j := range batch {
		batch[j] = keys[j].Bytes()
		hashes[j] = std.Hash(batch[j])
	}
	i := 0
	cases := map[string]func(){
		"Add":              func() { std.Add(key, 1) },
		"Estimate":         func() { std.Estimate(key) },
		"Add/conservative": func() { cons.Add(key, 1) },
		"Concurrent.Add":   func() { conc.Add(key, 1) },
		"Concurrent.Estimate": func() {
			conc.Estimate(key)
		},
		"TopK.Add":              func() { top.Add(keys[i%len(keys)], 1); i++ },
		"AddBatch":              func() { std.AddBatch(batch, 1) },
		"AddBatch/conservative": func() { cons.AddBatch(batch, 1) },
		"AddHashes":             func() { std.AddHashes(hashes, 1) },
		"TopK.AddBatch":         func() { top.AddBatch(keys[:100], 1) },
		"Detector.Filter": func() {
			b := keys[i%len(keys)]
			det.Filter(b.Bytes())
			i++
		},
	}
	for name, f := range cases {
		if a := testing.AllocsPerRun(5000, f); a != 0 {
			t.Errorf("%s allocates %v times per call", name, a)
		}
	}
}

// TestSketch_AddEstimate: the estimate computed while adding equals a
// fresh Estimate, in both modes, below 2^32 and past it (after a whale).
func TestSketch_AddEstimate(t *testing.T) {
	for _, whale := range []bool{false, true} {
		for _, cons := range []bool{false, true} {
			s := MustNew(Params{Width: 31, Depth: 3, Seed: 2, Conservative: cons})
			if whale {
				s.Add([]byte("whale"), math.MaxUint32-3000)
			}
			stream, keys := zipfStream(6, 5000, 400, 1.1)
			for _, f := range stream {
				h := s.Hash(keys[f].Bytes())
				if got, want := s.addEstimate(h, 2), s.EstimateHash(h); got != want {
					t.Fatalf("whale=%v conservative=%v: add returned %d, Estimate %d", whale, cons, got, want)
				}
			}
		}
	}
}

// TestRowIndex_MatchesFlowIndex: the per-row state advanced by additions
// gives exactly flow.Index, the index derivation the kernels share, for
// every row up to MaxDepth and widths from 1 to 2^32-1.
func TestRowIndex_MatchesFlowIndex(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for n := 0; n < 2000; n++ {
		h := r.Uint64()
		if n < 3 {
			h = []uint64{0, math.MaxUint64, flow.Golden}[n]
		}
		w := []uint32{1, 2, 31, 54366, 1 << 20, math.MaxUint32, r.Uint32() | 1}[n%7]
		x := h
		for row := uint32(0); row < MaxDepth; row++ {
			if got, want := rowIndex(x, uint64(w)), flow.Index(h, row, w); got != want {
				t.Fatalf("h=%#x row %d w=%d: rowIndex %d, flow.Index %d", h, row, w, got, want)
			}
			x += flow.Golden
		}
	}
}

// A Snapshot taken while writers run is a sketch like any other: it
// encodes, decodes and goes through FromCounters. Its rows may sum to less
// than its total (the total is read last), which the decoders accept.
func TestConcurrent_SnapshotUnderWrites(t *testing.T) {
	p := Params{Width: 64, Depth: 4, Seed: 2}
	c, err := NewConcurrent(p)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint32(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := testKey(2*i + uint32(g))
				c.Add(k.Bytes(), 1)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for try := range 3000 {
		s := c.Snapshot()
		if err := decodes(s); err != nil {
			t.Fatalf("snapshot %d does not decode: %v", try, err)
		}
		if _, err := FromCounters(p, s.Counters(), s.Total()); err != nil {
			t.Fatalf("snapshot %d: FromCounters: %v", try, err)
		}
	}
}

// TestParamsFor_ErrorThenFilledIn: ParamsFor's error holds while the
// Params are what it returned, and stops holding once Width and Depth are
// set by hand (it used to stick, so New refused valid parameters); String
// shows the error, not a pointer.
func TestParamsFor_ErrorThenFilledIn(t *testing.T) {
	p := ParamsFor(2, 0.01)
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "epsilon must be in (0, 1)") {
		t.Fatalf("ParamsFor(2, 0.01).Validate() = %v, want the epsilon error", err)
	}
	if s := p.String(); !strings.Contains(s, "epsilon must be in (0, 1)") {
		t.Errorf("String() = %q, want the sizing error", s)
	}
	// Width set by hand, Depth still 0: the sizing error no longer
	// applies, and the depth is what is wrong.
	onlyWidth := p
	onlyWidth.Width = 1000
	if err := onlyWidth.Validate(); err == nil || !strings.Contains(err.Error(), "depth must be in [1, 32], got 0") {
		t.Errorf("after setting Width alone: Validate() = %v, want the depth error", err)
	}
	p.Width, p.Depth = 1000, 4
	if err := p.Validate(); err != nil {
		t.Errorf("after setting Width and Depth: Validate() = %v, want nil", err)
	}
	if _, err := New(p); err != nil {
		t.Errorf("New after setting Width and Depth: %v", err)
	}
	if s := p.String(); s != "width=1000 depth=4 seed=0x0 conservative=false" {
		t.Errorf("String() = %q", s)
	}
}

// TestConcurrent_TotalSaturates: N saturates at 2^64-1 in a Concurrent
// sketch as in a Sketch. Reaching it takes about 2^32 Adds of 2^32-1,
// which the test stands in for by storing the total such Adds leave
// (their counters saturated after the first two). Before, the total
// wrapped to a small number: Total was wrong, and the Snapshot held
// counters above its N, breaking the invariant of Sketch: it failed to
// decode, and an Add on it took the unchecked path and wrapped the
// saturated counter to 0, an estimate below the true count.
func TestConcurrent_TotalSaturates(t *testing.T) {
	c, err := NewConcurrent(Params{Width: 1, Depth: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("whale")
	c.Add(key, math.MaxUint32)
	c.Add(key, math.MaxUint32)                     // the counter saturates
	c.total.Store(math.MaxUint32 * math.MaxUint32) // 2^32-1 Adds of 2^32-1 so far
	c.Add(key, math.MaxUint32)                     // 2^64 - 2^32: still exact
	if got, want := c.Total(), uint64(math.MaxUint64-math.MaxUint32); got != want {
		t.Fatalf("Total %d, want %d", got, want)
	}
	c.Add(key, math.MaxUint32) // exactly 2^64-1
	c.Add(key, 2)              // past it
	if got := c.Total(); got != math.MaxUint64 {
		t.Fatalf("Total %d after passing 2^64-1, want it saturated at %d", got, uint64(math.MaxUint64))
	}
	s := c.Snapshot()
	if err := decodes(s); err != nil {
		t.Fatalf("the snapshot does not decode: %v", err)
	}
	s.Add(key, 1)
	if got := s.Estimate(key); got != math.MaxUint32 {
		t.Fatalf("an Add on the snapshot took the saturated counter to %d", got)
	}
}

// decodes reports why s, marshalled, does not unmarshal (nil when it does).
func decodes(s *Sketch) error {
	b, err := s.MarshalBinary()
	if err != nil {
		return err
	}
	var u Sketch
	return u.UnmarshalBinary(b)
}
