package xdp

import "testing"

// TestKernel_CloseNil: Close of a nil *Kernel, which a failed Load
// returns, is a no-op returning nil, as in the other kernels' loaders and
// on the stub built off Linux. It was a nil-pointer panic, in the cleanup
// path of `k, err := Load(o); defer k.Close()`.
func TestKernel_CloseNil(t *testing.T) {
	var k *Kernel
	if err := k.Close(); err != nil {
		t.Fatalf("Close of a nil *Kernel: %v", err)
	}
}
