//go:build linux

package xdp

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

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
	for round := 0; round < 5; round++ {
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
			"Attach": func() error { _, err := lb.Attach(1<<30, 0); return err }, // no such interface
		}
		var wg sync.WaitGroup
		errc := make(chan error, len(calls))
		for name, call := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := call()
					if errors.Is(err, errClosed) {
						return
					}
					if err != nil && name != "Attach" {
						errc <- errors.New(name + ": " + err.Error())
						return
					}
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		if err := lb.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("round %d: %v, want nil before Close and %v after", round, err, errClosed)
		}
	}
}
