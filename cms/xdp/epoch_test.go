//go:build linux

package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// epochFrame is packet i of the epoch tests: 10.0.e.(i%40):1000 >
// 10.0.1.1:53 udp, where e = i/40%4, so that the flows of one interval
// differ from those of the next.
func epochFrame(i int) []byte {
	return pkt.UDP4(fmt.Sprintf("10.0.%d.%d:1000", i/40%4, i%40), "10.0.1.1:53", nil)
}

// runFrames runs frames first to first+n-1 and returns them.
func runFrames(t *testing.T, k *Kernel, first, n int) [][]byte {
	t.Helper()
	var frames [][]byte
	for i := first; i < first+n; i++ {
		f := epochFrame(i)
		kerneltest.Run(t, k.Program(), f)
		frames = append(frames, f)
	}
	return frames
}

// flipWaitingOnce ends k's epoch with Flip and returns the ended epoch's
// sketch, failing unless Flip waited once for running programs: a Flip
// that did not wait would pass every other check of these tests, where no
// packet is in flight. what names the flip in failures.
func flipWaitingOnce(t *testing.T, k *Kernel, what string) *cms.Sketch {
	t.Helper()
	waits := k.wait.Waits()
	got, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	if k.wait.Waits() != waits+1 {
		t.Fatalf("%s: Flip waited %d times for running programs, want once", what, k.wait.Waits()-waits)
	}
	return got
}

// equalSketch fails unless got holds want's N and counters.
func equalSketch(t *testing.T, what string, got, want *cms.Sketch) {
	t.Helper()
	if got.Total() != want.Total() {
		t.Fatalf("%s: N %d, Go %d", what, got.Total(), want.Total())
	}
	g, w := got.Counters(), want.Counters()
	for i := range w {
		if g[i] != w[i] {
			t.Fatalf("%s: counter %d (row %d) %d, Go %d", what, i, i/int(want.Params().Width), g[i], w[i])
		}
	}
}

// TestKernel_Epochs: with Options.Epochs, each Flip returns the Go sketch
// of exactly the packets sent since the previous one, N included; the
// epoch that ended reads back unchanged until the next Flip, which clears
// it before the kernel counts in it again; Sketch reads the current epoch;
// Stats still count every packet since Load. In both sketch modes, with
// rows in one element and rows cut into chunks (shared rows of more than
// 2^20 counters, per-CPU rows of more than 8192), where epoch 1 starts
// at an element past epoch 0's chunks.
func TestKernel_Epochs(t *testing.T) {
	for _, tc := range []struct {
		mode         Mode
		width, depth uint32
	}{
		{ModeShared, 63, 3}, {ModePerCPU, 63, 3}, {ModeShared, 64, 4}, {ModePerCPU, 64, 4},
		{ModePerCPU, 2*pcpuChunk + 5, 3}, {ModeShared, sharedChunk + 5, 2},
	} {
		t.Run(fmt.Sprintf("%s/w=%d/d=%d", tc.mode, tc.width, tc.depth), func(t *testing.T) {
			p := cms.Params{Width: tc.width, Depth: tc.depth, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: tc.mode, Epochs: true})
			if e, err := k.Epoch(); err != nil || e != 0 {
				t.Fatalf("Epoch after Load: %d, %v; want 0", e, err)
			}
			sent := 0
			for round, n := range []int{50, 120, 0, 70} {
				frames := runFrames(t, k, sent, n)
				sent += n
				want := goSketch(p, frames)
				live, err := k.Sketch()
				if err != nil {
					t.Fatal(err)
				}
				equalSketch(t, fmt.Sprintf("round %d: Sketch before Flip", round), live, want)
				got := flipWaitingOnce(t, k, fmt.Sprintf("round %d", round))
				equalSketch(t, fmt.Sprintf("round %d: Flip", round), got, want)
				ended := round % 2
				if e, err := k.Epoch(); err != nil || e != 1-ended {
					t.Fatalf("round %d: Epoch after Flip %d, %v; want %d", round, e, err, 1-ended)
				}
				again, err := k.Read(ended)
				if err != nil {
					t.Fatal(err)
				}
				equalSketch(t, fmt.Sprintf("round %d: Read of the ended epoch", round), again, want)
				// The epoch the kernel counts in now was cleared by this
				// Flip: it held the previous round's packets.
				now, err := k.Read(1 - ended)
				if err != nil {
					t.Fatal(err)
				}
				if now.Total() != 0 || slices.ContainsFunc(now.Counters(), func(v uint32) bool { return v != 0 }) {
					t.Fatalf("round %d: the new epoch holds N = %d before any packet", round, now.Total())
				}
			}
			st, err := k.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Packets() != uint64(sent) {
				t.Fatalf("Stats count %d packets, sent %d", st.Packets(), sent)
			}
			// Reset clears both epochs and stays in the current one.
			runFrames(t, k, 0, 10)
			e, _ := k.Epoch()
			if err := k.Reset(); err != nil {
				t.Fatal(err)
			}
			for ep := range 2 {
				s, err := k.Read(ep)
				if err != nil {
					t.Fatal(err)
				}
				if s.Total() != 0 {
					t.Fatalf("epoch %d after Reset: N = %d, want 0", ep, s.Total())
				}
			}
			if e2, _ := k.Epoch(); e2 != e {
				t.Fatalf("Reset moved the epoch from %d to %d", e, e2)
			}
		})
	}
}

// TestKernel_EpochErrors: the epoch methods of a kernel loaded without
// epochs say how to get them; Read and Clear take epochs 0 and 1 only;
// Clear of an epoch zeroes it alone.
func TestKernel_EpochErrors(t *testing.T) {
	p := cms.Params{Width: 64, Depth: 2, Seed: testSeed}
	plain := load(t, Options{Params: p, Mode: ModePerCPU})
	for name, err := range map[string]error{
		"Epoch":    func() error { _, err := plain.Epoch(); return err }(),
		"Read":     func() error { _, err := plain.Read(0); return err }(),
		"Clear":    plain.Clear(0),
		"Flip":     func() error { _, err := plain.Flip(); return err }(),
		"ReadInto": plain.ReadInto(0, cms.MustNew(p)),
		"FlipInto": plain.FlipInto(cms.MustNew(p)),
	} {
		if !errors.Is(err, errNoEpochs) || !strings.Contains(err.Error(), "Options.Epochs") {
			t.Errorf("%s without epochs: %v, want %v", name, err, errNoEpochs)
		}
	}
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		k := load(t, Options{Params: p, Mode: mode, Epochs: true})
		for _, e := range []int{-1, 2} {
			want := fmt.Sprintf("cms kernel: epoch must be 0 or 1, got %d", e)
			if _, err := k.Read(e); err == nil || err.Error() != want {
				t.Errorf("%s: Read(%d): %v, want %q", mode, e, err, want)
			}
			if err := k.Clear(e); err == nil || err.Error() != want {
				t.Errorf("%s: Clear(%d): %v, want %q", mode, e, err, want)
			}
			if err := k.ReadInto(e, cms.MustNew(p)); err == nil || err.Error() != want {
				t.Errorf("%s: ReadInto(%d): %v, want %q", mode, e, err, want)
			}
		}
		runFrames(t, k, 0, 20)
		if _, err := k.Flip(); err != nil {
			t.Fatal(err)
		}
		frames := runFrames(t, k, 20, 30)
		if err := k.Clear(0); err != nil {
			t.Fatal(err)
		}
		s0, err := k.Read(0)
		if err != nil {
			t.Fatal(err)
		}
		if s0.Total() != 0 || slices.ContainsFunc(s0.Counters(), func(v uint32) bool { return v != 0 }) {
			t.Fatalf("%s: epoch 0 after Clear(0) holds N = %d or a counter", mode, s0.Total())
		}
		s1, err := k.Read(1)
		if err != nil {
			t.Fatal(err)
		}
		equalSketch(t, fmt.Sprintf("%s: epoch 1 after Clear(0)", mode), s1, goSketch(p, frames))
	}
}

// TestKernel_EpochLargestRowSum: an epoch's N is its largest row sum. Rows
// sum alike unless a counter saturated, so the rows are written here from
// user space: epoch 1's row 0 sums to 5, row 1 to 9. N must be 9; a
// sketch with N = 5 would claim row 1 counted more packets than there
// were, which cms.FromCounters refuses.
func TestKernel_EpochLargestRowSum(t *testing.T) {
	p := cms.Params{Width: 63, Depth: 2, Seed: testSeed}
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		k := load(t, Options{Params: p, Mode: mode, Epochs: true})
		l := k.opts.layout()
		rows := [][]byte{make([]byte, 4*l.perElem), make([]byte, 4*l.perElem)}
		binary.NativeEndian.PutUint32(rows[0][0:], 5)
		binary.NativeEndian.PutUint32(rows[1][12:], 9)
		for r, row := range rows {
			e := l.elements() + uint32(r) // epoch 1, row r
			var err error
			if mode == ModeShared {
				err = k.objs.CmsCounters.Update(e, row, ebpf.UpdateExist)
			} else {
				cpus, cerr := ebpf.PossibleCPU()
				if cerr != nil {
					t.Fatal(cerr)
				}
				per := make([][]byte, cpus)
				for c := range per {
					per[c] = make([]byte, len(row))
				}
				per[cpus-1] = row // the last CPU's copy only
				err = k.objs.CmsCountersPcpu.Update(e, per, ebpf.UpdateExist)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		s, err := k.Read(1)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		c := s.Counters()
		if s.Total() != 9 || c[0] != 5 || c[int(p.Width)+3] != 9 {
			t.Fatalf("%s: epoch 1 reads N = %d, counters %d and %d; want 9, 5 and 9", mode, s.Total(), c[0], c[int(p.Width)+3])
		}
	}
}

// TestKernel_EpochReadOnce: the program loads the epoch map at one site,
// so a packet reads the epoch once and counts every row in one epoch. A
// packet reading it per row could straddle a Flip, which the traffic test
// catches only by luck.
func TestKernel_EpochReadOnce(t *testing.T) {
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ins := range spec.Programs["xdp_cms"].Instructions {
		if ins.Reference() == "cms_epoch" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("xdp_cms references cms_epoch at %d sites, want 1", n)
	}
}

// TestKernel_FlipUnderTraffic: goroutines run the program on every CPU
// while Flip ends epoch after epoch. Every sketch a Flip returns holds
// each of its packets whole (every row sums to its N: Reset under the same
// traffic can leave a packet in some rows only), and the epochs' Ns add up
// to the packets sent: none lost at a switch, none counted twice.
func TestKernel_FlipUnderTraffic(t *testing.T) {
	for _, mode := range []Mode{ModeShared, ModePerCPU} {
		t.Run(mode.String(), func(t *testing.T) {
			p := cms.Params{Width: 257, Depth: 4, Seed: testSeed}
			k := load(t, Options{Params: p, Mode: mode, Epochs: true})
			frames := make([][]byte, 64)
			for i := range frames {
				frames[i] = epochFrame(i)
			}
			var stop atomic.Bool
			var sent atomic.Uint64
			var wg sync.WaitGroup
			errs := make(chan error, runtime.NumCPU())
			for g := range runtime.NumCPU() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; !stop.Load(); i++ {
						if _, err := k.Run(frames[i%len(frames)]); err != nil {
							errs <- err
							return
						}
						sent.Add(1)
					}
				}()
			}
			var counted uint64
			check := func(s *cms.Sketch, what string) {
				w := int(p.Width)
				c := s.Counters()
				for r := range int(p.Depth) {
					var sum uint64
					for _, v := range c[r*w : (r+1)*w] {
						sum += uint64(v)
					}
					if sum != s.Total() {
						t.Errorf("%s: row %d sums to %d, N is %d: a packet counted in part", what, r, sum, s.Total())
					}
				}
				counted += s.Total()
			}
			flips := 0
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); flips++ {
				s, err := k.Flip()
				if err != nil {
					t.Fatal(err)
				}
				check(s, fmt.Sprintf("flip %d", flips))
				time.Sleep(time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			s, err := k.Flip() // the last epoch, now quiet
			if err != nil {
				t.Fatal(err)
			}
			check(s, "last flip")
			if counted != sent.Load() || counted == 0 {
				t.Fatalf("%d flips counted %d packets, %d were sent", flips+1, counted, sent.Load())
			}
			t.Logf("%d flips, %d packets", flips+1, counted)
		})
	}
}
