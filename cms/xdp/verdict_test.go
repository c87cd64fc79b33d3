package xdp

import "testing"

// TestVerdicts: the constants are enum xdp_action's values (linux/bpf.h),
// which the kernel returns and the detector test checks as numbers.
func TestVerdicts(t *testing.T) {
	if VerdictDrop != 1 || VerdictPass != 2 {
		t.Errorf("VerdictDrop %d, VerdictPass %d; want XDP_DROP 1, XDP_PASS 2", VerdictDrop, VerdictPass)
	}
}
