package kerneltest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// AnyCPU, or any negative CPU, as an entry of the CPUs given to
// [OnThreads] or [Loop] (or as the CPU of [PinThread]), leaves the thread
// on every CPU it may use: its signals are blocked, but it is not pinned.
const AnyCPU = -1

// PinThread locks the calling goroutine to its OS thread, blocks the
// asynchronous signals on that thread as [BlockSignals] does (a test run
// a signal interrupts starts over, and runs its frame more often than
// counted) and, unless cpu is negative ([AnyCPU]), pins the thread to
// cpu (a test run executes on the calling thread's CPU, so two pinned
// threads run the kernel on two CPUs at once). The goroutine must end
// without unlocking: Go then ends the thread (or, for the main thread,
// parks it for good), where an unlocked one would go back to the
// scheduler masked and pinned, and the tests that ran on it next would
// run on one CPU.
func PinThread(cpu int) error {
	if err := BlockSignals(); err != nil {
		return err
	}
	if cpu < 0 {
		return nil
	}
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return fmt.Errorf("kerneltest: pin the thread to CPU %d: %w", cpu, err)
	}
	return nil
}

// OnThreads runs body(g) once for each entry g of cpus, all at the same
// time: each on a goroutine of its own whose thread [PinThread] sets up
// for cpus[g], the bodies starting together once every thread is set
// up. It returns when every goroutine has ended (each ending its thread,
// see PinThread), and fails tb with their errors. Only the calling
// goroutine fails tb: a body returns its error instead.
func OnThreads(tb testing.TB, cpus []int, body func(g int) error) {
	tb.Helper()
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(cpus))
	for g, cpu := range cpus {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			err := PinThread(cpu)
			ready.Done()
			<-start
			if err == nil {
				err = body(g)
			}
			errs[g] = threadErr(g, cpu, err)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("%v", err)
	}
}

// Threads are the goroutines of [Loop], each calling its body until
// [Threads.Stop].
type Threads struct {
	tb   testing.TB
	stop atomic.Bool
	wg   sync.WaitGroup
	once sync.Once
	mu   sync.Mutex
	err  error // the first error of a body
}

// Loop starts a goroutine for each entry g of cpus, on a thread that
// [PinThread] sets up for cpus[g], calling body(g) over and over until
// [Threads.Stop] or until a body returns an error, which stops them all.
// It returns once every body has returned once, so that the traffic
// runs when the caller goes on; it fails tb if one of those calls failed.
// The test's cleanup stops the goroutines if the test ends before
// calling Stop. Only the calling goroutine fails tb: a body returns its
// error instead.
func Loop(tb testing.TB, cpus []int, body func(g int) error) *Threads {
	tb.Helper()
	th := &Threads{tb: tb}
	var first sync.WaitGroup
	first.Add(len(cpus))
	th.wg.Add(len(cpus))
	for g, cpu := range cpus {
		go func() {
			defer th.wg.Done()
			err := PinThread(cpu)
			if err == nil {
				err = body(g)
			}
			th.fail(g, cpu, err)
			first.Done()
			for err == nil && !th.stop.Load() {
				err = body(g)
				th.fail(g, cpu, err)
			}
		}()
	}
	first.Wait()
	tb.Cleanup(th.Stop)
	if th.Err() != nil {
		th.Stop()
	}
	return th
}

// Err returns the first error a body of [Loop] returned, or nil: a
// caller that waits for the bodies to make progress stops waiting on one.
func (th *Threads) Err() error {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.err
}

// fail records err (nil for none) of thread g as the first error, if it
// is, and stops every goroutine.
func (th *Threads) fail(g, cpu int, err error) {
	if err == nil {
		return
	}
	th.mu.Lock()
	if th.err == nil {
		th.err = threadErr(g, cpu, err)
	}
	th.mu.Unlock()
	th.stop.Store(true)
}

// Stop stops the goroutines of [Loop] and waits for every one to end
// (with its thread, see [PinThread]); then it fails the test with the
// first error of a body, if any. A second call does nothing.
func (th *Threads) Stop() {
	th.tb.Helper()
	th.once.Do(func() {
		th.stop.Store(true)
		th.wg.Wait()
		if err := th.Err(); err != nil {
			th.tb.Fatalf("%v", err)
		}
	})
}

// threadErr names the thread of err (nil for none).
func threadErr(g, cpu int, err error) error {
	if err == nil {
		return nil
	}
	if cpu < 0 {
		return fmt.Errorf("thread %d: %w", g, err)
	}
	return fmt.Errorf("thread %d (CPU %d): %w", g, cpu, err)
}
