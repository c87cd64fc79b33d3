package kerneltest

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BlockSignals locks the calling goroutine to its OS thread and blocks
// every asynchronous signal on that thread. A BPF_PROG_TEST_RUN with a
// repeat count that a signal interrupts returns EINTR, and cilium/ebpf then
// starts the whole run again, so the program runs more often than asked;
// with signals blocked it runs exactly as often. The synchronous signals
// of a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) stay
// unblocked: the kernel delivers a blocked one by resetting it to its
// default action, so a nil dereference on the thread would kill the test
// binary with a bare "segmentation fault" instead of panicking. Call it
// from a goroutine that exits afterwards without unlocking: Go then ends
// the thread, so neither the mask nor the lock is handed on.
func BlockSignals() error {
	runtime.LockOSThread()
	var all unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i]
	}
	bits := int(unsafe.Sizeof(all.Val[0])) * 8
	for _, sig := range synchronous {
		n := int(sig) - 1
		all.Val[n/bits] &^= 1 << (n % bits)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, nil); err != nil {
		return fmt.Errorf("kerneltest: block signals: %w", err)
	}
	return nil
}

// synchronous are the signals of a fault on the thread itself, which
// [BlockSignals] leaves unblocked.
var synchronous = []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGSYS}

// RunRepeat runs prog on frame exactly n times, in one BPF_PROG_TEST_RUN
// call on a thread of its own with signals blocked (see [BlockSignals])
// and the CPUs the calling thread may run on (a caller locked to its
// thread and pinned to one CPU keeps the per-CPU maps it reads), and
// returns the verdict. Use it where a test counts the runs. Frames are
// cut and checked as by [Run]: a frame longer than [MaxFrame] runs as its
// first MaxFrame bytes, which the caller compares against ([Clip]).
func RunRepeat(tb testing.TB, prog *ebpf.Program, frame []byte, n int) uint32 {
	tb.Helper()
	frame = fit(tb, frame)
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		tb.Fatalf("kerneltest: sched_getaffinity: %v", err)
	}
	type result struct {
		v   uint32
		err error
	}
	done := make(chan result)
	go func() {
		err := BlockSignals()
		if err == nil {
			err = unix.SchedSetaffinity(0, &cpus)
		}
		if err != nil {
			done <- result{err: err}
			return
		}
		v, err := prog.Run(&ebpf.RunOptions{Data: frame, Repeat: uint32(n)})
		done <- result{v, err}
	}()
	r := <-done
	if r.err != nil {
		tb.Fatalf("kerneltest: %d runs on a %d-byte frame: %v", n, len(frame), r.err)
	}
	return r.v
}

// PinCPU locks the calling goroutine to its OS thread and that thread to
// the first CPU it may run on, until the test ends (its cleanup restores
// both). A test run executes on the calling thread's CPU, so a pinned
// test's runs all see the same CPU: per-CPU maps add up as one CPU's, and
// an LRU hash map evicts in the order of the test's insertions (the
// kernel's LRU keeps each CPU's newest entries on a list of that CPU's,
// where they are not evicted until the same CPU inserts again: entries
// added on a CPU the test then left could outlive newer ones). Call it
// from the goroutine that runs the test (a subtest has its own).
func PinCPU(tb testing.TB) {
	tb.Helper()
	runtime.LockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("kerneltest: sched_getaffinity: %v", err)
	}
	cpu := 0
	for cpu < 1024 && !old.IsSet(cpu) { // a unix.CPUSet holds CPUs 0 to 1023
		cpu++
	}
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("kerneltest: sched_setaffinity to CPU %d: %v", cpu, err)
	}
	tb.Cleanup(func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	})
}

// TwoCPUs returns the first two CPUs the calling thread may run on, for
// a test that runs a kernel on two CPUs at once. With fewer than two it
// skips tb as [Skip] does (failing it under DATAPLANE_REQUIRE_KERNEL=1).
func TwoCPUs(tb testing.TB) [2]int {
	tb.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		tb.Fatalf("kerneltest: sched_getaffinity: %v", err)
	}
	var cpus []int
	for cpu := 0; cpu < 1024 && len(cpus) < 2; cpu++ { // a unix.CPUSet holds CPUs 0 to 1023
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) < 2 {
		Skip(tb, fmt.Sprintf("needs two CPUs to run a kernel on at once, this thread may use %d", set.Count()))
	}
	return [2]int{cpus[0], cpus[1]}
}
