package cms

import (
	"errors"
	"strings"
	"testing"
)

// noPanic runs f and fails t if it panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panics: %v", what, r)
		}
	}()
	f()
}

// Merge and Sum report a nil or zero sketch with an error that says so
// (they used to dereference it and panic) and wraps ErrIncompatible, as a
// nil operand does in the other packages (it used to wrap nothing).
func TestSketch_MergeInvalid(t *testing.T) {
	s := MustNew(Params{Width: 4, Depth: 2})
	s.Add([]byte("a"), 3)
	for _, tc := range []struct {
		name string
		f    func() error
		want string
	}{
		{"Merge(nil)", func() error { return s.Merge(nil) }, "nil sketch"},
		{"Merge(zero)", func() error { return s.Merge(&Sketch{}) }, "zero Sketch"},
		{"zero.Merge(s)", func() error { return new(Sketch).Merge(s) }, "zero Sketch"},
		{"Sum(s, nil)", func() error { _, err := Sum(s, nil); return err }, "sketch 1 of the sum is a nil sketch"},
		{"Sum(nil)", func() error { _, err := Sum(nil); return err }, "sketch 0 of the sum is a nil sketch"},
		{"Sum(s, zero)", func() error { _, err := Sum(s, &Sketch{}); return err }, "zero Sketch"},
	} {
		noPanic(t, tc.name, func() {
			err := tc.f()
			if err == nil || !strings.HasPrefix(err.Error(), "cms: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
			}
			if !errors.Is(err, ErrIncompatible) {
				t.Errorf("%s: error %v does not wrap ErrIncompatible", tc.name, err)
			}
		})
	}
	if s.Total() != 3 || s.Estimate([]byte("a")) != 3 {
		t.Fatalf("a failed Merge changed the sketch: N %d, estimate %d", s.Total(), s.Estimate([]byte("a")))
	}
}

// The zero Sketch is invalid and harmless: Add counts nothing, Estimate is
// 0, and MarshalBinary refuses it instead of writing bytes that
// UnmarshalBinary rejects.
func TestSketch_Zero(t *testing.T) {
	var s Sketch
	noPanic(t, "zero Sketch", func() {
		s.Add([]byte("a"), 5)
		s.AddHash(1, 5)
		if s.Total() != 0 {
			t.Errorf("Add on the zero Sketch raised N to %d", s.Total())
		}
		if e := s.Estimate([]byte("a")); e != 0 {
			t.Errorf("Estimate on the zero Sketch: %d, want 0", e)
		}
		if b, err := s.MarshalBinary(); err == nil {
			var u Sketch
			t.Errorf("MarshalBinary of the zero Sketch: %d bytes, no error (UnmarshalBinary says %v)", len(b), u.UnmarshalBinary(b))
		}
		prefix := []byte("x")
		if b, err := s.AppendBinary(prefix); err == nil || string(b) != "x" {
			t.Errorf("AppendBinary of the zero Sketch: %q, %v", b, err)
		}
		if _, err := s.MarshalBinary(); errors.Is(err, ErrCorrupt) {
			t.Errorf("MarshalBinary's error wraps ErrCorrupt: %v", err)
		}
	})
}
