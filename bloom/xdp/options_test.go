package xdp

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
)

// TestOptions_ValidateAllocatesNothing: checking the options does not
// build the filter (it used to call bloom.New or bloom.NewBlocked, so
// loading a maximal blocked filter allocated 512 MiB twice before the map
// was even created).
func TestOptions_ValidateAllocatesNothing(t *testing.T) {
	for _, o := range []Options{
		{Params: bloom.Params{Bits: 1 << 24, Hashes: 7}, Layout: Classic},
		{Params: bloom.Params{Bits: 1 << 24, Hashes: 5}, Layout: Blocked},
	} {
		var err error
		if n := testing.AllocsPerRun(5, func() { err = o.Validate() }); n != 0 || err != nil {
			t.Errorf("validate(%+v): %v allocations, error %v", o.Params, n, err)
		}
	}
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for _, l := range []Layout{Classic, Blocked} {
		if err := (Options{Params: bloom.Params{Bits: bloom.MaxBlockedBits, Hashes: 3}, Layout: l}).Validate(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&b)
	if got := b.TotalAlloc - a.TotalAlloc; got > 1<<20 {
		t.Errorf("validating two maximal filters' options allocated %d KiB", got>>10)
	}
}

// TestOptions_ParamsError: an invalid Params reads "bloom kernel: Params:"
// and then bloom's message without its own prefix, and still wraps it.
func TestOptions_ParamsError(t *testing.T) {
	p := bloom.BlockedParamsFor(0, 0.01)
	err := Options{Params: p, Layout: Blocked}.Validate()
	if err == nil || err.Error() != "bloom kernel: Params: BlockedParamsFor: n must be at least 1, got 0" {
		t.Errorf("got %v", err)
	}
	if want := p.ValidateBlocked(); !errors.Is(err, want) || strings.Count(err.Error(), "bloom") != 1 {
		t.Errorf("%v does not wrap %v, or repeats the package", err, want)
	}
}

// TestLayout_String: the layouts' names, as sub-benchmarks and messages
// print them, and a value out of range shown as a number.
func TestLayout_String(t *testing.T) {
	for l, want := range map[Layout]string{Classic: "classic", Blocked: "blocked", 2: "Layout(2)"} {
		if got := l.String(); got != want {
			t.Errorf("Layout %d: %q, want %q", uint32(l), got, want)
		}
	}
}
