//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_RunBench: Run counts a frame as a packet and passes it; Bench
// counts it once a run; frames a test run cannot carry are refused with
// an error naming their length, and count nothing.
func TestKernel_RunBench(t *testing.T) {
	k := loadKernel(t)
	kerneltest.RunBench(t, k.Run, k.Bench, pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", []byte("x")))
	s, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Outcomes[flow.OutcomeOK]; got != 11 {
		t.Errorf("%d packets counted, want 11 (one Run, ten Bench runs)", got)
	}
}
