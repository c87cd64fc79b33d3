package xdp

import "testing"

// TestKernel_CloseNil: Close of a nil *Kernel, which a failed Load
// returns, is a no-op returning nil, as on the stub built off Linux,
// instead of a nil-pointer panic in a cleanup path.
func TestKernel_CloseNil(t *testing.T) {
	var k *Kernel
	if err := k.Close(); err != nil {
		t.Fatalf("Close of a nil *Kernel: %v", err)
	}
}
