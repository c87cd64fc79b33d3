//go:build linux

package xdp

import (
	"encoding/binary"
	"math"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// satParams is a small sketch: 3 rows of 5 counters (an odd count, so each
// element's value is padded).
var satParams = cms.Params{Width: 5, Depth: 3, Seed: testSeed}

// filled returns one element value of l with every counter at v.
func filled(l layout, v uint32) []byte {
	b := make([]byte, 4*l.perElem)
	for i := 0; i < len(b); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], v)
	}
	return b
}

// satIndexes returns the counter indexes of frame's flow, one per row.
func satIndexes(t *testing.T, frame []byte) []int {
	info, err := flow.Parse(frame)
	if err != nil {
		t.Fatal(err)
	}
	h := info.Key.Hash(satParams.Seed)
	var idx []int
	for r := range satParams.Depth {
		idx = append(idx, int(r*satParams.Width+flow.Index(h, r, satParams.Width)))
	}
	return idx
}

// runN runs the program n times on frame in one BPF_PROG_TEST_RUN.
func runN(t *testing.T, k *Kernel, frame []byte, n int) {
	t.Helper()
	kerneltest.RunRepeat(t, k.objs.XdpCms, frame, n)
}

// Shared mode: counters filled to 100000 below 2^32-1 take the plain
// atomic add up to CMS_SAT_GUARD (2^32-1-65536) and the compare-and-swap
// above it, and stop at 0xffffffff; no increment is missed (SatMissed 0,
// one CPU); other counters are untouched.
func TestKernel_SaturatesShared(t *testing.T) {
	k := load(t, Options{Params: satParams, Mode: ModeShared})
	const start = math.MaxUint32 - 100000
	l := layoutOf(satParams, false)
	for e := range l.elements() {
		if err := k.objs.CmsCounters.Update(e, filled(l, start), ebpf.UpdateExist); err != nil {
			t.Fatal(err)
		}
	}
	f := fixtures(t)["ipv4-udp"]
	idx := satIndexes(t, f)
	for _, run := range []struct{ packets, want uint32 }{
		{99990, math.MaxUint32 - 10}, // below the top: every add counted
		{10, math.MaxUint32},         // exactly to the top
		{500, math.MaxUint32},        // past it: stays there
	} {
		runN(t, k, f, int(run.packets))
		c, err := k.Counters()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range c {
			want := uint32(start)
			if i == idx[i/int(satParams.Width)] {
				want = run.want
			}
			if v != want {
				t.Fatalf("counter %d: %#x, want %#x", i, v, want)
			}
		}
	}
	st, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.SatMissed != 0 || st.Outcomes[flow.OutcomeOK] != 100500 {
		t.Fatalf("stats %+v: want SatMissed 0 and 100500 packets", st)
	}
}

// Per-CPU mode: every CPU's copy filled to 10 below 2^32-1; the copy of
// the CPU the packets run on stops at 0xffffffff, the others stay, and
// the loader's sum of the copies saturates at 0xffffffff instead of
// wrapping (with one possible CPU, the sum is that copy).
func TestKernel_SaturatesPerCPU(t *testing.T) {
	kerneltest.PinCPU(t)
	k := load(t, Options{Params: satParams, Mode: ModePerCPU})
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const start = math.MaxUint32 - 10
	l := layoutOf(satParams, true)
	full := make([][]byte, cpus)
	for i := range full {
		full[i] = filled(l, start)
	}
	for e := range l.elements() {
		if err := k.objs.CmsCountersPcpu.Update(e, full, ebpf.UpdateExist); err != nil {
			t.Fatal(err)
		}
	}
	f := fixtures(t)["ipv4-udp"]
	idx := satIndexes(t, f)
	runN(t, k, f, 25)
	ran := -1 // the CPU the packets ran on
	for r, i := range idx {
		var per [][]byte
		e, slot := l.where(uint32(r), uint32(i%int(satParams.Width)))
		if err := k.objs.CmsCountersPcpu.Lookup(e, &per); err != nil {
			t.Fatal(err)
		}
		for cpu, b := range per {
			switch v := binary.NativeEndian.Uint32(b[4*slot:]); v {
			case math.MaxUint32:
				if ran >= 0 && ran != cpu {
					t.Fatalf("row %d: CPUs %d and %d both counted", r, ran, cpu)
				}
				ran = cpu
			case start:
			default:
				t.Fatalf("row %d, CPU %d: counter %#x, want %#x or 0xffffffff", r, cpu, v, uint32(start))
			}
		}
	}
	if ran < 0 {
		t.Fatal("no CPU's copy saturated after 25 packets from 10 below the top")
	}
	c, err := k.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range c {
		want := uint32(math.MaxUint32) // the sum of cpus copies of start saturates
		if cpus == 1 && i != idx[i/int(satParams.Width)] {
			want = start
		}
		if v != want {
			t.Fatalf("summed counter %d over %d CPUs: %#x, want %#x", i, cpus, v, want)
		}
	}
	if st, _ := k.Stats(); st.SatMissed != 0 || st.Outcomes[flow.OutcomeOK] != 25 {
		t.Fatalf("stats %+v: want SatMissed 0 and 25 packets", st)
	}
}

// Reading per-CPU counters allocates the result and one batch of values,
// nothing per element: Counters read each batch into a [][]byte, which
// cilium/ebpf fills with a fresh copy of every CPU's value of every element
// after copying the batch out of its own buffer, 2*cpus+1 times the
// sketch's bytes per read (the loader with two counters per element read
// into the batch's buffer directly).
func TestKernel_CountersPerCPUAllocs(t *testing.T) {
	p := cms.Params{Width: 3*pcpuChunk + 1, Depth: 8, Seed: testSeed} // 32 elements of 32 KiB per CPU
	k := load(t, Options{Params: p, Mode: ModePerCPU})
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	l := layoutOf(p, true)
	if _, err := k.Counters(); err != nil { // warm up
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := k.Counters(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	want := uint64(4*p.Counters() + min(int(l.elements())*cpus*l.stride(), 4<<20) + 64<<10)
	if got > want {
		t.Fatalf("Counters of %d per-CPU elements of %d bytes on %d CPUs allocated %d bytes, want at most %d", l.elements(), l.stride(), cpus, got, want)
	}
}

// Detector mode saturates like the per-CPU sketch: a flow whose minimum is
// below the threshold has each of its counters incremented, and one
// already at 2^32-1 (filled by other flows) stays there instead of
// wrapping to 0, which would take the estimates of every flow sharing it
// below their true counts. Row 0 of every CPU's copy is filled to
// 2^32-1, the other rows are empty; one packet passes and leaves row 0 at
// 2^32-1 and a 1 in each other row on one CPU. At depth 2 the kernel
// runs its straight-line code, at 9 its loop; no test covered either
// (the sketch modes' saturation is tested above).
func TestKernel_SaturatesDetect(t *testing.T) {
	kerneltest.PinCPU(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	f := fixtures(t)["ipv4-udp"]
	info, err := flow.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, depth := range []uint32{2, 9} {
		p := cms.Params{Width: 5, Depth: depth, Seed: testSeed}
		k := load(t, Options{Params: p, Mode: ModeDetect, Threshold: 1000})
		l := layoutOf(p, true)
		full := make([][]byte, cpus)
		for i := range full {
			full[i] = filled(l, math.MaxUint32)
		}
		if err := k.objs.CmsCountersPcpu.Update(uint32(0), full, ebpf.UpdateExist); err != nil {
			t.Fatal(err)
		}
		if v, _ := kerneltest.Run(t, k.Program(), f); v != 2 {
			t.Fatalf("depth %d: verdict %d, want XDP_PASS (the flow's minimum is 0)", depth, v)
		}
		h := info.Key.Hash(p.Seed)
		for r := range depth {
			e, slot := l.where(r, flow.Index(h, r, p.Width))
			var per [][]byte
			if err := k.objs.CmsCountersPcpu.Lookup(e, &per); err != nil {
				t.Fatal(err)
			}
			var ones int
			for cpu, b := range per {
				v := binary.NativeEndian.Uint32(b[4*slot:])
				switch {
				case r == 0 && v != math.MaxUint32:
					t.Errorf("depth %d, row 0, CPU %d: counter %#x after one packet, want it saturated at 0xffffffff", depth, cpu, v)
				case r > 0 && v == 1:
					ones++
				case r > 0 && v != 0:
					t.Errorf("depth %d, row %d, CPU %d: counter %d, want 0 or 1", depth, r, cpu, v)
				}
			}
			if r > 0 && ones != 1 {
				t.Errorf("depth %d, row %d: %d CPUs counted the packet, want 1", depth, r, ones)
			}
		}
	}
}
