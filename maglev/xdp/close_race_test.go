//go:build linux

package xdp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_CloseConcurrent: LB's methods are documented safe for concurrent
// use, and after Close they fail with errClosed. Stats, Run and Attach
// used to check for Close without the lock and then use the maps and the
// program while Close was closing them: a data race on their file
// descriptors (reported by -race; without it the call failed with "bad
// file descriptor", or used a descriptor number reused in between).
func TestLB_CloseConcurrent(t *testing.T) {
	kerneltest.Require(t)
	for range 5 {
		lb, err := Load(Options{Table: maglev.Params{Size: 251}})
		if err != nil {
			t.Fatal(err)
		}
		if err := lb.SetConfig(testConfig); err != nil {
			t.Fatal(err)
		}
		vip := VIP{netip.MustParseAddr("198.51.100.1"), 53, 17}
		if _, err := lb.SetVIP(vip, backends("10.1.0.1", "10.1.0.2")); err != nil {
			t.Fatal(err)
		}
		frame := pkt.UDP4("203.0.113.1:1000", "198.51.100.1:53", nil)
		calls := map[string]func() error{
			"Stats":  func() error { _, err := lb.Stats(); return err },
			"Run":    func() error { _, _, err := lb.Run(frame); return err },
			"Attach": kerneltest.AttachCall(func(i int) (link.Link, error) { return lb.Attach(i, 0) }, errClosed),
		}
		kerneltest.CloseUnderCalls(t, lb.Close, errClosed, 30*time.Second, calls)
	}
}
