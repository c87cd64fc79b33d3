//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// TestKernel_ClassicRefusesBlockedCalls guards that a Classic kernel refuses
// WriteBlocked and Blocked, even for Params a blocked filter can have, and
// keeps its filter as it was.
func TestKernel_ClassicRefusesBlockedCalls(t *testing.T) {
	p := bloom.Params{Bits: 1024, Hashes: 3, Seed: testSeed} // 2 blocks of 512 bits: valid in both layouts
	k := loadKernel(t, Options{Params: p})
	b := bloom.MustNewBlocked(p)
	b.Add([]byte("x"))
	if err := k.WriteBlocked(b); err == nil || !strings.Contains(err.Error(), "Classic layout") {
		t.Errorf("WriteBlocked on a classic kernel: %v, want the layout error", err)
	}
	if _, err := k.Blocked(); err == nil || !strings.Contains(err.Error(), "Classic layout") {
		t.Errorf("Blocked on a classic kernel: %v, want the layout error", err)
	}
	if g, err := k.Filter(); err != nil || g.SetBits() != 0 {
		t.Errorf("classic kernel after the refused write: %v, want an empty filter", err)
	}
}
