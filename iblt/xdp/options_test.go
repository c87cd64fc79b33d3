package xdp

import "testing"

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
		if tb, err := Digest(tc.opts, nil); tb != nil || err == nil || err.Error() != tc.want {
			t.Errorf("Digest(%+v, nil): %v, %v; want nil, %q", tc.opts, tb, err, tc.want)
		}
	}
}
