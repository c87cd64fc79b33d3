package xdp

import "testing"

// TestLB_CloseNil: Close of a nil *LB, which a failed Load returns, is a
// no-op returning nil instead of a nil-pointer panic in a cleanup path.
func TestLB_CloseNil(t *testing.T) {
	var lb *LB
	if err := lb.Close(); err != nil {
		t.Fatalf("Close of a nil *LB: %v", err)
	}
}
