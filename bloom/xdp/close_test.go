//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// After Close every method fails (the memory-mapped filter used to outlive
// it, so WriteFilter and Filter went on working on a freed kernel), Close
// may be called again, and a nil filter is an error, not a panic.
func TestKernel_UseAfterClose(t *testing.T) {
	p := bloom.ParamsFor(1000, 0.01)
	k := loadKernel(t, Options{Params: p})
	if err := k.WriteFilter(nil); err == nil {
		t.Error("WriteFilter(nil): no error")
	}
	if err := k.WriteBlocked(nil); err == nil {
		t.Error("WriteBlocked(nil): no error")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	f := bloom.MustNew(p)
	f.Add([]byte("x"))
	if err := k.WriteFilter(f); err == nil {
		t.Error("WriteFilter after Close: no error")
	}
	if _, err := k.Filter(); err == nil {
		t.Error("Filter after Close: no error")
	}
	if _, err := k.Stats(); err == nil {
		t.Error("Stats after Close: no error")
	}
}

// A zero Kernel (not made by Load) and a closed one, of either layout,
// return errClosed from every method that returns an error: on the zero
// Kernel Attach, Stats, Run and Bench used to panic on a nil program or
// map, Filter panicked in bloom.MustNew and WriteFilter blamed the
// filter's parameters; after Close Attach, Stats, Run and Bench said "bad
// file descriptor" and Filter or Blocked of the other layout blamed the
// layout. Program returns nil for the zero Kernel.
func TestKernel_ZeroAndClosed(t *testing.T) {
	kerneltest.Require(t)
	p, bp := bloom.ParamsFor(1000, 0.01), bloom.BlockedParamsFor(1000, 0.01)
	kernels := map[string]*Kernel{"zero": {}}
	for _, o := range []Options{{Params: p}, {Params: bp, Layout: Blocked}} {
		k, err := Load(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		kernels[fmt.Sprintf("closed (layout %d)", o.Layout)] = k
	}
	frame := make([]byte, 64)
	for name, k := range kernels {
		for method, fn := range map[string]func() error{
			"Attach":       func() error { _, err := k.Attach(1 << 30); return err }, // no such interface
			"Stats":        func() error { _, err := k.Stats(); return err },
			"ResetStats":   k.ResetStats,
			"Filter":       func() error { _, err := k.Filter(); return err },
			"Blocked":      func() error { _, err := k.Blocked(); return err },
			"WriteFilter":  func() error { return k.WriteFilter(bloom.MustNew(p)) },
			"WriteBlocked": func() error { return k.WriteBlocked(bloom.MustNewBlocked(bp)) },
			"Run":          func() error { _, err := k.Run(frame); return err },
			"Bench":        func() error { _, err := k.Bench(frame, 1); return err },
		} {
			if err := kerneltest.Call(t, name+" Kernel: "+method, fn); !errors.Is(err, errClosed) {
				t.Errorf("%s Kernel: %s: %v, want %v", name, method, err, errClosed)
			}
		}
		if err := k.Close(); err != nil {
			t.Errorf("%s Kernel: Close: %v", name, err)
		}
	}
	if p := new(Kernel).Program(); p != nil {
		t.Errorf("zero Kernel: Program %v, want nil", p)
	}
}

// Run and Bench refuse frames shorter than an Ethernet header with an
// error naming the length (the kernel's "invalid argument" came back
// before), and Bench a negative repeat (cilium/ebpf called it "too
// high").
func TestKernel_RunArguments(t *testing.T) {
	k := loadKernel(t, Options{Params: bloom.ParamsFor(1000, 0.01)})
	for _, f := range [][]byte{nil, {}, make([]byte, 13)} {
		want := fmt.Sprintf("bloom kernel: test run frames must be at least 14 bytes (an Ethernet header), got %d", len(f))
		if _, err := k.Run(f); err == nil || err.Error() != want {
			t.Errorf("Run on %d bytes: %v, want %q", len(f), err, want)
		}
		if _, err := k.Bench(f, 1); err == nil || err.Error() != want {
			t.Errorf("Bench on %d bytes: %v, want %q", len(f), err, want)
		}
	}
	want := "bloom kernel: Bench repeat must not be negative, got -1"
	if _, err := k.Bench(make([]byte, 14), -1); err == nil || err.Error() != want {
		t.Errorf("Bench repeat -1: %v, want %q", err, want)
	}
	if v, err := k.Run(make([]byte, 14)); err != nil || v != VerdictPass {
		t.Errorf("Run on 14 bytes: %d, %v", v, err)
	}
	// A repeat of 0 runs the program once, as the doc says (the kernel
	// takes 0 as 1): each run counts one packet in Stats.
	for _, repeat := range []int{0, 1, 3} {
		before, err := k.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Bench(make([]byte, 14), repeat); err != nil {
			t.Fatalf("Bench repeat %d: %v", repeat, err)
		}
		after, err := k.Stats()
		if err != nil {
			t.Fatal(err)
		}
		runs := after.Packets() - before.Packets()
		if want := uint64(max(repeat, 1)); runs != want {
			t.Errorf("Bench repeat %d ran the program %d times, want %d", repeat, runs, want)
		}
	}
}

// Configure refuses a nil spec with an error naming it (it used to panic
// once the options passed); invalid options are still reported first.
func TestConfigure_NilSpec(t *testing.T) {
	err := kerneltest.Call(t, "Configure(nil, ok)", func() error { return Configure(nil, Options{Params: bloom.ParamsFor(1000, 0.01)}) })
	if err == nil || !strings.Contains(err.Error(), "nil spec") {
		t.Errorf("Configure(nil, ok): %v, want an error naming the nil spec", err)
	}
	err = kerneltest.Call(t, "Configure(nil, {})", func() error { return Configure(nil, Options{}) })
	if err == nil || !strings.Contains(err.Error(), "Params") {
		t.Errorf("Configure(nil, {}): %v, want the Params error", err)
	}
}

// Close frees the filter map even while the closed Kernel is still
// referenced. The loader used cilium/ebpf's Map.Memory, whose mapping is
// released only by the garbage collector once unreachable, and the closed
// Map kept it reachable: a closed Kernel held in a variable kept its
// filter (up to 512 MiB) in the kernel for as long as it was held.
func TestKernel_CloseFreesFilter(t *testing.T) {
	for _, o := range []Options{
		{Params: bloom.ParamsFor(1000, 0.01)},
		{Params: bloom.BlockedParamsFor(1000, 0.01), Layout: Blocked},
	} {
		k := loadKernel(t, o)
		id := kerneltest.MapID(t, k.objs.BloomWords)
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if !kerneltest.MapFreed(t, id, time.Second) {
			t.Errorf("layout %d: filter map %d still in the kernel 1 s after Close", o.Layout, id)
		}
		runtime.KeepAlive(k)
	}
}
