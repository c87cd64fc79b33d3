//go:build linux

package xdp

import (
	"math"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// onTwoCPUs runs frame on two CPUs at once, each on a thread pinned to
// its CPU and running test runs of chunk repeats in a loop, while during
// runs on the calling goroutine; then it stops them. Signals are blocked
// on the two threads (an interrupted run would start again). It skips
// with one CPU allowed (kerneltest.TwoCPUs): no two can race on a counter.
func onTwoCPUs(t *testing.T, k *Kernel, frame []byte, chunk uint32, during func()) {
	t.Helper()
	cpus := kerneltest.TwoCPUs(t)
	th := kerneltest.Loop(t, cpus[:], func(int) error {
		_, err := k.objs.XdpCms.Run(&ebpf.RunOptions{Data: frame, Repeat: chunk})
		return err
	})
	during()
	th.Stop()
}

// TestKernel_SaturatesSharedUnderContention: shared counters that two
// CPUs carry past 2^32-1 at once stop there. Near the top the kernel adds
// with a compare-and-swap that cannot pass 2^32-1 (above CMS_SAT_GUARD);
// a plain atomic add there let both CPUs add to 2^32-2 and wrapped the
// counter to a few thousand, and TestKernel_SaturatesShared runs on one
// CPU only. While two CPUs send the flow's packets, the test sets the
// counters to 2,000 below the top 200 times, each time reading them 2 ms
// later: the flow's counters must be between that and the top (some
// increments may be missed, Stats.SatMissed), the others untouched.
func TestKernel_SaturatesSharedUnderContention(t *testing.T) {
	k := load(t, Options{Params: satParams, Mode: ModeShared})
	const start = math.MaxUint32 - 2000
	l := layoutOf(satParams, false)
	f := fixtures(t)["ipv4-udp"]
	idx := satIndexes(t, f)
	onTwoCPUs(t, k, f, 1<<12, func() {
		for round := range 200 {
			for e := range l.elements() {
				if err := k.objs.CmsCounters.Update(e, filled(l, start), ebpf.UpdateExist); err != nil {
					t.Error(err)
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
			c, err := k.Counters()
			if err != nil {
				t.Error(err)
				return
			}
			for i, v := range c {
				ours := i == idx[i/int(satParams.Width)]
				if ours && v < start || !ours && v != start {
					t.Errorf("round %d: counter %d (of the flow: %v) is %#x, want %#x to 0xffffffff", round, i, ours, v, uint32(start))
					return
				}
			}
		}
	})
}
