package capture

import (
	"testing"
	"time"
)

// TestScaleSizes_ManyMice scales sizes where raising the mice to one
// packet leaves a large excess that a single elephant must give back: one
// flow of 10^9 packets among 99,999 of one, to 200,000 packets. Taking
// one packet per pass over all flows made that 10^5 passes of 10^5 flows
// (minutes; Generate with Flows = Packets = 100,000 and a Pareto tail took
// 10 s, quadratic in the flows); a pass now ends at the first flow of one
// packet, as the flows after it are at one too.
func TestScaleSizes_ManyMice(t *testing.T) {
	const n, want = 100000, 200000
	flows := make([]genFlow, n)
	total := 0.0
	for i := range flows {
		flows[i].size = 1
		if i == n/2 {
			flows[i].size = 1e9
		}
		total += float64(flows[i].size)
	}
	done := make(chan struct{})
	go func() {
		scaleSizes(flows, total, want)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("scaleSizes of 100,000 flows still running after 20 s")
	}
	sum := 0
	for i, f := range flows {
		sum += f.size
		if f.size < 1 || (i != n/2 && f.size != 1) {
			t.Fatalf("flow %d has %d packets", i, f.size)
		}
	}
	if sum != want || flows[n/2].size != want-(n-1) {
		t.Fatalf("sizes sum to %d, the elephant has %d; want %d and %d", sum, flows[n/2].size, want, want-(n-1))
	}
}
