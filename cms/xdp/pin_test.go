//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// wantPins are the pins a load with PinPath makes: every map but the data
// sections, and the load-time constants.
var wantPins = []string{"cms_counters", "cms_counters_pcpu", "cms_epoch", "cms_events", "cms_opts", "cms_reported", "cms_stats"}

// checkShared fails unless k reads want as its sketch (the current
// epoch's) and counters, and packets as its statistics' packets and
// total.
func checkShared(t *testing.T, what string, k *Kernel, want *cms.Sketch, packets uint64) {
	t.Helper()
	got, err := k.Sketch()
	if err != nil {
		t.Fatal(err)
	}
	equalSketch(t, what+": Sketch", got, want)
	c, err := k.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c, want.Counters()) {
		t.Fatalf("%s: Counters differ from the Go sketch's", what)
	}
	if st, err := k.Stats(); err != nil || st.Packets() != packets {
		t.Fatalf("%s: Stats %+v, %v; want %d packets", what, st, err, packets)
	}
	if n, err := k.Total(); err != nil || n != packets {
		t.Fatalf("%s: Total %d, %v; want %d", what, n, err, packets)
	}
}

// Kernels loaded with one PinPath share the sketch, the statistics and
// the epoch, in both sketch modes, with and without epochs: packets run
// through either program are in both kernels' reads, an epoch ended
// through one is the other's (its Epoch, Read and Sketch, and the epoch
// its program counts in), and a Load after both closed (a restarted
// process) finds them all as they were. A load with other options is
// refused, naming the constant that differs, and leaves the pins alone;
// after Unpin, which removes every pin, a load starts empty, and Unpin
// of pins not there is no error.
func TestKernel_Pin(t *testing.T) {
	for _, tc := range []struct {
		mode   Mode
		epochs bool
	}{
		{ModeShared, false}, {ModePerCPU, false}, {ModeShared, true}, {ModePerCPU, true},
	} {
		t.Run(fmt.Sprintf("%s/epochs=%v", tc.mode, tc.epochs), func(t *testing.T) {
			kerneltest.Require(t)
			dir := kerneltest.BPFFS(t)
			p := cms.Params{Width: 63, Depth: 3, Seed: testSeed}
			opts := Options{Params: p, Mode: tc.mode, Epochs: tc.epochs, PinPath: dir}

			a, b := load(t, opts), load(t, opts)
			if got := kerneltest.Pins(t, dir); !slices.Equal(got, wantPins) {
				t.Fatalf("pins %v, want %v", got, wantPins)
			}
			frames := runFrames(t, a, 0, 50)
			frames = append(frames, runFrames(t, b, 50, 30)...)
			want := goSketch(p, frames)
			checkShared(t, "first kernel", a, want, 80)
			checkShared(t, "second kernel", b, want, 80)

			var ended *cms.Sketch
			if tc.epochs {
				ended = flipWaitingOnce(t, b, "Flip through the second kernel")
				equalSketch(t, "the ended epoch", ended, want)
				if e, err := a.Epoch(); err != nil || e != 1 {
					t.Fatalf("the first kernel's Epoch after the second's Flip: %d, %v; want 1", e, err)
				}
				got, err := a.Read(0)
				if err != nil {
					t.Fatal(err)
				}
				equalSketch(t, "the first kernel's Read of the epoch the second ended", got, want)
				// The first kernel's program counts in the new epoch.
				frames = runFrames(t, a, 80, 20)
				want = goSketch(p, frames)
				checkShared(t, "second kernel, new epoch", b, want, 100)
			}
			for _, k := range []*Kernel{a, b} {
				if err := k.Close(); err != nil {
					t.Fatal(err)
				}
			}

			c := load(t, opts)
			packets := uint64(80)
			if tc.epochs {
				packets = 100
				if e, err := c.Epoch(); err != nil || e != 1 {
					t.Fatalf("Epoch after a reload: %d, %v; want 1", e, err)
				}
				got, err := c.Read(0)
				if err != nil {
					t.Fatal(err)
				}
				equalSketch(t, "a reload's Read of the ended epoch", got, ended)
			}
			checkShared(t, "a load after both closed", c, want, packets)

			for _, r := range []struct {
				name   string
				change func(*Options)
			}{
				{cmsVarCmsSeed, func(o *Options) { o.Params.Seed++ }},
				{cmsVarCmsWidth, func(o *Options) { o.Params.Width++ }},
				{cmsVarCmsRunMode, func(o *Options) { o.Mode = 1 - o.Mode }},
				{cmsVarCmsEpochs, func(o *Options) { o.Epochs = !o.Epochs }},
			} {
				other := opts
				r.change(&other)
				k, err := Load(other)
				if err == nil {
					k.Close()
					t.Fatalf("a load with another %s on the same PinPath: no error", r.name)
				}
				if !strings.Contains(err.Error(), r.name+" is ") || !strings.Contains(err.Error(), "other options") {
					t.Fatalf("a load with another %s on the same PinPath: %v; want a refusal naming %s", r.name, err, r.name)
				}
			}
			if got := kerneltest.Pins(t, dir); !slices.Equal(got, wantPins) {
				t.Fatalf("pins after refused loads %v, want %v", got, wantPins)
			}
			checkShared(t, "after refused loads", c, want, packets)

			kerneltest.Unpinned(t, dir, Unpin)
			checkShared(t, "a loaded kernel after Unpin", c, want, packets)
			other := opts
			other.Params.Seed++
			d := load(t, other)
			checkShared(t, "a load after Unpin", d, cms.MustNew(other.Params), 0)
			if tc.epochs {
				if e, err := d.Epoch(); err != nil || e != 0 {
					t.Fatalf("Epoch of a load after Unpin: %d, %v; want 0", e, err)
				}
			}
			kerneltest.Unpinned(t, dir, Unpin)
		})
	}
}

// In detector mode, kernels loaded with one PinPath share the counters
// (per CPU, not per kernel), the memory of reported flows, the epoch and
// the ring buffer of events: a flow that crossed the threshold through
// one program is dropped by the other; its event, read through one
// kernel, is gone for the other; an epoch ended through one starts afresh
// for the other's program; and a Load after both closed finds the counters
// and the event left unread. A load with another ring size is refused,
// naming EventsBytes.
func TestKernel_PinDetector(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.PinCPU(t)
	dir := kerneltest.BPFFS(t)
	p := cms.LabParams(4096, testSeed)
	opts := Options{Params: p, Mode: ModeDetect, Threshold: 3, Epochs: true, EventsBytes: 1 << 16, PinPath: dir}
	a, b := load(t, opts), load(t, opts)
	f := fixtures(t)["ipv4-tcp"]
	info, err := flow.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	run := func(what string, k *Kernel, want uint32) {
		t.Helper()
		if v, _ := kerneltest.Run(t, k.Program(), f); v != want {
			t.Fatalf("%s: verdict %d, want %d", what, v, want)
		}
	}
	event := func(what string, ev []Event, err error, epoch int) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) != 1 || ev[0].Key != info.Key || ev[0].Report != cms.ReportCrossed || ev[0].Epoch != epoch {
			t.Fatalf("%s: events %+v, want one crossing of %v in epoch %d", what, ev, info.Key, epoch)
		}
	}

	for i := range 3 {
		run(fmt.Sprintf("packet %d through the first kernel", i), a, VerdictPass)
	}
	run("the flow through the second kernel after it crossed through the first", b, VerdictDrop)
	ev, err := b.Events()
	event("the second kernel's events", ev, err, 0)
	if ev, err := a.Events(); err != nil || len(ev) != 0 {
		t.Fatalf("the first kernel's events after the second read them: %+v, %v; want none", ev, err)
	}
	if st, err := a.Stats(); err != nil || st.Dropped != 1 || st.Events != 1 {
		t.Fatalf("the first kernel's Stats %+v, %v; want the second's drop and the first's event", st, err)
	}

	if _, err := a.Flip(); err != nil {
		t.Fatal(err)
	}
	if e, err := b.Epoch(); err != nil || e != 1 {
		t.Fatalf("the second kernel's Epoch after the first's Flip: %d, %v; want 1", e, err)
	}
	for i := range 3 {
		run(fmt.Sprintf("packet %d of the new epoch through the second kernel", i), b, VerdictPass)
	}
	for _, k := range []*Kernel{a, b} {
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}

	c := load(t, opts)
	run("the flow through a load after both closed", c, VerdictDrop)
	ev, err = c.Events()
	event("the events left unread, read by a load after both closed", ev, err, 1)
	if st, err := c.Stats(); err != nil || st.Outcomes[flow.OutcomeOK] != 8 || st.Dropped != 2 || st.Events != 2 {
		t.Fatalf("Stats after a reload %+v, %v; want 8 packets, 2 dropped, 2 events", st, err)
	}
	if s, err := c.Read(0); err != nil || s.Total() != 3 {
		t.Fatalf("a reload's Read(0): %v; want the 3 packets the first epoch passed", err)
	}

	other := opts
	other.EventsBytes *= 2
	k, err := Load(other)
	if err == nil {
		k.Close()
		t.Fatal("a load with another EventsBytes on the same PinPath: no error")
	}
	if !strings.Contains(err.Error(), "EventsBytes asks for 131072") || !errors.Is(err, ebpf.ErrMapIncompatible) {
		t.Fatalf("a load with another EventsBytes on the same PinPath: %v; want a refusal naming EventsBytes", err)
	}
	kerneltest.Unpinned(t, dir, Unpin)
}

// A PinPath that is not a directory of a BPF file system is an error
// saying so, Unpin("") is an error, and Unpin of a directory that holds
// no pins is none.
func TestKernel_PinPathErrors(t *testing.T) {
	kerneltest.Require(t)
	p := cms.Params{Width: 63, Depth: 3, Seed: testSeed}
	notBPF := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{notBPF, "not on a BPF file system"},
		{filepath.Join(notBPF, "missing"), "no such file"},
	} {
		if k, err := Load(Options{Params: p, PinPath: tc.path}); err == nil || !strings.Contains(err.Error(), tc.want) {
			k.Close()
			t.Errorf("Load with PinPath %s: %v; want an error saying %q", tc.path, err, tc.want)
		}
	}
	kerneltest.Unpinned(t, kerneltest.BPFFS(t), Unpin)
}
