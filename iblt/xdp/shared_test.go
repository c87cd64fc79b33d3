//go:build linux

package xdp

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_SharedConcurrent runs the shared-mode kernel (one table for
// every CPU, updated with atomic adds and XORs) from two OS threads pinned
// to two different CPUs at once, each running frames many times back to
// back (test runs with a repeat count), and requires the table to equal,
// cell for cell, the Go digest of exactly the packets run, each inserted
// as many times as it ran. The table has one cell per sub-table, so every
// packet updates every cell and the two CPUs update the same words the
// whole time: one read-modify-write that is not atomic loses updates,
// which leaves a count, a value sum or an XOR wrong.
func TestKernel_SharedConcurrent(t *testing.T) {
	o := Options{Cells: 3, Hashes: 3, Seed: 0x5ba7ed, Shared: true}
	k := loadKernel(t, o)
	cpus := kerneltest.TwoCPUs(t)
	frames := [][]byte{
		// 10.0.0.1:40000 > 10.0.0.2:53 udp "a"
		pkt.UDP4("10.0.0.1:40000", "10.0.0.2:53", []byte("a")),
		// [2001:db8::1]:40000 > [2001:db8::2]:443 tcp [S] "b": all six key words
		pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", 0x02, []byte("b")),
		// 10.0.0.3:40001 > 10.0.0.4:443 tcp [S]
		pkt.TCP4("10.0.0.3:40001", "10.0.0.4:443", 0x02, nil),
		// [2001:db8::3]:5353 > [2001:db8::4]:53 udp "dd"
		pkt.UDP6("[2001:db8::3]:5353", "[2001:db8::4]:53", []byte("dd")),
	}
	for i, f := range frames {
		if !Insert(iblt.MustNew(o.Params()), f) {
			t.Fatalf("frame %d is not inserted by the Go digest", i)
		}
	}
	const (
		repeat = 2000 // runs of one frame per test run, back to back
		rounds = 25   // test runs of each frame per thread
	)
	// runs[g][i]: times thread g ran frame i.
	var runs [2][]uint64
	for g := range runs {
		runs[g] = make([]uint64, len(frames))
	}
	// The two threads are pinned to the two CPUs and start together.
	// Their signals are blocked: a test run that a signal interrupts
	// fails with EINTR after an unknown number of runs, which
	// ebpf.Program.Run starts over from the beginning, so the frame runs
	// more often than asked (a few times per million runs here without
	// the block).
	kerneltest.OnThreads(t, cpus[:], func(g int) error {
		for r := range rounds {
			for j := range frames {
				i := (j + g + r) % len(frames) // the threads interleave frames differently
				if _, err := k.Program().Run(&ebpf.RunOptions{Data: frames[i], Repeat: repeat}); err != nil {
					return fmt.Errorf("test run: %w", err)
				}
				runs[g][i] += repeat
			}
		}
		return nil
	})

	want, total := digestRuns(o, frames, runs[0], runs[1])
	got, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	st, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcomes[flow.OutcomeOK] != total || st.Packets() != total || st.MissingCells != 0 {
		t.Errorf("stats %+v, want %d packets, all parsed", st, total)
	}
	if !got.Equal(want) {
		gw, ww, s := got.Words(), want.Words(), got.CellWords()
		for c := 0; c < got.Cells(); c++ {
			gc, wc := gw[c*s:(c+1)*s], ww[c*s:(c+1)*s]
			if !slices.Equal(gc, wc) {
				t.Errorf("cell %d: count %d, value sum %d (Go: %d, %d); checksum and key words equal: %v",
					c, int64(gc[0]), gc[1], int64(wc[0]), wc[1], slices.Equal(gc[2:], wc[2:]))
			}
		}
		t.Fatalf("shared table after %d packets from CPUs %d and %d at once differs from the Go digest of the packets run", total, cpus[0], cpus[1])
	}
	t.Logf("%d packets from CPUs %d and %d at once, the shared table equals the Go digest", total, cpus[0], cpus[1])
}

// digestRuns returns the Go digest of frames, frame i inserted as many
// times as the runs of all threads add up to (runs[g][i]), and the number
// of packets.
func digestRuns(o Options, frames [][]byte, runs ...[]uint64) (*iblt.Table, uint64) {
	want := iblt.MustNew(o.Params())
	var total uint64
	for i, f := range frames {
		var n uint64
		for _, r := range runs {
			n += r[i]
		}
		for range n {
			Insert(want, f)
		}
		total += n
	}
	return want, total
}
