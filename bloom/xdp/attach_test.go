//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_Attach attaches the kernel with its own Attach to the
// loopback of a network namespace and sends one datagram over it: the
// kernel sees it (an empty filter passes it) and counts it.
func TestKernel_Attach(t *testing.T) {
	kerneltest.RequireNetns(t)
	k := loadKernel(t, Options{Params: bloom.ParamsFor(1000, 0.01)})
	if err := kerneltest.LoopbackUDPVia(k.Attach, []byte("attached")); err != nil {
		t.Fatal(err)
	}
	s, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s != (Stats{Passed: 1}) {
		t.Errorf("after one datagram: %+v, want one passed", s)
	}
}

// TestKernel_AttachNoInterface: an index naming no interface is refused
// with an error that says so.
func TestKernel_AttachNoInterface(t *testing.T) {
	k := loadKernel(t, Options{Params: bloom.ParamsFor(1000, 0.01)})
	for idx, want := range map[int]string{
		0:       "attach bloom kernel: interface index 0 (indexes start at 1",
		-1:      "attach bloom kernel: interface index -1 (indexes start at 1",
		1 << 30: "attach bloom kernel: no interface with index 1073741824 in this network namespace",
	} {
		if _, err := k.Attach(idx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Attach(%d): %v, want %q", idx, err, want)
		}
	}
}
