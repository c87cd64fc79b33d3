package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// frameRun is a Run of the given frames, parsed, for calling a section
// directly; its output goes to the returned buffer.
func frameRun(seed uint64, frames ...[]byte) (*Run, *bytes.Buffer) {
	var out bytes.Buffer
	r := &Run{Seed: seed, Kernel: KernelOff, Quiet: true, out: &out}
	for _, f := range frames {
		info, err := flow.Parse(f)
		r.Frames = append(r.Frames, f)
		r.Parsed = append(r.Parsed, Parsed{Info: info, Err: err})
	}
	return r, &out
}

// TestSorted_OrderThenName: sections run in increasing Order, and those of
// equal Order by name.
func TestSorted_OrderThenName(t *testing.T) {
	saved := sections
	defer func() { sections = saved }()
	sections = nil
	for _, s := range []Section{{Name: "late", Order: 30}, {Name: "tie-b", Order: 20}, {Name: "early", Order: 10}, {Name: "tie-a", Order: 20}} {
		s.Run = func(*Run) error { return nil }
		register(s)
	}
	var got []string
	for _, s := range sorted() {
		got = append(got, s.Name)
	}
	if want := []string{"early", "tie-a", "tie-b", "late"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sections run as %v, want %v", got, want)
	}
}

// TestRegister_RejectsNoNameOrNoRun: a section without a name or without a
// Run function is a programming error, caught at init time.
func TestRegister_RejectsNoNameOrNoRun(t *testing.T) {
	saved := sections
	defer func() { sections = saved }()
	for _, s := range []Section{{Name: "", Order: 5, Run: func(*Run) error { return nil }}, {Name: "norun", Order: 5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("section %+v was accepted", s)
				}
			}()
			register(s)
		}()
	}
}

// TestRun_FailingSectionExitsOne: on a small capture, a section that
// fails makes the command exit 1 after the other sections ran, in Order.
func TestRun_FailingSectionExitsOne(t *testing.T) {
	saved := sections
	defer func() { sections = saved }()
	ran := false
	register(Section{Name: "broken", Order: 1, Run: func(r *Run) error { return errors.New("broken on purpose") }})
	register(Section{Name: "after", Order: 99, Run: func(r *Run) error { ran = true; return nil }})
	path := filepath.Join(t.TempDir(), "one.pcap")
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	if err := capture.WriteFile(path, []capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path)
	if code != 1 || !strings.Contains(errs, "dataplane: section broken: broken on purpose") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if !ran {
		t.Error("the section after the failing one did not run")
	}
	if i, j := strings.Index(out, "== broken =="), strings.Index(out, "== flow =="); i < 0 || i > j {
		t.Errorf("sections not in Order:\n%s", out)
	}
}

// TestRun_KernelModes: -kernel auto allows kernels and does not require
// them (a load error is a line to print); on requires them (a load error
// is the section's error); off allows none.
func TestRun_KernelModes(t *testing.T) {
	loadErr := fmt.Errorf("load test kernel: no BPF today: %w", syscall.EPERM)
	for _, tc := range []struct {
		mode              KernelMode
		allowed, required bool
	}{
		{KernelAuto, true, false},
		{KernelOn, true, true},
		{KernelOff, false, false},
	} {
		r := &Run{Kernel: tc.mode}
		if r.KernelAllowed() != tc.allowed || r.KernelRequired() != tc.required {
			t.Errorf("-kernel %s: allowed %v, required %v; want %v, %v", tc.mode, r.KernelAllowed(), r.KernelRequired(), tc.allowed, tc.required)
		}
		if !tc.allowed {
			continue
		}
		line, err := r.KernelSkipped("test", loadErr)
		if tc.required {
			if !errors.Is(err, loadErr) || line != "kernel: failed to load" {
				t.Errorf("-kernel %s: KernelSkipped = %q, %v; want the load error", tc.mode, line, err)
			}
		} else if err != nil || !strings.Contains(line, "no BPF today") {
			t.Errorf("-kernel %s: KernelSkipped = %q, %v; want a line naming the load error", tc.mode, line, err)
		}
	}
}

// TestKernelSkipped_Reasons: only a load error saying that BPF cannot run
// here (not supported, not permitted) is skipped under -kernel auto; any
// other fails the section. The first skipped section gives the reason, the
// later ones name that section rather than repeat it.
func TestKernelSkipped_Reasons(t *testing.T) {
	r := &Run{Kernel: KernelAuto}
	other := errors.New("load bloom kernel: the map is the wrong size")
	if line, err := r.KernelSkipped("bloom", other); !errors.Is(err, other) || line != "kernel: failed to load" {
		t.Errorf("a load error that is not BPF's absence: %q, %v; want a failure", line, err)
	}
	unsupported := fmt.Errorf("load flow kernel: %w", ebpf.ErrNotSupported)
	line, err := r.KernelSkipped("flow", unsupported)
	if err != nil || line != "kernel: not run (BPF is not supported here; -kernel on makes this an error)" {
		t.Errorf("first skip: %q, %v", line, err)
	}
	for _, e := range []error{
		fmt.Errorf("load cms kernel: %w", syscall.EPERM),
		fmt.Errorf("load cms kernel: %w", syscall.EACCES),
		fmt.Errorf("load cms kernel: %w", errors.ErrUnsupported),
		unsupported,
	} {
		line, err := r.KernelSkipped("cms", e)
		if err != nil || line != "kernel: not run (BPF unavailable, as the flow section said)" {
			t.Errorf("later skip of %v: %q, %v; want a line naming the flow section", e, line, err)
		}
	}
	r = &Run{Kernel: KernelAuto}
	if line, _ := r.KernelSkipped("maglev", fmt.Errorf("x: %w", syscall.EACCES)); !strings.Contains(line, "permission denied") {
		t.Errorf("first skip of EACCES: %q, want the reason", line)
	}
}

// TestTimePer: f runs until at least 50 ms have passed, and the result is
// the time per run divided among its n items; n = 0 gives 0 without
// running f.
func TestTimePer(t *testing.T) {
	var r Run
	runs := 0
	if got := r.TimePer(0, func() { runs++ }); got != 0 || runs != 0 {
		t.Errorf("TimePer(0) = %v after %d runs, want 0 after none", got, runs)
	}
	const n = 4
	start := time.Now()
	ns := r.TimePer(n, func() { runs++; time.Sleep(5 * time.Millisecond) })
	wall := time.Since(start)
	total := time.Duration(ns * n * float64(runs)) // what the runs took, by the result
	if total < minMeasure || total > wall {
		t.Errorf("TimePer(%d) = %v ns per item over %d runs: %v in all, want between %v and the %v the call took", n, ns, runs, total, minMeasure, wall)
	}
	if per := time.Duration(ns * n); per < 5*time.Millisecond {
		t.Errorf("TimePer(%d) = %v ns per item: %v per run, but each run sleeps 5ms", n, ns, per)
	}
}

// TestProgress_Throttled: within a step, Progress prints at most once per
// second, and never with -quiet.
func TestProgress_Throttled(t *testing.T) {
	var buf bytes.Buffer
	r := &Run{errOut: &buf}
	r.Progress("step", 0, 10)
	r.Progress("step", 1, 10)
	if buf.Len() != 0 {
		t.Fatalf("printed within the step's first second: %q", buf.String())
	}
	r.lastProg = r.lastProg.Add(-2 * time.Second)
	r.Progress("step", 2, 10)
	r.Progress("step", 3, 10)
	if got, want := buf.String(), "dataplane: step: 2/10\n"; got != want {
		t.Fatalf("progress %q, want %q: one line, then nothing within the next second", got, want)
	}

	buf.Reset()
	q := &Run{Quiet: true, errOut: &buf}
	q.Progress("step", 0, 10)
	q.lastProg = time.Now().Add(-2 * time.Second)
	q.progWhat = "step"
	q.Progress("step", 5, 10)
	if buf.Len() != 0 {
		t.Errorf("-quiet run printed progress %q", buf.String())
	}
}

// TestKernelFrames: the kernels run the frames of at least an Ethernet
// header (14 bytes), clipped to bpfload.MaxFrame, in order.
func TestKernelFrames(t *testing.T) {
	long := make([]byte, bpfload.MaxFrame()+100)
	r := &Run{Frames: [][]byte{make([]byte, 13), make([]byte, 14), long, make([]byte, 60)}}
	got := r.KernelFrames()
	if len(got) != 3 || len(got[0]) != 14 || len(got[1]) != bpfload.MaxFrame() || len(got[2]) != 60 {
		lens := make([]int, len(got))
		for i := range got {
			lens[i] = len(got[i])
		}
		t.Errorf("kernel frames of lengths %v, want [14 %d 60]", lens, bpfload.MaxFrame())
	}
}

// TestKernelFrames_AtMostMax: at most kernelMaxFrames frames go through
// the kernels.
func TestKernelFrames_AtMostMax(t *testing.T) {
	f := make([]byte, 60)
	r := &Run{Frames: make([][]byte, kernelMaxFrames+1)}
	for i := range r.Frames {
		r.Frames[i] = f
	}
	if got := len(r.KernelFrames()); got != kernelMaxFrames {
		t.Errorf("%d kernel frames of %d, want %d", got, len(r.Frames), kernelMaxFrames)
	}
}
