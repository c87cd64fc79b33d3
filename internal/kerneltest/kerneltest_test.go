package kerneltest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRequire_Skips(t *testing.T) {
	err := Available()
	t.Logf("BPF available: %v (error: %v), %s=%q", err == nil, err, EnvRequire, os.Getenv(EnvRequire))
	if err != nil && Required() {
		t.Fatalf("%s=%s but BPF programs cannot run: %v", EnvRequire, os.Getenv(EnvRequire), err)
	}
}

// TestRequired: any value but a false one requires the kernel tests, a
// value strconv.ParseBool does not read included.
func TestRequired(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "0": false, "false": false, "F": false,
		"1": true, "true": true, "T": true, "yes": true, "2": true, " 1": true,
	} {
		if got := required(v); got != want {
			t.Errorf("%s=%q: required %v, want %v", EnvRequire, v, got, want)
		}
	}
}

func TestDrop_Verdict(t *testing.T) {
	prog := Drop(t)
	verdict, out := Run(t, prog, make([]byte, 60))
	if verdict != 1 {
		t.Fatalf("XDP_DROP program returned %d", verdict)
	}
	if len(out) != 60 {
		t.Fatalf("output frame of %d bytes, want 60", len(out))
	}
	big := make([]byte, MaxFrame+100)
	if got := len(Clip(big)); got != MaxFrame {
		t.Fatalf("Clip kept %d bytes", got)
	}
	if _, out := Run(t, prog, big); len(out) != MaxFrame {
		t.Fatalf("a clipped frame came back with %d bytes", len(out))
	}
}

// metrics is a benchmark's ReportMetric that keeps the metrics by unit.
type metrics map[string]float64

func (m metrics) ReportMetric(v float64, unit string) { m[unit] = v }

// TestReport: a floor that measured 0 ns leaves the ratio x-floor out,
// where it was +Inf (NaN with prog at 0 ns too); every metric reported is
// finite, and the others stand as measured.
func TestReport(t *testing.T) {
	for _, c := range []struct {
		prog, floor time.Duration
		want        metrics
	}{
		{300 * time.Nanosecond, 100 * time.Nanosecond, metrics{"ns/packet": 30, "floor-ns/packet": 10, "net-ns/packet": 20, "x-floor": 3}},
		{300 * time.Nanosecond, 0, metrics{"ns/packet": 30, "floor-ns/packet": 0, "net-ns/packet": 30}},
		{0, 0, metrics{"ns/packet": 0, "floor-ns/packet": 0, "net-ns/packet": 0}},
	} {
		got := metrics{}
		report(got, c.prog, c.floor, 10)
		if !maps.Equal(got, c.want) {
			t.Errorf("10 runs in %v, floor %v: metrics %v, want %v", c.prog, c.floor, got, c.want)
		}
	}
}

func BenchmarkDrop(b *testing.B) {
	Bench(b, Drop(b), [][]byte{make([]byte, 64)})
}

// recorder is a testing.TB that records Errorf instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Call passes fn's error through untouched, and turns a panic into a
// reported failure naming the call, and an error.
func TestCall(t *testing.T) {
	r := &recorder{TB: t}
	want := errors.New("closed")
	if err := Call(r, "Stats", func() error { return want }); err != want || len(r.errs) != 0 {
		t.Fatalf("Call of an erring fn: %v (reported %q), want %v and no report", err, r.errs, want)
	}
	err := Call(r, "Attach", func() error { panic("nil map") })
	if err == nil || len(r.errs) != 1 || !strings.Contains(r.errs[0], "Attach panics: nil map") {
		t.Fatalf("Call of a panicking fn: %v, reported %q", err, r.errs)
	}
}

var allocSink []byte

// TestNoAllocs: an fn that allocates on one call in five fails, naming
// how often; testing.AllocsPerRun, which NoAllocs used, rounded 4
// allocations in 20 calls down to 0 a call and passed it. One allocation
// in the first count alone (a stray one, from another goroutine) passes.
func TestNoAllocs(t *testing.T) {
	r := &recorder{TB: t}
	NoAllocs(r, "Read", func() error { return nil })
	if len(r.errs) != 0 {
		t.Fatalf("an fn that allocates nothing: %q", r.errs)
	}
	calls := 0
	NoAllocs(r, "Read", func() error {
		calls++
		if calls%5 == 0 {
			allocSink = make([]byte, 1024)
		}
		return nil
	})
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "Read allocates: 4 times in 20 calls") {
		t.Fatalf("an fn that allocates on one call in five: reported %q", r.errs)
	}
	// One allocation in the first count alone, as another goroutine's
	// would be: the next count finds none, and NoAllocs passes.
	calls = 0
	NoAllocs(r, "Read", func() error {
		calls++
		if calls == 3 {
			allocSink = make([]byte, 1024)
		}
		return nil
	})
	if len(r.errs) != 1 || calls != 1+2*20 {
		t.Fatalf("an fn that allocated once, in the first count: reported %q after %d calls, want no report after 41", r.errs[1:], calls)
	}
}
