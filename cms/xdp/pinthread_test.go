//go:build linux

package xdp

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// PinThread confines the calling thread to one CPU it was allowed on (the
// lowest), and the function it returns gives back the thread's former
// CPUs. Run from a thread allowed only the last CPU, it picks that one.
func TestPinThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	lowest, last := -1, -1
	for cpu := range 1024 {
		if orig.IsSet(cpu) {
			if lowest < 0 {
				lowest = cpu
			}
			last = cpu
		}
	}
	check := func(allowed unix.CPUSet, want int) {
		t.Helper()
		if err := unix.SchedSetaffinity(0, &allowed); err != nil {
			t.Fatal(err)
		}
		undo, err := PinThread()
		if err != nil {
			t.Fatal(err)
		}
		var pinned unix.CPUSet
		if err := unix.SchedGetaffinity(0, &pinned); err != nil {
			t.Fatal(err)
		}
		if pinned.Count() != 1 || !pinned.IsSet(want) {
			t.Errorf("PinThread from %d allowed CPUs: %d CPUs allowed after, want CPU %d alone", allowed.Count(), pinned.Count(), want)
		}
		undo()
		var back unix.CPUSet
		if err := unix.SchedGetaffinity(0, &back); err != nil {
			t.Fatal(err)
		}
		if back != allowed {
			t.Errorf("after the undo: %d CPUs allowed, want the %d before", back.Count(), allowed.Count())
		}
	}
	check(orig, lowest)
	var one unix.CPUSet
	one.Set(last)
	check(one, last)
}
