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

// epochMap returns an epoch map (a one-element array of four-byte keys
// and values) and a Waiter, both closed when t ends.
func epochMap(t *testing.T) (*ebpf.Map, *bpfload.Waiter) {
	t.Helper()
	kerneltest.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return m, w
}

// TestEndEpoch: EndEpoch clears the epoch not written, switches to it,
// waits once and returns the epoch that ended; ReadEpoch reads the low
// bit. A failed clear leaves the epoch as it was, and a failed wait says
// the epoch has ended.
func TestEndEpoch(t *testing.T) {
	m, w := epochMap(t)
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

// TestEndEpoch_AllocatesNothing: reading the epoch, flipping it and
// waiting make their system calls without allocating, so that a loader's
// FlipInto allocates nothing.
func TestEndEpoch_AllocatesNothing(t *testing.T) {
	m, w := epochMap(t)
	clear := func(int) error { return nil }
	kerneltest.NoAllocs(t, "EndEpoch", func() error {
		_, err := bpfload.EndEpoch("test", m, w, clear)
		return err
	})
}

// TestReadEpoch_Refuses: an epoch map that is not a plain array of
// four-byte keys and values (into which the kernel would copy more than
// the four bytes read, or from which more than four bytes written) is an
// error naming what it is, before any system call, for the read and for
// the update that flips it; and so is no map.
func TestReadEpoch_Refuses(t *testing.T) {
	kerneltest.Require(t)
	w, err := bpfload.NewWaiter()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, c := range []struct {
		spec               ebpf.MapSpec
		wantRead, wantFlip string
	}{
		{ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}, "keys and values must be 4 bytes, got 4 and 8", "keys and values must be 4 bytes, got 4 and 8"},
		{ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, "map type must be Array, got PerCPUArray", "map type must be Array or ArrayOfMaps, got PerCPUArray"},
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1}, "map type must be Array, got Hash", "map type must be Array or ArrayOfMaps, got Hash"},
		{ebpf.MapSpec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}, "map type must be Array, got ArrayOfMaps", ""},
	} {
		m, err := ebpf.NewMap(&c.spec)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := bpfload.ReadEpoch("test", m); err == nil || !strings.HasSuffix(err.Error(), c.wantRead) {
			t.Errorf("ReadEpoch of a %v of %d-byte values: %v, want an error ending %q", c.spec.Type, c.spec.ValueSize, err, c.wantRead)
		}
		if _, err := bpfload.EndEpoch("test", m, w, func(int) error { return nil }); err == nil || !strings.HasSuffix(err.Error(), c.wantRead) {
			t.Errorf("EndEpoch of a %v of %d-byte values: %v, want an error ending %q", c.spec.Type, c.spec.ValueSize, err, c.wantRead)
		}
		if c.wantFlip == "" {
			continue // the Waiter's update: TestWaiter
		}
		if err := bpfload.UpdateWord(m, 0, 1); err == nil || !strings.HasSuffix(err.Error(), c.wantFlip) {
			t.Errorf("the update of a %v of %d-byte values: %v, want an error ending %q", c.spec.Type, c.spec.ValueSize, err, c.wantFlip)
		}
	}
	if _, err := bpfload.ReadEpoch("test", nil); err == nil || !strings.Contains(err.Error(), "no map") {
		t.Errorf("ReadEpoch of no map: %v", err)
	}
	if err := bpfload.UpdateWord(nil, 0, 1); err == nil || !strings.Contains(err.Error(), "no map") {
		t.Errorf("the update of no map: %v", err)
	}
}
