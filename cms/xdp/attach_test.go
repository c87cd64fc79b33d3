//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_Attach attaches the kernel with its own Attach to the
// loopback of a network namespace and sends one datagram over it: the
// sketch counts that one packet, under the datagram's flow.
func TestKernel_Attach(t *testing.T) {
	kerneltest.RequireNetns(t)
	k := load(t, Options{Params: cms.Params{Width: 64, Depth: 2, Seed: testSeed}})
	if err := kerneltest.LoopbackUDPVia(k.Attach, []byte("attached")); err != nil {
		t.Fatal(err)
	}
	s, err := k.Sketch()
	if err != nil {
		t.Fatal(err)
	}
	key := flow.KeyFrom4([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 40000, 9, flow.ProtoUDP)
	if s.Total() != 1 || s.Estimate(key.Bytes()) != 1 {
		t.Errorf("after one datagram: total %d, estimate of %v %d; want 1 and 1", s.Total(), key, s.Estimate(key.Bytes()))
	}
}
