//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/link"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_Attach attaches the balancer with its own Attach to the loopback
// of a network namespace and sends one datagram over it to an address
// that is no VIP: the balancer passes it and counts it as such.
func TestLB_Attach(t *testing.T) {
	kerneltest.RequireNetns(t)
	p := load(t, Options{Seed: 11, Table: maglev.Params{Size: 251}})
	attach := func(ifindex int) (link.Link, error) { return p.lb.Attach(ifindex, 0) }
	if err := kerneltest.LoopbackUDPVia(attach, []byte("attached")); err != nil {
		t.Fatal(err)
	}
	s, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Counters != (Counters{PassNotVIP: 1}) {
		t.Errorf("after one datagram: %+v, want one passed as no VIP", s.Counters)
	}
}

// TestLB_AttachNoInterface: an index naming no interface is refused with
// an error that says so.
func TestLB_AttachNoInterface(t *testing.T) {
	p := load(t, Options{Seed: 11, Table: maglev.Params{Size: 251}})
	for idx, want := range map[int]string{
		0:       "attach maglev kernel: interface index 0 (indexes start at 1",
		1 << 30: "attach maglev kernel: no interface with index 1073741824 in this network namespace",
	} {
		if _, err := p.lb.Attach(idx, 0); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Attach(%d): %v, want %q", idx, err, want)
		}
	}
}
