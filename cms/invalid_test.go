package cms

import (
	"errors"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
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
		// It used to be NaN: e/0 for the width times N = 0.
		if b := s.ErrorBound(); b != 0 {
			t.Errorf("ErrorBound of the zero Sketch: %v, want 0", b)
		}
	})
}

// The zero TopK is harmless like the zero Sketch: Add counts nothing and
// returns 0, it tracks no flow, and Reset does nothing. Add, Min,
// HeavyHitters and Reset used to dereference its nil sketch or index its
// empty heap.
func TestTopK_Zero(t *testing.T) {
	var tk TopK
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	noPanic(t, "zero TopK", func() {
		if est := tk.Add(k, 5); est != 0 {
			t.Errorf("Add on the zero TopK: %d, want 0", est)
		}
		if tk.Min() != 0 || tk.Len() != 0 || tk.K() != 0 {
			t.Errorf("zero TopK: Min %d, Len %d, K %d; want 0, 0, 0", tk.Min(), tk.Len(), tk.K())
		}
		if top := tk.Top(); len(top) != 0 {
			t.Errorf("Top of the zero TopK: %v", top)
		}
		if hh := tk.HeavyHitters(0.5); hh != nil {
			t.Errorf("HeavyHitters of the zero TopK: %v", hh)
		}
		tk.Reset()
		if tk.Sketch() != nil {
			t.Errorf("Sketch of the zero TopK: %v, want nil", tk.Sketch())
		}
	})
}

// The zero Detector is harmless like the zero Sketch: Add counts nothing
// and crosses nothing, Filter drops nothing and reports nothing, Reset
// does nothing. Every one of them used to dereference its nil sketch.
func TestDetector_Zero(t *testing.T) {
	var d Detector
	key := []byte("a")
	noPanic(t, "zero Detector", func() {
		for range 3 {
			if est, crossed := d.Add(key, 5); est != 0 || crossed {
				t.Errorf("Add on the zero Detector: %d, %v; want 0, false", est, crossed)
			}
			if est, crossed := d.AddHash(1, 5); est != 0 || crossed {
				t.Errorf("AddHash on the zero Detector: %d, %v; want 0, false", est, crossed)
			}
			if drop, crossed := d.Filter(key); drop || crossed {
				t.Errorf("Filter on the zero Detector: %v, %v; want false, false", drop, crossed)
			}
			if drop, crossed := d.FilterHash(1); drop || crossed {
				t.Errorf("FilterHash on the zero Detector: %v, %v; want false, false", drop, crossed)
			}
			if drop, r := d.FilterReport(key); drop || r != ReportNone {
				t.Errorf("FilterReport on the zero Detector: %v, %v; want false, none", drop, r)
			}
			if drop, r := d.FilterReportHash(1); drop || r != ReportNone {
				t.Errorf("FilterReportHash on the zero Detector: %v, %v; want false, none", drop, r)
			}
		}
		d.Reset()
		if d.Threshold() != 0 || d.Sketch() != nil {
			t.Errorf("zero Detector: Threshold %d, Sketch %v; want 0, nil", d.Threshold(), d.Sketch())
		}
	})
}

// The zero Concurrent is harmless like the zero Sketch: Add counts nothing
// (N stays 0), Estimate returns 0 and Snapshot the zero Sketch. Add used
// to raise N, Estimate to return 2^32-1 (the minimum over no row), and
// Snapshot to panic in MustNew.
func TestConcurrent_Zero(t *testing.T) {
	var c Concurrent
	noPanic(t, "zero Concurrent", func() {
		c.Add([]byte("a"), 5)
		c.AddHash(1, 5)
		if c.Total() != 0 {
			t.Errorf("Add on the zero Concurrent raised N to %d", c.Total())
		}
		if e := c.Estimate([]byte("a")); e != 0 {
			t.Errorf("Estimate on the zero Concurrent: %d, want 0", e)
		}
		if e := c.EstimateHash(1); e != 0 {
			t.Errorf("EstimateHash on the zero Concurrent: %d, want 0", e)
		}
		s := c.Snapshot()
		if s == nil || s.Total() != 0 || len(s.Counters()) != 0 {
			t.Fatalf("Snapshot of the zero Concurrent: %v, want the zero Sketch", s)
		}
		if _, err := s.MarshalBinary(); err == nil {
			t.Error("the zero Concurrent's Snapshot encodes")
		}
	})
}
