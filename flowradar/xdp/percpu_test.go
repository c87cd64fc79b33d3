//go:build linux

package xdp

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// runFrames runs each of frames once through k's program.
func runFrames(k *Kernel, frames [][]byte) error {
	for _, f := range frames {
		if _, err := k.Program().Run(&ebpf.RunOptions{Data: f}); err != nil {
			return err
		}
	}
	return nil
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
	cpus := kerneltest.TwoCPUs(t)
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
		kerneltest.OnThreads(t, []int{cpus[c]}, func(int) error { return runFrames(k, frames) })
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
	kerneltest.NoAllocs(t, "Stats", func() error { _, err := k.Stats(); return err })
	if one.Equal(want) || st.NewFlows == uint64(one.Flows()) {
		t.Fatalf("no flow was a false positive across CPUs (%d new flows, one Go table %d): the test proves nothing", st.NewFlows, one.Flows())
	}
	t.Logf("%d flows new to their CPU; one Go table of all packets takes %d as new", st.NewFlows, one.Flows())
}

// TestKernel_ReadCPUs: flows whose packets are spread over two CPUs, as
// on a veth, where XDP runs on the sending CPU. Read's merged table holds
// each such flow twice, as new on both CPUs, and does not decode;
// ReadCPUs returns each CPU's table, equal to the Go table of that CPU's
// packets, and decoding each and summing per flow gives every flow's
// exact totals; FlipCPUs ends the epoch and returns the same tables.
// Without PerCPU, ReadCPUs returns Read's one table.
func TestKernel_ReadCPUs(t *testing.T) {
	kerneltest.Require(t)
	cpus := kerneltest.TwoCPUs(t)
	p := flowradar.ParamsFor(40, 9)
	k, err := Load(Options{Params: p, PerCPU: true})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer k.Close()
	// Flow i (10.0.0.i:1000 > 10.0.1.1:53, udp) sends i+1 packets on the
	// first CPU and 2 on the second.
	var byCPU [2][][]byte
	want := map[flow.Key]flowradar.Flow{}
	for i := range 40 {
		f := pkt.UDP4(fmt.Sprintf("10.0.0.%d:1000", i), "10.0.1.1:53", nil)
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		for j := range i + 3 {
			byCPU[min(j/(i+1), 1)] = append(byCPU[min(j/(i+1), 1)], f)
		}
		want[info.Key] = flowradar.Flow{Key: info.Key, Packets: uint64(i + 3), Bytes: uint64((i + 3) * len(f))}
	}
	var perCPU [2]*flowradar.Table
	for c, frames := range byCPU {
		kerneltest.OnThreads(t, []int{cpus[c]}, func(int) error { return runFrames(k, frames) })
		perCPU[c], _ = flowradar.NewTable(p)
		Encode(perCPU[c], frames)
	}
	e, err := k.Epoch()
	if err != nil {
		t.Fatal(err)
	}
	if merged, err := k.Read(e); err != nil {
		t.Fatal(err)
	} else if d, err := merged.Decode(); err == nil || len(d.Flows) == len(want) {
		t.Fatalf("the merged table of flows spread over two CPUs decoded %d flows, error %v: the test proves nothing", len(d.Flows), err)
	}
	tables, err := k.ReadCPUs(e)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ebpf.PossibleCPU(); len(tables) != n {
		t.Fatalf("%d tables, want one per possible CPU (%d)", len(tables), n)
	}
	got := map[flow.Key]flowradar.Flow{}
	for c, tab := range tables {
		switch c {
		case cpus[0], cpus[1]:
			if w := perCPU[slices.Index(cpus[:], c)]; !tab.Equal(w) {
				t.Fatalf("CPU %d's table differs from the Go table of its packets", c)
			}
		default:
			if tab.Flows() != 0 {
				t.Fatalf("CPU %d, which ran nothing, holds %d flows", c, tab.Flows())
			}
		}
		d, err := tab.Decode()
		if err != nil {
			t.Fatalf("CPU %d: %v", c, err)
		}
		for _, f := range d.Flows {
			g := got[f.Key]
			got[f.Key] = flowradar.Flow{Key: f.Key, Packets: g.Packets + f.Packets, Bytes: g.Bytes + f.Bytes}
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("summed over the CPUs' decoded tables: %d flows %v\nwant %d flows %v", len(got), got, len(want), want)
	}
	if _, err := k.ReadCPUs(2); err == nil {
		t.Error("ReadCPUs(2) succeeded")
	}
	// FlipCPUs ends the epoch and returns the same per-CPU tables.
	flipped, err := k.FlipCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(flipped) != len(tables) {
		t.Fatalf("FlipCPUs: %d tables, ReadCPUs %d", len(flipped), len(tables))
	}
	for c := range tables {
		if !flipped[c].Equal(tables[c]) {
			t.Fatalf("FlipCPUs: CPU %d's table differs from ReadCPUs'", c)
		}
	}
	if now, _ := k.Epoch(); now == e {
		t.Fatal("FlipCPUs did not end the epoch")
	}

	shared, err := Load(Options{Params: p})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer shared.Close()
	for _, f := range byCPU[0] {
		kerneltest.Run(t, shared.Program(), f)
	}
	one, err := shared.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := shared.ReadCPUs(0); err != nil || len(ts) != 1 || !ts[0].Equal(one) || one.Flows() == 0 {
		t.Fatalf("shared tables: ReadCPUs gave %d tables, error %v; want Read's one table", len(ts), err)
	}
}
