//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestKernel_OuterSlots: where the kernel's array of maps answers each
// slot with its own map, Load succeeds; where it does not (Debian 12's
// 32-bit x86 kernel, in .ci/kernel-vm), Load refuses the kernel, saying
// why, instead of balancing VIPs by each other's tables.
func TestKernel_OuterSlots(t *testing.T) {
	kerneltest.Require(t)
	got, err := outerSlots()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	lb, err := Load(Options{Seed: 7, Table: maglev.Params{Size: 251, Seed: 3}})
	if got == [4]uint32{0, 1, 2, 3} {
		if err != nil {
			t.Fatalf("Load on a kernel whose array of maps is sound: %v", err)
		}
		lb.Close()
		return
	}
	t.Logf("the kernel's array of maps answers slots 0 to 3 with the maps of %v", got)
	if err == nil {
		lb.Close()
		t.Fatal("Load accepted the kernel")
	}
	if want := "array of maps gives a program the map of another slot"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Load: %v, want an error containing %q", err, want)
	}
}
