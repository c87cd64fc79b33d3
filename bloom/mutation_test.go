package bloom

import (
	"errors"
	"fmt"
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
