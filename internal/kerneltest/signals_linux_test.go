package kerneltest

import (
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
