//go:build linux

package xdp

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestLB_RunLongFrames: Run refuses a frame longer than what a test run
// shows the program in one buffer, with an error naming the length and
// the bound. Kernels that take longer frames put the rest in fragments
// this program never sees: it encapsulated the first bytes only and sent
// a frame other than the model's, with no error.
func TestLB_RunLongFrames(t *testing.T) {
	p := load(t, Options{MTU: 9000})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}, backends("10.1.0.1"))
	n := bpfload.MaxFrame()
	for _, size := range []int{n, n + 1, 2 * n} {
		f := pkt.UDP4("203.0.113.1:4000", "198.51.100.1:53", make([]byte, size-14-20-8))
		v, out, err := p.lb.Run(f)
		if size <= n {
			mv, mout, _ := p.model.Process(f)
			if err != nil || v != mv || string(out) != string(mout) {
				t.Errorf("Run on %d bytes: %d, %v; model %d", size, v, err, mv)
			}
			continue
		}
		want := fmt.Sprintf("maglev kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", n, size)
		if err == nil || err.Error() != want {
			t.Errorf("Run on %d bytes: verdict %d, %d bytes out, error %v; want %q", size, v, len(out), err, want)
		}
	}
}
