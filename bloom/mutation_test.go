package bloom

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package's code changed without failing a test.

// TestUnmarshal_UnknownKind guards that a kind byte naming no kind (0, or
// past the three kinds) is refused as corrupt, named unknown, rather than
// panicking on the table of kind names.
func TestUnmarshal_UnknownKind(t *testing.T) {
	good, err := MustNew(Params{Bits: 1024, Hashes: 3, Seed: 5}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	targets := []struct {
		name string
		kind int
		u    interface{ UnmarshalBinary([]byte) error }
	}{
		{"Filter", 1, &Filter{}},
		{"Blocked", 2, &Blocked{}},
		{"CountingFilter", 3, &CountingFilter{}},
	}
	for _, kind := range []byte{0, 4, 5, 255} {
		b := append([]byte(nil), good[:len(good)-4]...)
		b[5] = kind // the kind byte: magic (4 bytes), then version, kind
		b = appendCRC(b)
		for _, tc := range targets {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("kind %d into %s: panic %v", kind, tc.name, r)
					}
				}()
				err = tc.u.UnmarshalBinary(b)
			}()
			want := fmt.Sprintf("bloom: corrupt encoding: kind is %d (unknown), want %d (%s)", kind, tc.kind, tc.name)
			if !errors.Is(err, ErrCorrupt) || err.Error() != want {
				t.Errorf("kind %d into %s: got %v, want %q", kind, tc.name, err, want)
			}
		}
	}
}

// TestUnmarshal_PaddingEveryM guards the padding check for every position
// of the last used bit in the last word: for each m whose cells end inside
// a word, an encoding with the first bit past cell m-1, or the word's top
// bit, set is refused.
func TestUnmarshal_PaddingEveryM(t *testing.T) {
	type enc interface {
		MarshalBinary() ([]byte, error)
		UnmarshalBinary([]byte) error
	}
	check := func(name string, m uint64, width int, f, into enc) {
		t.Helper()
		used := m * uint64(width) % 64 // bits of the last word in use
		if used == 0 {
			return // the cells fill the last word: no padding
		}
		good, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := into.UnmarshalBinary(good); err != nil {
			t.Fatalf("%s m=%d: the unedited encoding is refused: %v", name, m, err)
		}
		last := len(good) - 4 - 8 // the last word, before the 4-byte CRC
		for _, bit := range []uint64{used, 63} {
			b := append([]byte(nil), good[:len(good)-4]...)
			b[last+int(bit/8)] |= 1 << (bit % 8)
			err := into.UnmarshalBinary(appendCRC(b))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "padding") {
				t.Errorf("%s m=%d: padding bit %d of the last word set: got %v, want a padding error", name, m, bit, err)
			}
		}
	}
	for m := uint64(1); m <= 200; m++ {
		check("Filter", m, 1, MustNew(Params{Bits: m, Hashes: 3}), &Filter{})
		for _, w := range []int{4, 8, 16} {
			check(fmt.Sprintf("CountingFilter/%d", w), m, w, MustNewCounting(Params{Bits: m, Hashes: 3}, w), &CountingFilter{})
		}
	}
}

// TestAppendBinary_ZeroValue guards that the zero value of every kind,
// which has no encoding, makes AppendBinary fail and leave the buffer as it
// was, and MarshalBinary fail with no bytes.
func TestAppendBinary_ZeroValue(t *testing.T) {
	for name, m := range map[string]interface {
		MarshalBinary() ([]byte, error)
		AppendBinary([]byte) ([]byte, error)
	}{"Filter": &Filter{}, "Blocked": &Blocked{}, "CountingFilter": &CountingFilter{}} {
		prefix := []byte("prefix")
		got, err := m.AppendBinary(append([]byte(nil), prefix...))
		if err == nil || !bytes.Equal(got, prefix) {
			t.Errorf("zero %s: AppendBinary = %q, %v; want the prefix unchanged and an error", name, got, err)
		}
		enc, err := m.MarshalBinary()
		if err == nil || enc != nil {
			t.Errorf("zero %s: MarshalBinary = %#v, %v; want nil and an error", name, enc, err)
		}
	}
}

// TestBlocked_FalsePositiveRateHandFilled guards Blocked.FalsePositiveRate
// as the mean over blocks of (block fill)^k, on blocks filled by hand.
func TestBlocked_FalsePositiveRateHandFilled(t *testing.T) {
	f := MustNewBlocked(Params{Bits: 2 * BlockBits, Hashes: 2})
	w := f.Words()
	for i := range 4 {
		w[i] = ^uint64(0) // block 0: 256 of its 512 bits
	}
	// ((256/512)^2 + (0/512)^2) / 2 = 0.25/2
	if got := f.FalsePositiveRate(); got != 0.125 {
		t.Errorf("half of block 0 set: FalsePositiveRate = %v, want 0.125", got)
	}
	for i := 8; i < 16; i++ {
		w[i] = ^uint64(0) // block 1: full
	}
	// (0.25 + 1) / 2
	if got := f.FalsePositiveRate(); got != 0.625 {
		t.Errorf("block 0 half set, block 1 full: FalsePositiveRate = %v, want 0.625", got)
	}
}

// TestParams_HashesJustAboveMax guards the limit k <= MaxHashes at its
// edge, k = 33: the sizing helpers refuse it themselves, with Bits and
// Hashes 0 and an error naming the cause, and accept k = 32.
func TestParams_HashesJustAboveMax(t *testing.T) {
	if p := ParamsForHashes(100, 0.01, MaxHashes); p.Validate() != nil {
		t.Errorf("ParamsForHashes(100, 0.01, 32): %v", p.Validate())
	}
	p := ParamsForHashes(100, 0.01, MaxHashes+1)
	if err := p.Validate(); err == nil || p.Bits != 0 || p.Hashes != 0 ||
		!strings.Contains(err.Error(), "ParamsForHashes: k must be in [1, 32], got 33") {
		t.Errorf("ParamsForHashes(100, 0.01, 33) = %v; want no bits or hashes and the k range error", p)
	}
	// ParamsFor(1, 1e-10): m = ceil(-ln(1e-10) / ln(2)^2) = ceil(23.026/0.48045)
	// = ceil(47.93) = 48, k = round(48 ln 2) = round(33.27) = 33: one hash too many.
	p = ParamsFor(1, 1e-10)
	if err := p.Validate(); err == nil || p.Bits != 0 || p.Hashes != 0 ||
		!strings.Contains(err.Error(), "fpr needs k = 33 hashes, more than the 32 supported") {
		t.Errorf("ParamsFor(1, 1e-10) = %v; want no bits or hashes and an error naming k = 33", p)
	}
}

// TestParamsFor_MaxBitsEdge guards the limit m <= MaxBits at its edge: a
// formula m of exactly MaxBits is accepted, one more refused.
func TestParamsFor_MaxBitsEdge(t *testing.T) {
	const n = MaxBits
	ln2sq := math.Ln2 * math.Ln2
	// -n ln(fpr) / ln(2)^2 = n - 0.5 and n + 0.5, so m = ceil = n and n + 1;
	// k = round((m/n) ln 2) = round(0.69) = 1; n > 200 adds no bits.
	for _, tc := range []struct {
		fpr  float64
		want uint64 // 0: refused
	}{
		{math.Exp(-ln2sq * (1 - 0.5/n)), MaxBits},
		{math.Exp(-ln2sq * (1 + 0.5/n)), 0},
	} {
		if m := math.Ceil(-n * math.Log(tc.fpr) / ln2sq); m != float64(MaxBits) && m != float64(MaxBits)+1 {
			t.Fatalf("fpr %v: formula m = %v, not at the edge", tc.fpr, m) // the test's own arithmetic
		}
		p := ParamsFor(n, tc.fpr)
		err := p.Validate()
		if tc.want != 0 && (err != nil || p.Bits != tc.want || p.Hashes != 1) {
			t.Errorf("ParamsFor(MaxBits, %v) = %v, %v; want m = MaxBits, k = 1", tc.fpr, p, err)
		}
		if tc.want == 0 && (err == nil || !strings.Contains(err.Error(), "more than the 4294967295 supported")) {
			t.Errorf("ParamsFor(MaxBits, %v) = %v, %v; want m = MaxBits+1 refused", tc.fpr, p, err)
		}
	}
}

// TestParamsFor_IndexFloorBoundDense guards ParamsFor's small-filter rule
// (the least m whose index-derivation floor is at most 1% of the target,
// or whose predicted rate plus floor is at most it) on a dense grid of
// fpr, which reaches k = 32 and the 1% edge, found by a linear search.
func TestParamsFor_IndexFloorBoundDense(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 4, 5, 6, 8, 10, 13, 20, 40, 100, 200} {
		for e := 0.3; e <= 10.5; e += 0.01 {
			fpr := math.Pow(10, -e)
			wantM, wantK, ok := paramsForRef(n, fpr)
			if !ok {
				continue // refused
			}
			if p := ParamsFor(n, fpr); p.Bits != uint64(wantM) || p.Hashes != int(wantK) {
				t.Errorf("ParamsFor(%d, %g) = m %d, k %d; want m %v, k %v", n, fpr, p.Bits, p.Hashes, wantM, wantK)
			}
		}
	}
}
