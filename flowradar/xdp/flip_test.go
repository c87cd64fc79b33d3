//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// decodedFlows returns the flows a table decodes to: packet counts by
// key string.
func decodedFlows(t *testing.T, tb *flowradar.Table) map[string]uint64 {
	t.Helper()
	d, err := tb.Decode()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range d.Flows {
		out[f.Key.String()] = f.Packets
	}
	return out
}

// A Flip whose read fails has ended the epoch and says so; the epoch
// stays readable until the next Flip, and no packet of it leaks into a
// later epoch.
// The tables are per-CPU: the shared ones are read from memory mappings,
// which cannot fail (TestRead_MappingTooShort covers their guard).
func TestFlip_ReadFails(t *testing.T) {
	p := flowradar.ParamsFor(64, 9)
	k := loadKernel(t, p, true)
	a := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1})
	b := pkt.UDP4("10.0.0.3:5353", "10.0.0.4:53", []byte{1})
	run := func(f []byte) { runOnce(t, k, f) }
	run(a) // epoch 0
	// Epoch 0's cells in a map whose values do not fit the loader's type
	// (one cell an element, the layout before chunks of 64): the read
	// fails, as a transient lookup error would.
	var ferr error
	kerneltest.WithMap(t, &k.objs.FlowradarPcpuCells0, &ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: flowradar.CellBytes, MaxEntries: p.Cells}, func() {
		_, ferr = k.Flip()
	})
	if ferr == nil || !strings.Contains(ferr.Error(), "epoch 0 ended") || !strings.Contains(ferr.Error(), "read cells") {
		t.Fatalf("Flip with a failing read: %v; want an error saying epoch 0 ended and its cells could not be read", ferr)
	}
	if e, _ := k.Epoch(); e != 1 {
		t.Fatalf("after the failed read the kernel writes epoch %d, want 1", e)
	}
	t0, err := k.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, t0); len(got) != 1 || got[mustKey(t, a)] != 1 {
		t.Fatalf("epoch 0 read again: %v, want flow a alone", got)
	}
	run(b) // epoch 1
	t1, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, t1); len(got) != 1 || got[mustKey(t, b)] != 1 {
		t.Fatalf("epoch 1: %v, want flow b alone", got)
	}
	run(b) // epoch 0 again: cleared before reuse
	t2, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, t2); len(got) != 1 || got[mustKey(t, b)] != 1 {
		t.Fatalf("epoch 0 reused: %v, want flow b alone (a must not resurface)", got)
	}
}

// A Flip whose clear fails changes nothing: the kernel writes the same
// epoch, and a retry returns it whole. Per-CPU tables, as above: clearing
// a shared one zeroes its mapping, which cannot fail.
func TestFlip_ClearFails(t *testing.T) {
	p := flowradar.ParamsFor(64, 9)
	k := loadKernel(t, p, true)
	a := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1})
	run := func(f []byte) { runOnce(t, k, f) }
	run(a) // epoch 0
	// A read-only descriptor of epoch 1's cells: the clear's batch update
	// of its chunks fails.
	real := k.objs.FlowradarPcpuCells1
	ro := readOnly(t, real)
	defer ro.Close()
	k.objs.FlowradarPcpuCells1 = ro
	_, ferr := k.Flip()
	k.objs.FlowradarPcpuCells1 = real
	if ferr == nil || !strings.Contains(ferr.Error(), "clear epoch 1 cells") {
		t.Fatalf("Flip with a failing clear: %v; want an error saying epoch 1's cells could not be cleared", ferr)
	}
	if e, _ := k.Epoch(); e != 0 {
		t.Fatalf("after the failed clear the kernel writes epoch %d, want 0 (unchanged)", e)
	}
	run(a)
	t0, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, t0); len(got) != 1 || got[mustKey(t, a)] != 2 {
		t.Fatalf("retried Flip: %v, want flow a with 2 packets", got)
	}
}

// Under traffic on both CPUs, every packet the kernel parsed is in exactly
// one table Flip returned, and no returned table fails to decode for any
// reason but an incomplete decode (the traffic's 80 flows are more than
// the 64 the tables are sized for, so a decode may stop short).
func TestFlip_UnderTraffic(t *testing.T) {
	p := flowradar.ParamsFor(64, 9)
	k := loadKernel(t, p, false)
	flipUnderTraffic(t, k, k, p, 2*time.Second)
}

// flipUnderTraffic runs traffic through writer's program on two
// goroutines while it flips through flipper for d, then checks that every
// packet writer parsed is in exactly one flipped table, and that every
// table decodes (or stops short: the traffic's 80 flows are more than the
// 64 the tables of p hold). writer and flipper are one kernel or two on
// the same pins.
func flipUnderTraffic(t *testing.T, writer, flipper *Kernel, p flowradar.Params, d time.Duration) {
	t.Helper()
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer func() { stop.Store(true); wg.Wait() }() // on a Fatal too
	for g := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				f := pkt.UDP4(fmt.Sprintf("10.0.%d.1:%d", g, 1000+i%40), "10.0.0.2:53", []byte{1})
				if _, err := writer.Program().Run(&ebpf.RunOptions{Data: f, Repeat: 50}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	sub := p.Cells / uint32(p.Hashes)
	var got uint64
	collect := func(tb *flowradar.Table) {
		for _, c := range tb.Cells()[:sub] { // each packet once per sub-table
			got += uint64(c.PacketCount)
		}
		if _, err := tb.Decode(); err != nil && !errors.Is(err, flowradar.ErrDecodeIncomplete) {
			t.Errorf("flipped table: %v", err)
		}
	}
	flips := 0
	for deadline := time.Now().Add(d); time.Now().Before(deadline); flips++ {
		tb, err := flipper.Flip()
		if err != nil {
			t.Fatal(err)
		}
		collect(tb)
	}
	stop.Store(true)
	wg.Wait()
	tb, err := flipper.Flip()
	if err != nil {
		t.Fatal(err)
	}
	collect(tb)
	st, err := writer.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcomes[0] == 0 || got != st.Outcomes[0] {
		t.Fatalf("%d flips: %d packets parsed, %d in the flipped tables", flips, st.Outcomes[0], got)
	}
}

// TestFlip_Waits: Flip waits for the program runs still writing the epoch
// it ends with the kernel's grace period (bpfload.Waiter), once per Flip;
// when that wait fails, the error says the epoch ended and Read reads it.
func TestFlip_Waits(t *testing.T) {
	k := loadKernel(t, flowradar.ParamsFor(64, 9), false)
	runOnce(t, k, pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1}))
	for i := range 2 {
		if _, err := k.Flip(); err != nil {
			t.Fatal(err)
		}
		if n := k.wait.Waits(); n != uint64(i+1) {
			t.Fatalf("%d Flips waited %d times", i+1, n)
		}
	}
	runOnce(t, k, pkt.UDP4("10.0.0.3:5353", "10.0.0.4:53", []byte{1})) // epoch 0 again
	if err := k.wait.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Flip(); err == nil || !strings.Contains(err.Error(), "epoch 0 ended") {
		t.Fatalf("Flip whose wait fails: %v; want an error saying epoch 0 ended", err)
	}
	tb, err := k.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodedFlows(t, tb); len(got) != 1 || got["10.0.0.3:5353 > 10.0.0.4:53 udp"] != 1 {
		t.Errorf("Read(0) after the failed wait: %v, want the one packet of epoch 0", got)
	}
}

// runOnce runs the program once on frame f.
func runOnce(t *testing.T, k *Kernel, f []byte) {
	t.Helper()
	if _, err := k.Program().Run(&ebpf.RunOptions{Data: f}); err != nil {
		t.Fatal(err)
	}
}

// readOnly opens a second, read-only descriptor of m
// (BPF_MAP_GET_FD_BY_ID with BPF_F_RDONLY).
func readOnly(t *testing.T, m *ebpf.Map) *ebpf.Map {
	t.Helper()
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	attr := struct{ id, next, flags uint32 }{uint32(id), 0, unix.BPF_F_RDONLY}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_GET_FD_BY_ID, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno == unix.EPERM { // a map by ID takes CAP_SYS_ADMIN, which the kernels do not need
		kerneltest.Skip(t, fmt.Sprintf("a read-only descriptor of map %d takes CAP_SYS_ADMIN: %v", id, errno))
	}
	if errno != 0 {
		t.Fatal(errno)
	}
	ro, err := ebpf.NewMapFromFD(int(fd))
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

// mustKey is the flow key string of a frame.
func mustKey(t *testing.T, frame []byte) string {
	t.Helper()
	info, err := flow.Parse(frame)
	if err != nil {
		t.Fatal(err)
	}
	return info.Key.String()
}

// A shared epoch's mappings shorter than its table (which Load never
// makes) are an error naming the sizes, not a read past their end.
func TestRead_MappingTooShort(t *testing.T) {
	k := loadKernel(t, flowradar.ParamsFor(64, 9), false)
	for _, mem := range []*[2][]byte{&k.filterMem, &k.cellsMem} {
		full := mem[1]
		mem[1] = full[:8]
		_, err := k.Read(1)
		mem[1] = full
		if err == nil || !strings.Contains(err.Error(), "the map holds 8 bytes") {
			t.Errorf("Read of a truncated mapping: %v, want an error naming its 8 bytes", err)
		}
	}
	if _, err := k.Read(1); err != nil {
		t.Fatal(err)
	}
}
