package bloom

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestUnmarshal_FieldChecksResealed: each field check of the decoder
// holds on its own, with the checksum made valid again so that it is not
// the checksum that refuses the bytes: the whole magic (its last byte
// too), the exact length (a longer encoding with a valid checksum is as
// corrupt as a shorter one), the first padding bit after cell m-1, and
// the 24-byte minimum, whose message names the length one byte short of
// it.
func TestUnmarshal_FieldChecksResealed(t *testing.T) {
	f := MustNew(Params{Bits: 130, Hashes: 3, Seed: 1}) // 3 words: 20 + 24 + 4 = 48 bytes
	f.Add([]byte("a"))
	good, _ := f.MarshalBinary()
	reseal := func(b []byte) []byte { return appendCRC(append([]byte(nil), b[:len(b)-4]...)) }
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
		want string
	}{
		{"last magic byte", func(b []byte) []byte { b[3] = 'X'; return reseal(b) }, `bloom: corrupt encoding: magic is "DPBX", want "DPBL"`},
		{"one more word", func(b []byte) []byte { return reseal(append(b, make([]byte, 8)...)) }, "bloom: corrupt encoding: m = 130 needs 48 bytes, got 56"},
		// 130 bits use bits 0 and 1 of the last word; bit 2, in its first
		// byte, is the first padding bit.
		{"first padding bit", func(b []byte) []byte { b[len(b)-12] |= 0x04; return reseal(b) }, "bloom: corrupt encoding: padding bits after cell 129 are set"},
		{"one byte short of the minimum", func(b []byte) []byte { return b[:23] }, "bloom: corrupt encoding: 23 bytes, shorter than the 24-byte minimum"},
	} {
		var g Filter
		err := g.UnmarshalBinary(tc.edit(append([]byte(nil), good...)))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestUnmarshal_OtherKind: an encoding decodes only as its own kind, in
// every direction, even where its fields would fit the other kind (a
// Filter of 1024 bits has the width and the block multiple of a Blocked
// filter).
func TestUnmarshal_OtherKind(t *testing.T) {
	p := Params{Bits: 1024, Hashes: 3, Seed: 5}
	encs := map[string][]byte{}
	encs["Filter"], _ = MustNew(p).MarshalBinary()
	encs["Blocked"], _ = MustNewBlocked(p).MarshalBinary()
	encs["CountingFilter"], _ = MustNewCounting(p, 4).MarshalBinary()
	kinds := map[string]int{"Filter": 1, "Blocked": 2, "CountingFilter": 3}
	for from, enc := range encs {
		for to, u := range map[string]interface{ UnmarshalBinary([]byte) error }{
			"Filter": &Filter{}, "Blocked": &Blocked{}, "CountingFilter": &CountingFilter{},
		} {
			err := u.UnmarshalBinary(enc)
			if from == to {
				if err != nil {
					t.Errorf("%s into %s: %v", from, to, err)
				}
				continue
			}
			want := fmt.Sprintf("bloom: corrupt encoding: kind is %d (%s), want %d (%s)", kinds[from], from, kinds[to], to)
			if err == nil || err.Error() != want {
				t.Errorf("%s into %s: got %v, want %q", from, to, err, want)
			}
		}
	}
}

// TestAppendBinary_AfterPrefix: AppendBinary's encoding after bytes
// already in the buffer is the encoding MarshalBinary gives (its checksum
// covers its own bytes only), and decodes.
func TestAppendBinary_AfterPrefix(t *testing.T) {
	p := Params{Bits: 1024, Hashes: 3, Seed: 5}
	f, b, c := MustNew(p), MustNewBlocked(p), MustNewCounting(p, 8)
	for _, k := range randomKeys(50, 3) {
		f.Add(k)
		b.Add(k)
		c.Add(k)
	}
	prefix := []byte("some bytes before the filter")
	for name, tc := range map[string]struct {
		m interface {
			MarshalBinary() ([]byte, error)
			AppendBinary([]byte) ([]byte, error)
		}
		u interface{ UnmarshalBinary([]byte) error }
	}{"Filter": {f, &Filter{}}, "Blocked": {b, &Blocked{}}, "CountingFilter": {c, &CountingFilter{}}} {
		want, _ := tc.m.MarshalBinary()
		got, err := tc.m.AppendBinary(append([]byte(nil), prefix...))
		if err != nil || string(got[:len(prefix)]) != string(prefix) || string(got[len(prefix):]) != string(want) {
			t.Errorf("%s: AppendBinary after a prefix differs from MarshalBinary (%v)", name, err)
			continue
		}
		if err := tc.u.UnmarshalBinary(got[len(prefix):]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestBlockedParamsFor_RefusedAtOnce: an n whose information-theoretic
// minimum, n log2(1/fpr) bits, exceeds MaxBlockedBits (here by half) is
// refused with the message naming that minimum, not after a search.
func TestBlockedParamsFor_RefusedAtOnce(t *testing.T) {
	n := uint64(1.5 * float64(MaxBlockedBits) / math.Log2(100)) // fpr 1%: 1.5 MaxBlockedBits needed
	err := BlockedParamsFor(n, 0.01).Validate()
	if err == nil || !strings.Contains(err.Error(), "any filter of that rate needs at least n log2(1/fpr)") {
		t.Errorf("BlockedParamsFor(%d, 0.01): %v, want the lower-bound error", n, err)
	}
}
