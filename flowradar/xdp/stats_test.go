//go:build linux

package xdp

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_StatsEveryCounter: Stats sums every per-CPU counter into its
// field, Missing included, and ResetStats zeroes them all. The kernel
// counts a missing cell only when the map sizes disagree, which Load
// never lets happen, so the test writes the counters itself; no other
// test saw a Missing other than 0.
func TestKernel_StatsEveryCounter(t *testing.T) {
	k := loadKernel(t, flowradar.ParamsFor(64, 1), false)
	n, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	var want [flowradarFlowradarStatFR_STAT_MAX]uint64
	for i := range want {
		vals := make([]uint64, n)
		for c := range vals {
			vals[c] = uint64(10*i + c + 1)
			want[i] += vals[c]
		}
		if err := k.objs.FlowradarStats.Update(uint32(i), vals, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	st, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcomes != [4]uint64(want[:4]) || st.NewFlows != want[flowradarFlowradarStatFR_STAT_NEW_FLOW] || st.Missing != want[flowradarFlowradarStatFR_STAT_MISSING] {
		t.Errorf("Stats %+v, want the sums %v", st, want)
	}
	if err := k.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if st, err := k.Stats(); err != nil || st != (Stats{}) {
		t.Errorf("after ResetStats: %+v (%v), want every counter 0", st, err)
	}
	kerneltest.NoAllocs(t, "ResetStats", k.ResetStats)
}
