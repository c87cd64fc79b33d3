package bloom

import (
	"errors"
	"strings"
	"testing"
)

// mustPanic runs fn and checks that it panics with a message containing want.
func mustPanic(t *testing.T, name, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		err, _ := r.(error)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: panic %v, want one containing %q", name, r, want)
		}
	}()
	fn()
}

// TestZeroValue: the zero value of each filter contains no key (it used to
// answer "present" to every key for Filter and CountingFilter, k being 0,
// and to panic for Blocked), also after a failed UnmarshalBinary; Add on
// it panics with a message naming the call and saying what to do; the sizes and statistics
// are 0 and MarshalBinary is an error.
func TestZeroValue(t *testing.T) {
	keys := randomKeys(100, 90)
	var f Filter
	var b Blocked
	var c CountingFilter
	bad := []byte("DPBL\x02\x01\x00\x01") // k = 0, cut short
	if f.UnmarshalBinary(bad) == nil || b.UnmarshalBinary(bad) == nil || c.UnmarshalBinary(bad) == nil {
		t.Fatal("corrupt encoding accepted")
	}
	for i, key := range keys {
		h := uint64(i) * 0x9E3779B97F4A7C15
		for name, got := range map[string]bool{
			"Filter.Contains":                    f.Contains(key),
			"Filter.ContainsHash":                f.ContainsHash(h),
			"Filter.ContainsAtomic":              f.ContainsAtomic(key),
			"Filter.ContainsHashAtomic":          f.ContainsHashAtomic(h),
			"Blocked.Contains":                   b.Contains(key),
			"Blocked.ContainsHash":               b.ContainsHash(h),
			"Blocked.ContainsAtomic":             b.ContainsAtomic(key),
			"Blocked.ContainsHashAtomic":         b.ContainsHashAtomic(h),
			"CountingFilter.Contains":            c.Contains(key),
			"CountingFilter.ContainsHash":        c.ContainsHash(h),
			"CountingFilter.Count > 0":           c.Count(key) > 0,
			"CountingFilter.CountHash > 0":       c.CountHash(h) > 0,
			"CountingFilter.Filter().Contains":   c.Filter().Contains(key),
			"CountingFilter.Remove succeeds":     c.Remove(key) == nil,
			"CountingFilter.RemoveHash succeeds": c.RemoveHash(h) == nil,
		} {
			if got {
				t.Fatalf("zero value: %s of key %d is true", name, i)
			}
		}
		if err := c.Remove(key); !errors.Is(err, ErrNotPresent) {
			t.Fatalf("zero CountingFilter: Remove = %v, want ErrNotPresent", err)
		}
	}
	key := keys[0]
	for name, fn := range map[string]func(){
		"Filter.Add":             func() { f.Add(key) },
		"Filter.AddHash":         func() { f.AddHash(1) },
		"Filter.AddAtomic":       func() { f.AddAtomic(key) },
		"Filter.TestAndAdd":      func() { f.TestAndAdd(key) },
		"Blocked.Add":            func() { b.Add(key) },
		"Blocked.AddAtomic":      func() { b.AddAtomic(key) },
		"Blocked.TestAndAdd":     func() { b.TestAndAdd(key) },
		"CountingFilter.Add":     func() { c.Add(key) },
		"CountingFilter.AddHash": func() { c.AddHash(1) },
	} {
		mustPanic(t, name, "build one with New", fn)
		// The message names the call (TestAndAdd's used to say Add).
		method := strings.TrimSuffix(name[strings.Index(name, ".")+1:], "Hash")
		mustPanic(t, name, method, fn)
	}
	for name, v := range map[string]float64{
		"Filter.FillRatio":          f.FillRatio(),
		"Filter.EstimatedCount":     f.EstimatedCount(),
		"Filter.FalsePositiveRate":  f.FalsePositiveRate(),
		"Blocked.FillRatio":         b.FillRatio(),
		"Blocked.EstimatedCount":    b.EstimatedCount(),
		"Blocked.FalsePositiveRate": b.FalsePositiveRate(),
	} {
		if v != 0 {
			t.Errorf("zero value: %s = %v, want 0", name, v)
		}
	}
	// Sizes: no bits, no counters, no hashes (a zero CountingFilter's
	// width was 1, which no counting filter has).
	for name, v := range map[string]uint64{
		"Filter.Bits":                f.Bits(),
		"Filter.Hashes":              uint64(f.Hashes()),
		"Filter.SizeBytes":           uint64(f.SizeBytes()),
		"Blocked.Bits":               b.Bits(),
		"Blocked.Hashes":             uint64(b.Hashes()),
		"Blocked.SizeBytes":          uint64(b.SizeBytes()),
		"CountingFilter.Counters":    c.Counters(),
		"CountingFilter.Hashes":      uint64(c.Hashes()),
		"CountingFilter.Width":       uint64(c.Width()),
		"CountingFilter.SizeBytes":   uint64(c.SizeBytes()),
		"CountingFilter.Saturated":   c.Saturated(),
		"CountingFilter.RemoveBatch": uint64(c.RemoveBatch(keys)),
	} {
		if v != 0 {
			t.Errorf("zero value: %s = %d, want 0", name, v)
		}
	}
	for name, m := range map[string]interface{ MarshalBinary() ([]byte, error) }{"Filter": &f, "Blocked": &b, "CountingFilter": &c} {
		if enc, err := m.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "zero filter") {
			t.Errorf("zero %s: MarshalBinary = %x, %v; want an error", name, enc, err)
		}
	}
}

// TestNilArgument: Union and Intersect given a nil filter return an error
// matching ErrIncompatible and change nothing; Equal(nil) is false. They
// used to dereference it.
func TestNilArgument(t *testing.T) {
	f := MustNew(Params{Bits: 1024, Hashes: 3, Seed: 1})
	b := MustNewBlocked(Params{Bits: 1024, Hashes: 3, Seed: 1})
	f.Add([]byte("k"))
	b.Add([]byte("k"))
	for name, err := range map[string]error{
		"Filter.Union(nil)":      f.Union(nil),
		"Filter.Intersect(nil)":  f.Intersect(nil),
		"Blocked.Union(nil)":     b.Union(nil),
		"Blocked.Intersect(nil)": b.Intersect(nil),
	} {
		if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "nil") {
			t.Errorf("%s: %v, want ErrIncompatible naming the nil filter", name, err)
		}
	}
	if !f.Contains([]byte("k")) || !b.Contains([]byte("k")) {
		t.Error("a refused Intersect(nil) changed the filter")
	}
	if f.Equal(nil) || b.Equal(nil) {
		t.Error("Equal(nil) is true")
	}
}
