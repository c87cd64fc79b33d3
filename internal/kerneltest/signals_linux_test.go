package kerneltest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// blocked reports whether sig is in mask.
func blocked(mask *unix.Sigset_t, sig unix.Signal) bool {
	bits := int(unsafe.Sizeof(mask.Val[0])) * 8
	n := int(sig) - 1
	return mask.Val[n/bits]&(1<<(n%bits)) != 0
}

// TestBlockSignals: the asynchronous signals that interrupt a test run
// (Go's preemption signal, SIGURG, among them) are blocked on the thread;
// those of a fault are not, so a nil dereference there is a Go panic, as
// anywhere else. Blocked, a SIGSEGV killed the whole test binary with a
// bare "signal: segmentation fault": the kernel delivers a blocked fault
// signal by resetting it to its default action.
func TestBlockSignals(t *testing.T) {
	type result struct {
		mask      unix.Sigset_t
		err       error
		recovered any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			r.recovered = recover()
			done <- r
		}()
		if r.err = BlockSignals(); r.err != nil {
			return
		}
		if r.err = unix.PthreadSigmask(unix.SIG_BLOCK, nil, &r.mask); r.err != nil {
			return
		}
		var p *struct{ x int }
		_ = p.x // a fault: must panic, not kill the process
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, sig := range []unix.Signal{unix.SIGURG, unix.SIGPROF, unix.SIGCHLD, unix.SIGINT, unix.SIGTERM, unix.SIGALRM} {
		if !blocked(&r.mask, sig) {
			t.Errorf("%v is not blocked", sig)
		}
	}
	for _, sig := range synchronous {
		if blocked(&r.mask, sig) {
			t.Errorf("%v is blocked: a fault on the thread would kill the process", sig)
		}
	}
	if r.recovered == nil {
		t.Error("a nil dereference after BlockSignals did not panic")
	}
}

// stopper is a testing.TB whose Fatalf and Skip record how the call
// stopped and end the goroutine, as the testing package's do.
type stopper struct {
	testing.TB
	how string
}

func (s *stopper) Helper() {}
func (s *stopper) Fatalf(format string, args ...any) {
	s.how = "failed: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (s *stopper) Skip(args ...any) {
	s.how = "skipped: " + fmt.Sprint(args...)
	runtime.Goexit()
}

// TestTwoCPUs: TwoCPUs returns two CPUs the thread may use; on a thread
// pinned to one CPU it skips, or with DATAPLANE_REQUIRE_KERNEL set fails,
// where the copies it replaced skipped either way (and a test that left
// its thread pinned made the tests after it skip quietly).
func TestTwoCPUs(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() >= 2 {
		c := TwoCPUs(t)
		if c[0] == c[1] || !set.IsSet(c[0]) || !set.IsSet(c[1]) {
			t.Errorf("TwoCPUs = %v, want two CPUs of the %d this thread may use", c, set.Count())
		}
	}
	first := 0
	for !set.IsSet(first) {
		first++
	}
	for _, c := range []struct{ env, want string }{{"1", "failed: "}, {"0", "skipped: "}} {
		t.Setenv(EnvRequire, c.env)
		done := make(chan string)
		go func() {
			runtime.LockOSThread() // never unlocked: the pinned thread ends with the goroutine
			s := &stopper{TB: t, how: "returned"}
			defer func() { done <- s.how }()
			var one unix.CPUSet
			one.Set(first)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				s.how = err.Error()
				return
			}
			TwoCPUs(s)
		}()
		if how := <-done; !strings.HasPrefix(how, c.want) {
			t.Errorf("%s=%s, on a thread pinned to CPU %d: TwoCPUs %s, want it %s", EnvRequire, c.env, first, how, strings.TrimSuffix(c.want, ": "))
		}
	}
}

// TestRunRepeat_Frames: RunRepeat cuts and checks a frame as Run does. A
// frame far longer than MaxFrame (256 KiB: more than any kernel puts in
// the fragments of a test run) runs as its first MaxFrame bytes, where
// RunRepeat gave the kernel the whole frame and failed on its refusal;
// one shorter than MinFrame fails saying so.
func TestRunRepeat_Frames(t *testing.T) {
	prog := Drop(t)
	long := make([]byte, 1<<18)
	if v, _ := Run(t, prog, long); v != 1 {
		t.Fatalf("Run of a %d-byte frame: verdict %d, want XDP_DROP (1)", len(long), v)
	}
	how := stopped(t, func(tb testing.TB) {
		if v := RunRepeat(tb, prog, long, 3); v != 1 {
			t.Errorf("RunRepeat of a %d-byte frame: verdict %d, want XDP_DROP (1)", len(long), v)
		}
	})
	if how != "returned" {
		t.Errorf("RunRepeat of a %d-byte frame, which Run cuts to %d: %s", len(long), MaxFrame, how)
	}
	how = stopped(t, func(tb testing.TB) { RunRepeat(tb, prog, make([]byte, 5), 1) })
	if want := fmt.Sprintf("failed: kerneltest: XDP needs at least %d bytes, got 5", MinFrame); how != want {
		t.Errorf("RunRepeat of a 5-byte frame: %s, want it %s", how, want)
	}
}
