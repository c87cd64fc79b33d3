//go:build linux

package xdp

import (
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_LearnUnderContention: in learn mode a key's bits set on one
// CPU stay set while another CPU sets bits of the same words: the kernel
// ORs them in atomically (classic filter: __sync_fetch_and_or; blocked:
// dp_block_set's atomic mode). A plain read-modify-write on the other CPU
// could write back a word read before the key's bits were set, clearing
// them; every other learn test runs on one CPU. Here a thread pinned to
// one CPU keeps learning the key of udpA2 while the test, pinned to
// another, clears the filter to that key alone, learns udpA once and
// reads the filter back, for 300 ms: udpA must be in it every time.
func TestKernel_LearnUnderContention(t *testing.T) {
	cpus := kerneltest.TwoCPUs(t)
	var allowed unix.CPUSet // restored after each layout's pinned run
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		layout Layout
		p      bloom.Params
	}{
		{Classic, bloom.Params{Bits: 64, Hashes: 4, Seed: testSeed}},  // one word: every bit shares it
		{Blocked, bloom.Params{Bits: 512, Hashes: 8, Seed: testSeed}}, // one block of eight words
	} {
		opts := Options{Params: c.p, Layout: c.layout, Learn: true}
		k := loadKernel(t, opts)
		other := model(opts) // the filter holding udpA2 alone
		runModel(t, other, udpA2)
		keyA := flow.Hash64(keyOf(t, udpA, KeyFlow), c.p.Seed)
		if other.Layout == Blocked && other.Blocked.ContainsHash(keyA) || other.Layout == Classic && other.Filter.ContainsHash(keyA) {
			t.Fatalf("layout %d: udpA2's bits hold udpA's: the test cannot see one lost", c.layout)
		}

		th := kerneltest.Loop(t, []int{cpus[1]}, func(int) error {
			_, err := k.Program().Run(&ebpf.RunOptions{Data: udpA2, Repeat: 1 << 12})
			return err
		})
		trials, lost := func() (int, int) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer unix.SchedSetaffinity(0, &allowed)
			var one unix.CPUSet
			one.Set(cpus[0])
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				t.Fatal(err)
			}
			n := 0
			for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); n++ {
				write(t, k, other)
				if _, err := k.Run(udpA); err != nil {
					t.Fatal(err)
				}
				var in bool
				if c.layout == Blocked {
					b, err := k.Blocked()
					if err != nil {
						t.Fatal(err)
					}
					in = b.ContainsHash(keyA)
				} else {
					f, err := k.Filter()
					if err != nil {
						t.Fatal(err)
					}
					in = f.ContainsHash(keyA)
				}
				if !in {
					return n + 1, 1
				}
			}
			return n, 0
		}()
		th.Stop()
		if lost != 0 {
			t.Fatalf("layout %d: trial %d: udpA learned on one CPU is not in the filter: another CPU learning udpA2 cleared its bits", c.layout, trials)
		}
		t.Logf("layout %d: %d trials, no bit lost", c.layout, trials)
	}
}
