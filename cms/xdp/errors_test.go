//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// Option errors read "cms kernel: ..." once (they used to read
// "cms kernel: cms: depth ..."), a detector with no depth is told where
// the lab's d = 2 comes from (Depth has no default), and a Threshold for
// a sketch mode, which has none, is refused rather than ignored.
func TestOptions_ErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Params: cms.Params{Width: 4096}, Mode: ModeDetect}, "cms kernel: depth must be in [1, 32], got 0 (the lab's detector has d = 2: cms.LabParams)"},
		{Options{Params: cms.Params{Width: 4096}}, "cms kernel: depth must be in [1, 32], got 0"},
		{Options{Params: cms.Params{Depth: 2}, Mode: ModeDetect}, "cms kernel: width must be at least 1, got 0"},
		{Options{Params: cms.ParamsFor(0, 0.1)}, "cms kernel: epsilon must be in (0, 1), got 0"},
		{Options{Params: cms.LabParams(64, 1), Mode: ModeDetect + 1}, "cms kernel: mode must be shared, per-cpu or detect, got 3"},
		{Options{Params: cms.LabParams(64, 1), Threshold: 5}, "cms kernel: Threshold is the detector's (ModeDetect); the shared sketch has none, got 5"},
		{Options{Params: cms.LabParams(64, 1), Mode: ModePerCPU, Threshold: 1}, "cms kernel: Threshold is the detector's (ModeDetect); the per-cpu sketch has none, got 1"},
	} {
		_, err := Load(tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%+v): %v, want %q", tc.opts, err, tc.want)
		}
		if err := Configure(nil, tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("Configure(%+v): %v, want %q", tc.opts, err, tc.want)
		}
		if err := tc.opts.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v): %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// Run and Bench take frames of 14 to MaxFrame bytes and name the range
// otherwise (a 4000-byte frame used to be accepted though the doc said
// 3520 was the limit, and a short one failed with "invalid argument").
func TestKernel_RunFrameRange(t *testing.T) {
	k := load(t, Options{Params: cms.Params{Width: 64, Depth: 2, Seed: testSeed}})
	f := fixtures(t)["ipv4-udp"]
	long := append(append([]byte(nil), f...), make([]byte, MaxFrame()-len(f))...)
	for _, frame := range [][]byte{f[:14], f, long} {
		if v, err := k.Run(frame); err != nil || v != 2 {
			t.Errorf("Run on %d bytes: %d, %v", len(frame), v, err)
		}
	}
	want4k := 3520
	if runtime.GOARCH == "s390x" {
		want4k = 3328 // struct skb_shared_info rounded up to 256-byte cache lines, not 64
	}
	if os.Getpagesize() == 4096 && (MaxFrame() != want4k || MaxFrame() != kerneltest.MaxFrame) {
		t.Errorf("MaxFrame %d with 4 KiB pages, want %d (kerneltest.MaxFrame %d)", MaxFrame(), want4k, kerneltest.MaxFrame)
	}
	want := fmt.Sprintf("cms kernel: test run frames must be 14 to %d bytes, got ", MaxFrame())
	for _, n := range []int{0, 13, MaxFrame() + 1, 4000} {
		if _, err := k.Run(make([]byte, n)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Run on %d bytes: %v, want %q...", n, err, want)
		}
		if _, err := k.Bench(make([]byte, n), 1); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Bench on %d bytes: %v, want %q...", n, err, want)
		}
	}
}

// A zero Kernel (not made by Load) and a closed one return errClosed from
// every method instead of panicking (Counters and Stats used to panic on
// the zero Kernel, Run and Stats after Close said "bad file descriptor").
func TestKernel_ZeroAndClosed(t *testing.T) {
	kerneltest.Require(t)
	closed, err := Load(Options{Params: cms.LabParams(64, testSeed), Mode: ModeDetect})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	f := fixtures(t)["ipv4-udp"]
	for name, k := range map[string]*Kernel{"zero": {}, "closed": closed} {
		calls := map[string]func() error{
			"Counters":   func() error { _, err := k.Counters(); return err },
			"Sketch":     func() error { _, err := k.Sketch(); return err },
			"Total":      func() error { _, err := k.Total(); return err },
			"Stats":      func() error { _, err := k.Stats(); return err },
			"Events":     func() error { _, err := k.Events(); return err },
			"NextEvent":  func() error { _, err := k.NextEvent(0); return err },
			"Run":        func() error { _, err := k.Run(f); return err },
			"Bench":      func() error { _, err := k.Bench(f, 1); return err },
			"Attach":     func() error { _, err := k.Attach(1); return err },
			"Epoch":      func() error { _, err := k.Epoch(); return err },
			"Read":       func() error { _, err := k.Read(0); return err },
			"Clear":      func() error { return k.Clear(0) },
			"Flip":       func() error { _, err := k.Flip(); return err },
			"SketchInto": func() error { return k.SketchInto(cms.MustNew(cms.LabParams(64, testSeed))) },
			"ReadInto":   func() error { return k.ReadInto(0, cms.MustNew(cms.LabParams(64, testSeed))) },
			"FlipInto":   func() error { return k.FlipInto(cms.MustNew(cms.LabParams(64, testSeed))) },
			"Reset":      func() error { return k.Reset() },
		}
		for call, fn := range calls {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s Kernel: %s panics: %v", name, call, r)
					}
				}()
				if err := fn(); !errors.Is(err, errClosed) {
					t.Errorf("%s Kernel: %s: %v, want %v", name, call, err, errClosed)
				}
			}()
		}
	}
}

// Configure refuses a nil spec with an error naming it (it used to panic
// once the options passed); invalid options are still reported first (see
// TestOptions_ErrorMessages). Bench refuses a negative repeat by name
// (cilium/ebpf called it "too high").
func TestConfigure_NilSpecAndBenchRepeat(t *testing.T) {
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Configure(nil, ok) panics: %v", r)
			}
		}()
		err := Configure(nil, Options{Params: cms.LabParams(64, testSeed)})
		if want := "cms kernel: Configure of a nil spec (use Spec)"; err == nil || err.Error() != want {
			t.Errorf("Configure(nil, ok): %v, want %q", err, want)
		}
	}()
	k := load(t, Options{Params: cms.Params{Width: 64, Depth: 2, Seed: testSeed}})
	want := "cms kernel: Bench repeat must not be negative, got -1"
	if _, err := k.Bench(fixtures(t)["ipv4-udp"], -1); err == nil || err.Error() != want {
		t.Errorf("Bench repeat -1: %v, want %q", err, want)
	}
}

// EventsBytes is a power of two from the page size to 2^30, as Options
// documents: both ends are accepted and the next power of two past each
// refused with an error naming the range. The upper bound had no test
// (raising it to 2^31 passed them all).
func TestOptions_EventsBytesRange(t *testing.T) {
	p := cms.LabParams(64, testSeed)
	page := os.Getpagesize()
	for _, n := range []int{page, 1 << 30} {
		if err := (Options{Params: p, Mode: ModeDetect, EventsBytes: n}).Validate(); err != nil {
			t.Errorf("EventsBytes %d: %v", n, err)
		}
	}
	over := 1 << 30
	over *= 2 // 2^31 (wraps negative where int is 32 bits: refused all the same)
	for _, n := range []int{page / 2, over} {
		want := fmt.Sprintf("cms kernel: EventsBytes must be a power of two from the page size, %d, to 2^30, got %d", page, n)
		if err := (Options{Params: p, Mode: ModeDetect, EventsBytes: n}).Validate(); err == nil || err.Error() != want {
			t.Errorf("EventsBytes %d: %v, want %q", n, err, want)
		}
	}
}

// Threshold 0 in Options means the lab's DefaultThreshold of 1000
// packets: a flow's first 1000 packets pass, the 1000th reports the
// crossing, the 1001st is dropped. No test loaded the kernel with the
// default (setting it to 100 passed them all). The 1000 is written here,
// from the lab, rather than read from cms.DefaultThreshold, so that a
// change of the constant fails the test too.
func TestKernel_DetectorDefaultThreshold(t *testing.T) {
	const labThreshold = 1000
	kerneltest.PinCPU(t)
	k := load(t, Options{Params: cms.LabParams(4096, testSeed), Mode: ModeDetect})
	f := fixtures(t)["ipv4-tcp"]
	runN(t, k, f, labThreshold-1)
	if st, err := k.Stats(); err != nil || st.Dropped != 0 || st.Events != 0 {
		t.Fatalf("after %d packets of one flow: stats %+v (%v); want nothing dropped or reported", labThreshold-1, st, err)
	}
	for i, want := range []uint32{2, 1} { // packet 1000 passes, 1001 drops
		if v, err := k.Run(f); err != nil || v != want {
			t.Fatalf("packet %d: verdict %d (%v), want %d", labThreshold+i, v, err, want)
		}
	}
	ev, err := k.Events()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Report != cms.ReportCrossed || ev[0].Estimate != labThreshold {
		t.Fatalf("events %+v, want one crossing at %d", ev, labThreshold)
	}
}
