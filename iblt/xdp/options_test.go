package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
)

// Option errors read "iblt kernel: ..." once (they read "iblt kernel:
// iblt: hashes ..."), from Load, Configure and Digest alike, on every OS.
func TestOptions_ErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "iblt kernel: hashes must be in [1, 8], got 0"},
		{Options{Cells: 10, Hashes: 3}, "iblt kernel: cells must be a multiple of hashes (3), got 10"},
		{Options{Cells: 2, Hashes: 3}, "iblt kernel: cells must be in [3, 268435456] for 3 hashes, got 2"},
	} {
		if _, err := Load(tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("Load(%+v): %v, want %q", tc.opts, err, tc.want)
		}
		if err := Configure(nil, tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("Configure(nil, %+v): %v, want %q", tc.opts, err, tc.want)
		}
		if err := tc.opts.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v): %v, want %q", tc.opts, err, tc.want)
		}
		if tb, err := Digest(tc.opts, nil); tb != nil || err == nil || err.Error() != tc.want {
			t.Errorf("Digest(%+v, nil): %v, %v; want nil, %q", tc.opts, tb, err, tc.want)
		}
	}
}

// OptionsFor sizes the digest as iblt.ParamsFor sizes a table of
// KeyLen-byte keys, and keeps the seed given: upstream and downstream
// digests built from one seed must subtract.
func TestOptionsFor_SizeAndSeed(t *testing.T) {
	for _, tc := range []struct {
		lost    int
		success float64
		seed    uint64
	}{
		{10, 0.99, 0x5eed},
		{1000, 0.999, 0xfeedface12345678},
	} {
		o, err := OptionsFor(tc.lost, tc.success, tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		p, err := iblt.ParamsFor(tc.lost, KeyLen, tc.success, tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		if o.Params() != p || o.Seed != tc.seed || o.Shared {
			t.Errorf("OptionsFor(%d, %v, %#x) = %+v, want the cells, hashes and seed of %+v, not shared", tc.lost, tc.success, tc.seed, o, p)
		}
	}
	if _, err := OptionsFor(-1, 0.99, 1); err == nil {
		t.Error("OptionsFor(-1, ...) succeeded")
	}
}
