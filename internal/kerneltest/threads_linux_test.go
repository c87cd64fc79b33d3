package kerneltest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// thread is what a body saw of its thread: the CPUs it may run on,
// whether SIGURG (Go's preemption signal) is blocked, and its ID.
type thread struct {
	cpus    unix.CPUSet
	blocked bool
	tid     int
}

// look returns what the calling thread is.
func look() (thread, error) {
	th := thread{tid: unix.Gettid()}
	if err := unix.SchedGetaffinity(0, &th.cpus); err != nil {
		return th, err
	}
	var mask unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &mask); err != nil {
		return th, err
	}
	th.blocked = blocked(&mask, unix.SIGURG)
	return th, nil
}

// waitLong bounds the waits of these tests for the threads to start, run
// and end: long, since a waiting test only reaches it when it fails, and
// the tests also run in emulated VMs (.ci/kernel-vm), where starting a
// thread or running one takes far longer than here.
const waitLong = 30 * time.Second

// checkThreads fails t unless each of seen is signal-blocked and on the
// CPUs its entry of cpus asks for (every CPU of all for a negative one),
// and unless every one of their threads has ended, as a locked goroutine's
// thread does when the goroutine ends (but the main thread, which Go
// parks instead).
func checkThreads(t *testing.T, cpus []int, all unix.CPUSet, seen []thread) {
	t.Helper()
	for g, cpu := range cpus {
		want := all
		if cpu >= 0 {
			want = unix.CPUSet{}
			want.Set(cpu)
		}
		if seen[g].cpus != want {
			t.Errorf("thread %d (CPU %d) may run on %d CPUs, want only CPU %d (or all %d for a negative CPU)", g, cpu, seen[g].cpus.Count(), cpu, all.Count())
		}
		if !seen[g].blocked {
			t.Errorf("thread %d (CPU %d): SIGURG is not blocked", g, cpu)
		}
	}
	deadline := time.Now().Add(waitLong)
	for g := range cpus {
		if seen[g].tid == unix.Getpid() {
			// The main thread: Go parks it for good instead of
			// ending it (runtime.mexit), which hands it back no
			// more than ending it.
			continue
		}
		for {
			_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", seen[g].tid))
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("thread %d (CPU %d, tid %d, pid %d) still exists (%v): it went back to the scheduler instead of ending", g, cpus[g], seen[g].tid, unix.Getpid(), err)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// callerCPUs locks the test to its thread until it ends and returns the
// CPUs the thread may run on, to compare afterwards.
func callerCPUs(t *testing.T) unix.CPUSet {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

// checkCaller fails t unless the calling thread may still run on all.
func checkCaller(t *testing.T, all unix.CPUSet) {
	t.Helper()
	var now unix.CPUSet
	if err := unix.SchedGetaffinity(0, &now); err != nil {
		t.Fatal(err)
	}
	if now != all {
		t.Errorf("the calling thread may run on %d CPUs afterwards, %d before", now.Count(), all.Count())
	}
}

// stopped runs fn on a goroutine of its own with a stopper in place of t
// and returns how it stopped ("returned", or "failed: " and the message).
func stopped(t *testing.T, fn func(tb testing.TB)) string {
	done := make(chan string)
	go func() {
		s := &stopper{TB: t, how: "returned"}
		defer func() { done <- s.how }()
		fn(s)
	}()
	return <-done
}

// TestPinThread: the thread is signal-blocked and pinned to the CPU, or
// not pinned for AnyCPU; a CPU that cannot be had is an error naming it.
func TestPinThread(t *testing.T) {
	all := callerCPUs(t)
	first := 0
	for !all.IsSet(first) {
		first++
	}
	cpus := []int{first, AnyCPU}
	seen := make([]thread, len(cpus))
	for g, cpu := range cpus {
		errc := make(chan error)
		go func() { // never unlocks: the thread ends with the goroutine
			err := PinThread(cpu)
			if err == nil {
				seen[g], err = look()
			}
			errc <- err
		}()
		if err := <-errc; err != nil {
			t.Fatalf("PinThread(%d): %v", cpu, err)
		}
	}
	checkThreads(t, cpus, all, seen)
	errc := make(chan error)
	go func() { errc <- PinThread(1023) }()
	if err := <-errc; all.IsSet(1023) || err == nil || !strings.Contains(err.Error(), "CPU 1023") {
		t.Errorf("PinThread(1023), a CPU this thread may not use: %v, want an error naming CPU 1023", err)
	}
	checkCaller(t, all)
}

// TestOnThreads: each body runs once on its own thread, signal-blocked and
// pinned as asked, all at the same time (each waits for the others to
// start); the threads have ended when OnThreads returns, the caller's is
// not pinned, and an error of a body fails the test naming its thread.
func TestOnThreads(t *testing.T) {
	all := callerCPUs(t)
	two := TwoCPUs(t)
	cpus := []int{two[0], two[1], AnyCPU}
	seen := make([]thread, len(cpus))
	var started atomic.Int32
	OnThreads(t, cpus, func(g int) error {
		var err error
		seen[g], err = look()
		started.Add(1)
		for deadline := time.Now().Add(waitLong); started.Load() < int32(len(cpus)); {
			if time.Now().After(deadline) {
				return fmt.Errorf("ran without the others: %d of %d started in %v", started.Load(), len(cpus), waitLong)
			}
			time.Sleep(time.Millisecond)
		}
		return err
	})
	checkThreads(t, cpus, all, seen)
	checkCaller(t, all)

	how := stopped(t, func(tb testing.TB) {
		OnThreads(tb, cpus, func(g int) error {
			if g == 1 {
				return errors.New("body failed")
			}
			return nil
		})
	})
	if want := fmt.Sprintf("failed: thread 1 (CPU %d): body failed", cpus[1]); how != want {
		t.Errorf("a body returned an error: OnThreads %s, want it %s", how, want)
	}
}

// TestLoop: each body runs on its own thread, signal-blocked and pinned as
// asked, and has run once when Loop returns; it runs again and again until
// Stop, which joins every goroutine (no body runs after it returns) and
// ends every thread; the caller's thread is not pinned.
func TestLoop(t *testing.T) {
	all := callerCPUs(t)
	two := TwoCPUs(t)
	cpus := []int{two[0], two[1], AnyCPU}
	seen := make([]thread, len(cpus))
	calls := make([]atomic.Int64, len(cpus))
	th := Loop(t, cpus, func(g int) error {
		if calls[g].Load() == 0 {
			var err error
			if seen[g], err = look(); err != nil {
				return err
			}
		}
		time.Sleep(100 * time.Microsecond) // a Stop that does not wait returns meanwhile
		calls[g].Add(1)
		return nil
	})
	for g := range cpus {
		if n := calls[g].Load(); n == 0 {
			t.Errorf("thread %d had not run its body when Loop returned", g)
		}
	}
	for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if calls[0].Load() >= 3 && calls[1].Load() >= 3 && calls[2].Load() >= 3 {
			break
		}
	}
	th.Stop()
	var after [3]int64
	for g := range cpus {
		after[g] = calls[g].Load()
		if after[g] < 3 {
			t.Errorf("thread %d ran its body %d times in %v, want it looping", g, after[g], waitLong)
		}
	}
	time.Sleep(20 * time.Millisecond)
	for g := range cpus {
		if n := calls[g].Load(); n != after[g] {
			t.Errorf("thread %d ran its body %d times after Stop returned", g, n-after[g])
		}
	}
	th.Stop() // a second Stop does nothing
	checkThreads(t, cpus, all, seen)
	checkCaller(t, all)
}

// TestLoop_Error: a body's error stops every goroutine by itself, Err
// returns it meanwhile, and Stop fails the test naming the thread; an
// error on a body's first call fails Loop itself.
func TestLoop_Error(t *testing.T) {
	two := TwoCPUs(t)
	cpus := []int{two[0], AnyCPU}
	calls := make([]atomic.Int64, len(cpus))
	how := stopped(t, func(tb testing.TB) {
		th := Loop(tb, cpus, func(g int) error {
			if calls[g].Add(1) == 3 && g == 1 {
				return errors.New("third call failed")
			}
			time.Sleep(100 * time.Microsecond)
			return nil
		})
		deadline := time.Now().Add(waitLong)
		for th.Err() == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if th.Err() == nil {
			t.Errorf("no error from Err %v after a body returned one", waitLong)
		}
		// Thread 0 stops too, without Stop: its count settles (it
		// calls its body every 100 µs while it runs).
		settled := false
		for !settled && time.Now().Before(deadline) {
			n := calls[0].Load()
			time.Sleep(10 * time.Millisecond)
			settled = calls[0].Load() == n
		}
		if !settled {
			t.Errorf("thread 0 still ran its body %v after thread 1 failed", waitLong)
		}
		th.Stop()
	})
	if want := "failed: thread 1: third call failed"; how != want {
		t.Errorf("a body returned an error: Stop %s, want it %s", how, want)
	}

	how = stopped(t, func(tb testing.TB) {
		Loop(tb, cpus, func(g int) error {
			if g == 0 {
				return errors.New("first call failed")
			}
			return nil
		})
	})
	if want := fmt.Sprintf("failed: thread 0 (CPU %d): first call failed", cpus[0]); how != want {
		t.Errorf("a body's first call returned an error: Loop %s, want it %s", how, want)
	}
}
