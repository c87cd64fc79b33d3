//go:build linux

package xdp

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// flipOK calls Flip and fails the test on an error.
func flipOK(t *testing.T, k *Kernel) *iblt.Table {
	t.Helper()
	tb, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// epochOK returns the epoch k writes.
func epochOK(t *testing.T, k *Kernel) int {
	t.Helper()
	e, err := k.Epoch()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// digestOK is the Go digest of frames.
func digestOK(t *testing.T, o Options, frames [][]byte) *iblt.Table {
	t.Helper()
	d, err := Digest(o, frames)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFlip_Epochs: packets A, Flip, packets B, Flip. Each Flip returns the
// Go digest of the packets of its epoch (A, then B, not A+B: the second
// epoch was cleared before use, and epoch 0 cleared again after), Read of
// the ended epoch returns the same table, Table reads the epoch being
// written, and the epoch alternates. Per-CPU and shared, in a table of 60
// cells and one of 9003 (three read batches of bpfload.Batch per epoch,
// the last partial, so epoch 1 starts inside a batch).
func TestFlip_Epochs(t *testing.T) {
	var a, b [][]byte
	for i, fx := range fixtures(t) {
		if i%2 == 0 {
			a = append(a, fx.frame)
		} else {
			b = append(b, fx.frame)
		}
	}
	for _, cells := range []int{60, 3 * 3001} {
		if cells == 3*3001 && (cells <= 2*bpfload.Batch || cells%bpfload.Batch == 0) {
			t.Fatalf("%d cells: want more than two batches of %d, the last partial", cells, bpfload.Batch)
		}
		for _, shared := range []bool{false, true} {
			name := fmt.Sprintf("cells=%d/shared=%v", cells, shared)
			o := Options{Cells: cells, Hashes: 3, Seed: 0xf11b, Shared: shared}
			k := loadKernel(t, o)
			wantA, wantB := digestOK(t, o, a), digestOK(t, o, b)
			if wantA.IsEmpty() || wantB.IsEmpty() || wantA.Equal(wantB) {
				t.Fatalf("%s: the digests of A and B must differ and be non-empty", name)
			}
			run := func(frames [][]byte) {
				for _, f := range frames {
					kerneltest.Run(t, k.Program(), f)
				}
			}
			if e := epochOK(t, k); e != 0 {
				t.Fatalf("%s: a new kernel writes epoch %d, want 0", name, e)
			}
			run(a)
			if tb, err := k.Table(); err != nil || !tb.Equal(wantA) {
				t.Fatalf("%s: Table in epoch 0 after A (err %v): not the digest of A", name, err)
			}
			tA := flipOK(t, k)
			if !tA.Equal(wantA) {
				t.Errorf("%s: first Flip: not the Go digest of A", name)
			}
			if e := epochOK(t, k); e != 1 {
				t.Fatalf("%s: after one Flip the kernel writes epoch %d, want 1", name, e)
			}
			if tb, err := k.Table(); err != nil || !tb.IsEmpty() {
				t.Errorf("%s: Table of the new epoch 1 (err %v): not empty", name, err)
			}
			run(b)
			if tb, err := k.Table(); err != nil || !tb.Equal(wantB) {
				t.Errorf("%s: Table in epoch 1 after B (err %v): not the digest of B", name, err)
			}
			if r0, err := k.Read(0); err != nil || !r0.Equal(tA) {
				t.Errorf("%s: Read(0), the ended epoch (err %v): not the table Flip returned", name, err)
			}
			tB := flipOK(t, k)
			if !tB.Equal(wantB) {
				t.Errorf("%s: second Flip: not the Go digest of B", name)
			}
			if e := epochOK(t, k); e != 0 {
				t.Fatalf("%s: after two Flips the kernel writes epoch %d, want 0", name, e)
			}
			if r1, err := k.Read(1); err != nil || !r1.Equal(tB) {
				t.Errorf("%s: Read(1), the ended epoch (err %v): not the table Flip returned", name, err)
			}
			if tb, err := k.Table(); err != nil || !tb.IsEmpty() {
				t.Errorf("%s: Table of epoch 0 after the second Flip (err %v): not empty (A not cleared)", name, err)
			}
			// A third epoch of A again: epoch 0 was cleared, and epoch 1
			// (B) is left alone until the next Flip.
			run(a)
			if tA2 := flipOK(t, k); !tA2.Equal(wantA) {
				t.Errorf("%s: third Flip: not the Go digest of A", name)
			}
			if r1, err := k.Read(1); err != nil || !r1.IsEmpty() {
				t.Errorf("%s: Read(1) after the third Flip (err %v): not empty (the Flip clears the epoch it starts)", name, err)
			}
			if r0, err := k.Read(0); err != nil || !r0.Equal(wantA) {
				t.Errorf("%s: Read(0) after the third Flip (err %v): not the digest of A", name, err)
			}
			// Clear empties one epoch, Reset both; neither moves the epoch.
			run(b) // epoch 1
			if err := k.Clear(1); err != nil {
				t.Fatal(err)
			}
			if r1, _ := k.Read(1); !r1.IsEmpty() {
				t.Errorf("%s: Read(1) after Clear(1): not empty", name)
			}
			if r0, _ := k.Read(0); !r0.Equal(wantA) {
				t.Errorf("%s: Clear(1) changed epoch 0", name)
			}
			run(b)
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			for e := range 2 {
				if r, _ := k.Read(e); !r.IsEmpty() {
					t.Errorf("%s: Read(%d) after Reset: not empty", name, e)
				}
			}
			if e := epochOK(t, k); e != 1 {
				t.Errorf("%s: Reset moved the epoch to %d, want 1", name, e)
			}
			if st, _ := k.Stats(); st.Packets() != 0 || st.MissingCells != 0 {
				t.Errorf("%s: stats after Reset %+v, want zero", name, st)
			}
		}
	}
}

// Read and Clear accept epochs 0 and 1 only, and say so.
func TestFlip_EpochArgument(t *testing.T) {
	k := loadKernel(t, Options{Cells: 30, Hashes: 3, Seed: 1})
	for _, e := range []int{-1, 2, 1 << 20} {
		want := fmt.Sprintf("iblt kernel: epoch must be 0 or 1, got %d", e)
		if _, err := k.Read(e); err == nil || err.Error() != want {
			t.Errorf("Read(%d): %v, want %q", e, err, want)
		}
		if err := k.Clear(e); err == nil || err.Error() != want {
			t.Errorf("Clear(%d): %v, want %q", e, err, want)
		}
	}
}

// flipFrames are the frames the traffic of TestFlip_UnderTraffic runs:
// IPv4 and IPv6 (all six key words), UDP and TCP.
func flipFrames() [][]byte {
	return [][]byte{
		pkt.UDP4("10.0.0.1:40000", "10.0.0.2:53", []byte("a")),
		pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", 0x02, []byte("b")),
		pkt.TCP4("10.0.0.3:40001", "10.0.0.4:443", 0x02, nil),
		pkt.UDP6("[2001:db8::3]:5353", "[2001:db8::4]:53", []byte("dd")),
	}
}

// subtableCounts returns the sum of the counts of each sub-table of tb.
// Every packet adds one to one cell of each, so the sums are equal in a
// table that holds each of its packets whole.
func subtableCounts(tb *iblt.Table) []int64 {
	w, s := tb.Words(), tb.CellWords()
	sub := tb.Cells() / tb.Hashes()
	sums := make([]int64, tb.Hashes())
	for c := 0; c < tb.Cells(); c++ {
		sums[c/sub] += int64(w[c*s])
	}
	return sums
}

// TestFlip_UnderTraffic: two goroutines run frames through the program
// without pause while the test flips the kernel 16 times, waiting before
// each Flip until the traffic has made progress, so that every epoch has
// packets and many Flips land while a test run is going on. Every table
// Flip returns holds its packets whole (equal count sums in every
// sub-table), and the Merge of all of them and of a last Flip after the
// traffic stopped equals, cell for cell, the Go digest of every packet
// run: no packet lost to a clear, counted twice or split across epochs.
// Per-CPU and shared.
func TestFlip_UnderTraffic(t *testing.T) {
	const (
		flips = 16
		// Runs of one frame per test run: 1, since a test run that repeats
		// an XDP program swaps it into the XDP dispatcher and back, two
		// RCU grace periods (about 20 ms here) whatever the count, in
		// which no packet runs.
		repeat = 1
	)
	frames := flipFrames()
	for _, shared := range []bool{false, true} {
		o := Options{Cells: 3 * 7, Hashes: 3, Seed: 0x7aff1c, Shared: shared}
		k := loadKernel(t, o)
		var done atomic.Uint64      // test runs finished, both goroutines
		runs := make([][]uint64, 2) // runs[g][i]: times goroutine g ran frame i
		next := make([]int, 2)      // next[g]: the frame goroutine g runs next
		for g := range 2 {
			runs[g] = make([]uint64, len(frames))
			next[g] = g
		}
		// An interrupted test run starts over and runs the frame more
		// often than counted: the goroutines run with signals blocked
		// (not pinned: the scheduler spreads them).
		th := kerneltest.Loop(t, []int{kerneltest.AnyCPU, kerneltest.AnyCPU}, func(g int) error {
			f := next[g] % len(frames)
			if _, err := k.Program().Run(&ebpf.RunOptions{Data: frames[f], Repeat: repeat}); err != nil {
				return err
			}
			next[g]++
			runs[g][f] += repeat
			done.Add(1)
			return nil
		})
		merged := iblt.MustNew(o.Params())
		collect := func(i int, tb *iblt.Table) {
			sums := subtableCounts(tb)
			for _, s := range sums[1:] {
				if s != sums[0] {
					t.Errorf("shared=%v: table of Flip %d has count sums %v by sub-table: a packet split or lost in part", shared, i, sums)
					break
				}
			}
			if err := merged.Merge(tb); err != nil {
				t.Fatal(err)
			}
		}
		for i := range flips {
			for seen := done.Load(); done.Load() < seen+2 && th.Err() == nil; {
				time.Sleep(20 * time.Microsecond)
			}
			tb := flipOK(t, k)
			if tb.IsEmpty() {
				t.Errorf("shared=%v: Flip %d returned an empty table after the traffic made progress", shared, i)
			}
			collect(i, tb)
		}
		th.Stop()
		collect(flips, flipOK(t, k))

		want, total := digestRuns(o, frames, runs...)
		if !merged.Equal(want) {
			t.Errorf("shared=%v: %d flips under traffic: the merged tables differ from the Go digest of the %d packets run (count sums %v)",
				shared, flips, total, subtableCounts(merged))
		}
		st, err := k.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Outcomes[flow.OutcomeOK] != total || st.MissingCells != 0 {
			t.Errorf("shared=%v: stats %+v, want %d packets parsed", shared, st, total)
		}
		t.Logf("shared=%v: %d packets over %d flips, merged tables equal the Go digest", shared, total, flips+1)
	}
}

// TestFlip_Waits: Flip waits once per Flip for the program runs still
// writing the epoch it ends (bpfload.Waiter, an RCU grace period); when
// that wait fails, the error says the epoch ended, and Read reads it.
func TestFlip_Waits(t *testing.T) {
	o := Options{Cells: 30, Hashes: 3, Seed: 3}
	k := loadKernel(t, o)
	a, b := flipFrames()[0], flipFrames()[1]
	kerneltest.Run(t, k.Program(), a)
	for i := range 2 {
		flipOK(t, k)
		if n := k.wait.Waits(); n != uint64(i+1) {
			t.Fatalf("%d Flips waited %d times", i+1, n)
		}
	}
	kerneltest.Run(t, k.Program(), b) // epoch 0 again
	if err := k.wait.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Flip(); err == nil || !strings.Contains(err.Error(), "epoch 0 ended") {
		t.Fatalf("Flip whose wait fails: %v; want an error saying epoch 0 ended", err)
	}
	if e := epochOK(t, k); e != 1 {
		t.Errorf("after the failed wait the kernel writes epoch %d, want 1", e)
	}
	if tb, err := k.Read(0); err != nil || !tb.Equal(digestOK(t, o, [][]byte{b})) {
		t.Errorf("Read(0) after the failed wait (err %v): not the digest of the one packet of epoch 0", err)
	}
}

// A Flip whose clear fails changes nothing: the kernel writes the same
// epoch, and a retry returns it whole.
func TestFlip_ClearFails(t *testing.T) {
	o := Options{Cells: 30, Hashes: 3, Seed: 4}
	k := loadKernel(t, o)
	a := flipFrames()[0]
	kerneltest.Run(t, k.Program(), a)
	// A cell map that ends with epoch 0: the clear's batch update of
	// epoch 1 fails, as a transient error would.
	var ferr error
	kerneltest.WithMap(t, &k.objs.IbltCells, &ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: uint32(o.elements() / 2)}, func() {
		_, ferr = k.Flip()
	})
	if ferr == nil || !strings.Contains(ferr.Error(), "clear epoch 1") {
		t.Fatalf("Flip with a failing clear: %v; want an error saying the clear of epoch 1 failed", ferr)
	}
	if e := epochOK(t, k); e != 0 {
		t.Fatalf("after the failed clear the kernel writes epoch %d, want 0 (unchanged)", e)
	}
	kerneltest.Run(t, k.Program(), a)
	if tb := flipOK(t, k); !tb.Equal(digestOK(t, o, [][]byte{a, a})) {
		t.Errorf("retried Flip: not the digest of both packets of epoch 0")
	}
}

// packetsOf returns the packet identities of frames, with multiplicity.
func packetsOf(t *testing.T, frames [][]byte) map[pktID]int {
	t.Helper()
	m := map[pktID]int{}
	for _, f := range frames {
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		m[pktID{info.Key, PacketID(f, info), uint64(len(f))}]++
	}
	return m
}

// listed returns the packets of a listing, with multiplicity.
func listed(ps []Packet) map[pktID]int {
	m := map[pktID]int{}
	for _, p := range ps {
		m[pktID{p.Flow, p.ID, p.Bytes}]++
	}
	return m
}

// sameSet reports whether a and b hold the same packets as often.
func sameSet(a, b map[pktID]int) bool {
	if len(a) != len(b) {
		return false
	}
	for p, n := range a {
		if b[p] != n {
			return false
		}
	}
	return true
}

// TestFlip_InFlight checks the package doc's claim about continuous
// monitoring. An upstream and a downstream kernel flip at the end of each
// of two periods. Some packets of period 1 are still between the points
// when both flip (run upstream in period 1, downstream only in period 2),
// and some of each period are lost. Lost over period 1 alone lists the
// in-flight packets as lost, Lost over period 2 lists them as extra, and
// Lost over the Merge of the two periods' tables at each point lists
// exactly the lost packets, none extra.
func TestFlip_InFlight(t *testing.T) {
	o, err := OptionsFor(20, 0.999, 0x1f1)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(period, i int) []byte {
		return pkt.UDP4(fmt.Sprintf("10.0.%d.1:%d", period, 1000+i), "10.0.0.2:53", []byte{byte(period), byte(i), 0xfe, 0xed})
	}
	// Period 1: packets 0-3 lost, 4-7 in flight, 8-29 arrive; period 2:
	// packets 0-2 lost, 3-29 arrive.
	var sent1, sent2, lost1, lost2, inFlight, arrive1, arrive2 [][]byte
	for i := range 30 {
		f := frame(1, i)
		sent1 = append(sent1, f)
		switch {
		case i < 4:
			lost1 = append(lost1, f)
		case i < 8:
			inFlight = append(inFlight, f)
		default:
			arrive1 = append(arrive1, f)
		}
		g := frame(2, i)
		sent2 = append(sent2, g)
		if i < 3 {
			lost2 = append(lost2, g)
		} else {
			arrive2 = append(arrive2, g)
		}
	}
	arrive2 = append(append([][]byte(nil), inFlight...), arrive2...) // the in-flight packets arrive first
	up, down := loadKernel(t, o), loadKernel(t, o)
	run := func(k *Kernel, frames [][]byte) {
		for _, f := range frames {
			kerneltest.Run(t, k.Program(), f)
		}
	}
	run(up, sent1)
	run(down, arrive1)
	u1, d1 := flipOK(t, up), flipOK(t, down)
	run(up, sent2)
	run(down, arrive2)
	u2, d2 := flipOK(t, up), flipOK(t, down)

	check := func(name string, u, d *iblt.Table, wantLost, wantExtra [][]byte) {
		t.Helper()
		lost, extra, err := Lost(u, d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameSet(listed(lost), packetsOf(t, wantLost)) || !sameSet(listed(extra), packetsOf(t, wantExtra)) {
			t.Errorf("%s: listed %d lost and %d extra, want %d and %d", name, len(lost), len(extra), len(wantLost), len(wantExtra))
		}
	}
	check("period 1", u1, d1, append(append([][]byte(nil), lost1...), inFlight...), nil)
	check("period 2", u2, d2, lost2, inFlight)
	um, dm := u1.Clone(), d1.Clone()
	if err := um.Merge(u2); err != nil {
		t.Fatal(err)
	}
	if err := dm.Merge(d2); err != nil {
		t.Fatal(err)
	}
	check("periods 1 and 2 merged", um, dm, append(append([][]byte(nil), lost1...), lost2...), nil)
}

// TestEpoch_PacketsWhole: the kernel reads the epoch once per packet, so
// every packet lands in one epoch with all of its cells, however the
// epoch word changes meanwhile. A goroutine runs frames without pause
// while the test switches the epoch word back and forth as fast as it
// can for 300 ms (by the map update Flip makes, without Flip's clear,
// wait and read, so that many switches land inside a packet); then each
// epoch's table must have equal count sums in every sub-table, and the
// two together must equal the Go digest of the packets run. (A packet
// split one way and one split the other way at the same sub-table cancel
// in these sums, so the check finds splits unless they pair up exactly;
// a kernel that read the epoch once per cell failed each of the runs
// tried, off by one to three packets in a sub-table, in one mode or both.
// TestFlip_UnderTraffic, with 17 Flips, caught it in one run of four.)
func TestEpoch_PacketsWhole(t *testing.T) {
	const repeat = 1 // see TestFlip_UnderTraffic
	frames := flipFrames()
	for _, shared := range []bool{false, true} {
		o := Options{Cells: 3 * 7, Hashes: 3, Seed: 0xe90c, Shared: shared}
		k := loadKernel(t, o)
		runs := make([]uint64, len(frames))
		next := 0
		th := kerneltest.Loop(t, []int{kerneltest.AnyCPU}, func(int) error { // see TestFlip_UnderTraffic
			f := next % len(frames)
			if _, err := k.Program().Run(&ebpf.RunOptions{Data: frames[f], Repeat: repeat}); err != nil {
				return err
			}
			next++
			runs[f] += repeat
			return nil
		})
		n := 0 // switches made
		for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline) && th.Err() == nil; n++ {
			if err := k.objs.IbltEpoch.Update(uint32(0), uint32((n+1)&1), ebpf.UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		th.Stop()
		merged := iblt.MustNew(o.Params())
		for e := range 2 {
			tb, err := k.Read(e)
			if err != nil {
				t.Fatal(err)
			}
			sums := subtableCounts(tb)
			for _, s := range sums[1:] {
				if s != sums[0] {
					t.Errorf("shared=%v: epoch %d has count sums %v by sub-table: packets split across epochs", shared, e, sums)
					break
				}
			}
			if err := merged.Merge(tb); err != nil {
				t.Fatal(err)
			}
		}
		want := iblt.MustNew(o.Params())
		var total uint64
		for f, fr := range frames {
			for range runs[f] {
				Insert(want, fr)
			}
			total += runs[f]
		}
		if !merged.Equal(want) {
			t.Errorf("shared=%v: the two epochs together differ from the Go digest of the %d packets run", shared, total)
		}
		t.Logf("shared=%v: %d packets, %d epoch switches", shared, total, n)
	}
}

// A shared cell map's mapping shorter than its two tables (which Load never
// makes) is an error naming the sizes for Read and Clear, not an access
// past its end.
func TestMapped_TooShort(t *testing.T) {
	k := loadKernel(t, Options{Cells: 60, Hashes: 3, Seed: 1, Shared: true})
	full := k.mem
	k.mem = full[:8]
	_, rerr := k.Read(1)
	cerr := k.Clear(1)
	k.mem = full
	for op, err := range map[string]error{"Read": rerr, "Clear": cerr} {
		if err == nil || !strings.Contains(err.Error(), "the mapping holds 8 bytes") {
			t.Errorf("%s of a truncated mapping: %v, want an error naming its 8 bytes", op, err)
		}
	}
	if _, err := k.Read(1); err != nil {
		t.Fatal(err)
	}
}
