package iblt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestTable_Zero: the zero Table is not valid, and no method of it panics.
// Writes of any key, List and encoding fail with an error, and a
// zero Table is compatible with no table, not even another zero one. The
// zero Encoder's AppendNext, which returns no error, panics with a message
// naming the constructor instead of an index error.
func TestTable_Zero(t *testing.T) {
	var z Table
	for _, key := range [][]byte{{1}, nil} {
		if err := z.Insert(key, 1); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "zero Table") {
			t.Errorf("Insert of a %d-byte key into the zero Table: %v, want ErrInvalid naming the zero Table", len(key), err)
		}
		if err := z.Delete(key, 1); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "zero Table") {
			t.Errorf("Delete of a %d-byte key from the zero Table: %v, want ErrInvalid naming the zero Table", len(key), err)
		}
	}
	if _, r := z.Get([]byte{1}); r != Undetermined {
		t.Errorf("Get on the zero Table: %v, want Undetermined", r)
	}
	if ins, del, err := z.List(); len(ins)+len(del) != 0 || !errors.Is(err, ErrInvalid) {
		t.Errorf("List on the zero Table: %d, %d entries, %v; want none and ErrInvalid", len(ins), len(del), err)
	}
	if !z.IsEmpty() || z.Cells() != 0 {
		t.Errorf("zero Table: IsEmpty %v, Cells %d", z.IsEmpty(), z.Cells())
	}
	u := MustNew(Params{Cells: 30, Hashes: 3, KeyLen: 4, Seed: 1})
	var z2 Table
	for _, c := range []struct {
		name string
		err  error
	}{
		{"zero.Subtract(valid)", z.Subtract(u)},
		{"valid.Merge(zero)", u.Merge(&z)},
		{"zero.Subtract(zero)", z.Subtract(&z2)},
		{"zero.Merge(zero)", z.Merge(&z2)},
	} {
		if !errors.Is(c.err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, c.err)
		}
	}
	if z.Equal(&z2) || u.Equal(&z) {
		t.Error("a zero Table is Equal to another table")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "NewEncoder") {
				t.Errorf("AppendNext on the zero Encoder: recovered %v, want a panic naming NewEncoder", r)
			}
		}()
		var e Encoder
		e.AppendNext(nil)
	}()
	b, err := z.MarshalBinary()
	if !errors.Is(err, ErrInvalid) || b != nil {
		t.Errorf("MarshalBinary of the zero Table: %d bytes, %v; want no bytes and ErrInvalid", len(b), err)
	}
	if b, err := z.AppendBinary([]byte("x")); !errors.Is(err, ErrInvalid) || string(b) != "x" {
		t.Errorf("AppendBinary of the zero Table: %q, %v; want the input unchanged and ErrInvalid", b, err)
	}
	z.Reset()
	if c := z.Clone(); c == nil || c.Cells() != 0 {
		t.Errorf("Clone of the zero Table: %v", c)
	}
}

// TestDecoder_Zero: the zero Decoder, which has no key length, refuses
// every symbol with an error wrapping ErrInvalid and stays unchanged. A
// symbol of the size for keys of 0 bytes (16) used to pass the size check
// and panic with an index error.
func TestDecoder_Zero(t *testing.T) {
	var d Decoder
	for _, sym := range [][]byte{nil, make([]byte, SymbolSize(0)), make([]byte, SymbolSize(4))} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("AddSymbol of %d bytes on the zero Decoder panics: %v", len(sym), r)
				}
			}()
			if err := d.AddSymbol(sym); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "NewDecoder") {
				t.Errorf("AddSymbol of %d bytes on the zero Decoder: %v, want ErrInvalid naming NewDecoder", len(sym), err)
			}
		}()
	}
	if d.Received() != 0 || d.Done() || len(d.Remote())+len(d.Local()) != 0 {
		t.Errorf("zero Decoder after refused symbols: %d received, Done %v, %d remote, %d local keys",
			d.Received(), d.Done(), len(d.Remote()), len(d.Local()))
	}
}

// TestNilArgument: Subtract, Merge and Equal given a nil table, and the
// Estimator's Subtract given a nil estimator, return an error (false for
// Equal) instead of dereferencing it.
func TestNilArgument(t *testing.T) {
	u := MustNew(Params{Cells: 30, Hashes: 3, KeyLen: 4, Seed: 1})
	if err := u.Subtract(nil); !errors.Is(err, ErrIncompatible) {
		t.Errorf("Subtract(nil): %v, want ErrIncompatible", err)
	}
	if err := u.Merge(nil); !errors.Is(err, ErrIncompatible) {
		t.Errorf("Merge(nil): %v, want ErrIncompatible", err)
	}
	if u.Equal(nil) {
		t.Error("Equal(nil) is true")
	}
	e, err := NewEstimator(DefaultEstimatorParams(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Subtract(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Estimator.Subtract(nil): %v, want ErrInvalid", err)
	}
}

// TestZeroArgument_Incompatible: a zero or nil table (or estimator) given
// to Subtract or Merge is compatible with nothing, and its error matches
// both ErrIncompatible and ErrInvalid. Before zero Tables were refused
// explicitly, valid.Merge(&Table{}) failed the shape check and matched
// ErrIncompatible; the explicit refusal matched ErrInvalid alone, so
// callers testing errors.Is(err, ErrIncompatible) no longer recognised it,
// and Subtract(nil) matched ErrIncompatible but not ErrInvalid.
func TestZeroArgument_Incompatible(t *testing.T) {
	u := MustNew(Params{Cells: 30, Hashes: 3, KeyLen: 4, Seed: 1})
	var z, z2 Table
	e, _ := NewEstimator(DefaultEstimatorParams(4, 1))
	for _, c := range []struct {
		name string
		err  error
	}{
		{"valid.Merge(zero)", u.Merge(&z)},
		{"valid.Subtract(zero)", u.Subtract(&z)},
		{"valid.Merge(nil)", u.Merge(nil)},
		{"valid.Subtract(nil)", u.Subtract(nil)},
		{"zero.Subtract(valid)", z.Subtract(u)},
		{"zero.Merge(zero)", z.Merge(&z2)},
		{"Estimator.Subtract(zero)", e.Subtract(&Estimator{})},
		{"Estimator.Subtract(nil)", e.Subtract(nil)},
	} {
		if !errors.Is(c.err, ErrIncompatible) || !errors.Is(c.err, ErrInvalid) {
			t.Errorf("%s: %v; want an error matching ErrIncompatible and ErrInvalid", c.name, c.err)
		}
	}
}

// TestCoder_ZeroKeyError: a key given to the zero Encoder or Decoder is
// refused with an error that wraps ErrInvalid and names the zero value
// (the Encoder or the Decoder, not a key length of 0), and none is kept.
func TestCoder_ZeroKeyError(t *testing.T) {
	var e Encoder
	var d Decoder
	for _, c := range []struct {
		name, want string
		err        error
	}{
		{"Encoder.Add of a 1-byte key", "zero Encoder", e.Add([]byte{1})},
		{"Decoder.AddLocal of a 1-byte key", "zero Decoder", d.AddLocal([]byte{1})},
		{"Encoder.Add of an empty key", "zero Encoder", e.Add(nil)},
		{"Decoder.AddLocal of an empty key", "zero Decoder", d.AddLocal([]byte{})},
	} {
		if !errors.Is(c.err, ErrInvalid) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrInvalid naming the %s", c.name, c.err, c.want)
		}
	}
	if len(e.c.maps)+len(d.local.maps) != 0 {
		t.Errorf("the zero Encoder and Decoder hold %d and %d keys after refusing them", len(e.c.maps), len(d.local.maps))
	}
}
