//go:build linux

package xdp

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// runOnCPU runs fn with the calling goroutine on one thread pinned to cpu
// (a test run executes on the caller's CPU).
func runOnCPU(t *testing.T, cpu int, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &old)
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	fn()
}

// mergeTables is Kernel.Read's per-CPU merge in Go: filters ORed, FlowXOR
// XORed, counters summed.
func mergeTables(dst, src *flowradar.Table) {
	df, sf := dst.Filter(), src.Filter()
	for i := range df {
		df[i] |= sf[i]
	}
	dc, sc := dst.Cells(), src.Cells()
	for i := range dc {
		for j := range dc[i].FlowXOR {
			dc[i].FlowXOR[j] ^= sc[i].FlowXOR[j]
		}
		dc[i].FlowCount += sc[i].FlowCount
		dc[i].PacketCount += sc[i].PacketCount
		dc[i].ByteCount += sc[i].ByteCount
	}
	if err := dst.SetCells(dc); err != nil {
		panic(err) // same Params: cannot happen
	}
}

// TestKernel_PerCPUDisjointFlows: per-CPU tables with every flow on one
// CPU (what RSS gives) merge into the Go tables of each CPU's packets,
// merged the same way, and not in general into one Go table of all the
// packets: each CPU's filter decides "new flow" from that CPU's flows
// alone, so a flow whose filter bits other CPUs' flows set is new to its
// CPU where one shared filter takes it as known (a false positive). The
// small filter here makes such flows certain. The kernel's comment used to
// say the merge equals one shared table exactly when no flow spans two
// CPUs.
func TestKernel_PerCPUDisjointFlows(t *testing.T) {
	kerneltest.Require(t)
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := 0; i < 1024 && len(cpus) < 2; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		t.Skip("needs two CPUs")
	}
	p := flowradar.Params{Cells: 4 * 64, Hashes: 4, FilterBits: 512, FilterHashes: 2, Seed: 7}
	k, err := Load(Options{Params: p, PerCPU: true})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer k.Close()
	var byCPU [2][][]byte
	for i := range 60 {
		// 10.0.0.i:1000 > 10.0.1.1:53 and 10.0.2.i:1000 > 10.0.1.1:53, udp
		byCPU[0] = append(byCPU[0], pkt.UDP4(fmt.Sprintf("10.0.0.%d:1000", i), "10.0.1.1:53", nil))
		byCPU[1] = append(byCPU[1], pkt.UDP4(fmt.Sprintf("10.0.2.%d:1000", i), "10.0.1.1:53", nil))
	}
	want, _ := flowradar.NewTable(p)
	one, _ := flowradar.NewTable(p)
	for c, frames := range byCPU {
		runOnCPU(t, cpus[c], func() {
			for _, f := range frames {
				kerneltest.Run(t, k.Program(), f)
			}
		})
		part, _ := flowradar.NewTable(p)
		Encode(part, frames)
		mergeTables(want, part)
		Encode(one, frames)
	}
	got, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Fatal("per-CPU kernel tables differ from the merge of the Go tables of each CPU's packets")
	}
	st, _ := k.Stats()
	if one.Equal(want) || st.NewFlows == uint64(one.Flows()) {
		t.Fatalf("no flow was a false positive across CPUs (%d new flows, one Go table %d): the test proves nothing", st.NewFlows, one.Flows())
	}
	t.Logf("%d flows new to their CPU; one Go table of all packets takes %d as new", st.NewFlows, one.Flows())
}
