package kerneltest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// CloseUnderCalls checks that a kernel's Close may run while its other
// methods do: it runs each call in a loop, each on a goroutine of its own,
// calls closeKernel once they are under way, and fails tb unless every
// call returned nil until Close and closed (matched with errors.Is) after
// it, and Close returned nil within limit. A call wraps what it exercises
// and returns nil for the errors it expects while the kernel is open
// (Attach to an interface that does not exist, say). A call that blocks
// (a wait for events) must be ended by Close, within limit. The process
// itself must survive: a read that Close unmapped memory under faults,
// which no recover catches.
func CloseUnderCalls(tb testing.TB, closeKernel func() error, closed error, limit time.Duration, calls map[string]func() error) {
	tb.Helper()
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	sort.Strings(names)
	var wg sync.WaitGroup
	started := make(chan struct{}, len(calls))
	errs := make([]error, len(names))
	for i, name := range names {
		call := calls[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			for {
				err := call()
				if errors.Is(err, closed) {
					return
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	for range calls {
		<-started
	}
	time.Sleep(2 * time.Millisecond) // the calls under way, some mid-read
	done := make(chan error, 1)
	go func() { done <- closeKernel() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Errorf("Close beside calls: %v", err)
		}
	case <-time.After(limit):
		tb.Fatalf("Close beside calls did not return within %v", limit)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Errorf("%s beside Close: %v; want nil before Close and %v after", names[i], err, closed)
		}
	}
}

// AttachCall is a call for CloseUnderCalls of attach (a kernel's Attach) to
// an interface index that names no interface: it returns closed's error
// after Close, nil for the error of the missing interface before (and
// closes the link should an attach succeed).
func AttachCall(attach func(ifindex int) (link.Link, error), closed error) func() error {
	return func() error {
		l, err := attach(1 << 30)
		if err == nil {
			l.Close()
		}
		if errors.Is(err, closed) {
			return err
		}
		return nil
	}
}

// RunBench checks a loader's Run and Bench on frame, a packet the kernel
// passes: Run once (XDP_PASS), then Bench of ten runs, then Run of frames
// a test run cannot carry (0, 13 and MaxFrame+1 bytes), which must be
// refused with an error naming their length. The kernel has then seen
// frame 11 times, which the caller checks in its statistics.
func RunBench(tb testing.TB, run func([]byte) (uint32, error), bench func([]byte, int) (time.Duration, error), frame []byte) {
	tb.Helper()
	if v, err := run(frame); err != nil || v != 2 {
		tb.Fatalf("Run = %d, %v; want XDP_PASS (2)", v, err)
	}
	if _, err := bench(frame, 10); err != nil {
		tb.Fatal(err)
	}
	for _, n := range []int{0, 13, bpfload.MaxFrame() + 1} {
		if _, err := run(make([]byte, n)); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("got %d", n)) {
			tb.Errorf("Run of %d bytes: %v, want an error naming the length", n, err)
		}
	}
}
