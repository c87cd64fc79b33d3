//go:build linux

package bpfload_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestEndEpoch: EndEpoch clears the epoch not written, switches to it,
// waits once and returns the epoch that ended; ReadEpoch reads the low
// bit. A failed clear leaves the epoch as it was, and a failed wait says
// the epoch has ended.
func TestEndEpoch(t *testing.T) {
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := m.Update(uint32(0), uint32(2), ebpf.UpdateAny); err != nil { // low bit 0
		t.Fatal(err)
	}
	var cleared []int
	clear := func(e int) error { cleared = append(cleared, e); return nil }
	for i, want := range []int{0, 1, 0} {
		waits := w.Waits()
		ended, err := bpfload.EndEpoch("test", m, w, clear)
		if err != nil || ended != want {
			t.Fatalf("flip %d: ended %d, error %v; want %d", i, ended, err, want)
		}
		if now, err := bpfload.ReadEpoch("test", m); err != nil || now != 1-want {
			t.Fatalf("flip %d: writing epoch %d (%v), want %d", i, now, err, 1-want)
		}
		if cleared[i] != 1-want || w.Waits() != waits+1 {
			t.Fatalf("flip %d: cleared %v, %d waits; want epoch %d cleared and one wait", i, cleared, w.Waits()-waits, 1-want)
		}
	}
	fail := errors.New("clear failed")
	if _, err := bpfload.EndEpoch("test", m, w, func(int) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("failing clear: %v", err)
	}
	if now, _ := bpfload.ReadEpoch("test", m); now != 1 {
		t.Fatalf("after a failed clear the epoch is %d, want 1 (unchanged)", now)
	}
	w.Close()
	if _, err := bpfload.EndEpoch("test", m, w, clear); err == nil || !strings.HasPrefix(err.Error(), "test kernel: epoch 1 ended, but its last packets may still be being written") {
		t.Fatalf("failing wait: %v", err)
	}
}
