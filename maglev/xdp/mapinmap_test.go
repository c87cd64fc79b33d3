//go:build linux

package xdp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestStrideOf: the probe's answers give stride 1 where each slot answers
// with its own map, 2 where slot i answers with slot 2i's (32-bit
// kernels), and an error naming the answers otherwise.
func TestStrideOf(t *testing.T) {
	for _, c := range []struct {
		got  [4]uint32
		want uint32
	}{{[4]uint32{0, 1, 2, 3}, 1}, {[4]uint32{0, 2, 4, 6}, 2}} {
		if s, err := strideOf(c.got); s != c.want || err != nil {
			t.Errorf("strideOf(%v) = %d, %v; want %d", c.got, s, err, c.want)
		}
	}
	for _, got := range [][4]uint32{{0, 2, 8, 8}, {1, 1, 2, 3}, {0, 1, 2, 8}, {8, 8, 8, 8}} {
		s, err := strideOf(got)
		want := fmt.Sprintf("slots 0 to 3 answered with the maps of %v; 8 means none", got)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("strideOf(%v) = %d, %v; want an error containing %q", got, s, err, want)
		}
	}
}

// TestKernel_OuterSlots: Load stores the VIPs' tables where the running
// kernel's array of maps gives them to the program, one a slot where it
// answers each slot with its own map, and at every other slot where it
// answers slot i with slot 2i's (Debian 12's 32-bit x86 kernel, in
// .ci/kernel-vm); either way each VIP's packets go by its own table. A
// kernel answering otherwise is refused, saying why.
func TestKernel_OuterSlots(t *testing.T) {
	kerneltest.Require(t)
	got, err := outerSlots()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	t.Logf("the kernel's array of maps answers slots 0 to 3 with the maps of %v", got)
	stride, serr := strideOf(got)
	lb, err := Load(Options{Seed: 7, Table: maglev.Params{Size: 251, Seed: 3}})
	if serr != nil {
		if err == nil {
			lb.Close()
			t.Fatal("Load accepted the kernel")
		}
		if want := "array of maps gives a program the maps of other slots"; !strings.Contains(err.Error(), want) {
			t.Fatalf("Load: %v, want an error containing %q", err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer lb.Close()
	if lb.stride != stride || lb.objs.MaglevTables.MaxEntries() != stride*MaxVIPs {
		t.Fatalf("stride %d, %d table slots; want %d and %d", lb.stride, lb.objs.MaglevTables.MaxEntries(), stride, stride*MaxVIPs)
	}
	if err := lb.SetConfig(testConfig); err != nil {
		t.Fatal(err)
	}
	// Five VIPs, each with a backend of its own, so that a packet sent by
	// another VIP's table (or by none: a drop) shows.
	const n = 5
	for i := range n {
		v := VIP{netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i)}), 80, flow.ProtoTCP}
		if _, err := lb.SetVIP(v, backends(fmt.Sprintf("10.1.0.%d", 1+i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		f := pkt.TCP4("203.0.113.5:4000", fmt.Sprintf("198.51.100.%d:80", 1+i), pkt.SYN, nil)
		v, out := kerneltest.Run(t, lb.Program(), f)
		if want := netip.AddrFrom4([4]byte{10, 1, 0, byte(1 + i)}); v != TX || outerDst(out) != want {
			t.Errorf("VIP %d: verdict %d, sent to %v; want TX to %v", i, v, outerDst(out), want)
		}
	}
}
