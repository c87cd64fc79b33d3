//go:build linux

package bpfload_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestWaiter: Wait swaps the Waiter's inner map into its array of maps
// (the update the kernel ends with a grace period), again and again; a
// closed or nil Waiter is an error, not a panic, and closing twice is
// not an error.
func TestWaiter(t *testing.T) {
	kerneltest.Require(t)
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	outer, inner := w.Maps()
	var id uint32
	if err := outer.Lookup(uint32(0), &id); err == nil {
		t.Fatalf("a new Waiter's slot already holds map %d", id)
	}
	for range 3 {
		if err := w.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.Waits(); n != 3 {
		t.Errorf("Waits = %d after 3 waits", n)
	}
	info, err := inner.Info()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := info.ID()
	if err := outer.Lookup(uint32(0), &id); err != nil || ebpf.MapID(id) != want {
		t.Fatalf("after Wait the slot holds map %d (%v), want the inner map %d", id, err, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var nilW *bpfload.Waiter
	for name, w := range map[string]*bpfload.Waiter{"closed": w, "nil": nilW, "zero": {}} {
		if err := w.Wait(); err == nil || !strings.Contains(err.Error(), "closed or was not made by NewWaiter") {
			t.Errorf("Wait of a %s Waiter: %v", name, err)
		}
		if name != "closed" && w.Waits() != 0 {
			t.Errorf("Waits of a %s Waiter: %d", name, w.Waits())
		}
	}
}

// TestWaiter_CloseFrees: Close releases both of the Waiter's maps, the
// inner one too after Wait has put it in the array of maps.
func TestWaiter_CloseFrees(t *testing.T) {
	kerneltest.Require(t)
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(); err != nil {
		t.Fatal(err)
	}
	outer, inner := w.Maps()
	ids := map[string]ebpf.MapID{"array of maps": kerneltest.MapID(t, outer), "inner map": kerneltest.MapID(t, inner)}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		if !kerneltest.MapFreed(t, id, 5*time.Second) {
			t.Errorf("%s %d still there after Close", name, id)
		}
	}
}

// TestWaiter_WaitSince: WaitSince waits for a token marked since the last
// Wait, once; not for the zero token, nor once any Wait has returned
// since the mark.
func TestWaiter_WaitSince(t *testing.T) {
	kerneltest.Require(t)
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	step := func(name string, token uint64, waits uint64) {
		t.Helper()
		before := w.Waits()
		if err := w.WaitSince(token); err != nil {
			t.Fatal(err)
		}
		if got := w.Waits() - before; got != waits {
			t.Errorf("%s: %d waits, want %d", name, got, waits)
		}
	}
	step("zero token", 0, 0)
	a := w.Mark()
	b := w.Mark()
	step("first value replaced", a, 1)
	step("second, replaced before that wait", b, 0)
	c := w.Mark()
	if err := w.Wait(); err != nil {
		t.Fatal(err)
	}
	step("replaced before another Wait", c, 0)
	step("marked again", w.Mark(), 1)
}
