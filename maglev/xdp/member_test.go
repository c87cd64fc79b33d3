//go:build linux

package xdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// sendAll runs every frame through kernel and model, requires the same
// verdict TX and the same bytes, and returns where each went.
func (p pair) sendAll(t *testing.T, step string, frames [][]byte) []netip.Addr {
	t.Helper()
	to := make([]netip.Addr, len(frames))
	for i, f := range frames {
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, _ := p.model.Process(f)
		if v != TX || mv != TX || !bytes.Equal(out, mout) {
			t.Fatalf("%s: flow %d: kernel %d to %v, model %d to %v", step, i, v, outerDst(out), mv, outerDst(mout))
		}
		to[i] = outerDst(out)
	}
	return to
}

// picks returns the backend table t picks for each frame (seed 0).
func picks(t *maglev.Table, frames [][]byte) []netip.Addr {
	to := make([]netip.Addr, len(frames))
	for i, f := range frames {
		info, _ := flow.Parse(f)
		j, _ := t.Pick(info.Key.Hash(0))
		to[i] = netip.MustParseAddr(t.Backend(j).Name)
	}
	return to
}

// TestKernel_ConnTrackMemberRemoved: backend B serves VIPs X and Y. When B
// leaves X only, X's flows tracked to B go back to X's new table (B is no
// backend of X any more), while X's flows on its other backends and Y's
// flows on B stay where they are. When B comes back to X it is a new
// member: flows tracked to B before it left follow the table.
func TestKernel_ConnTrackMemberRemoved(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 251}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	y := VIP{netip.MustParseAddr("198.51.100.2"), 80, flow.ProtoTCP}
	b := netip.MustParseAddr("10.1.0.2")
	p.setVIP(t, x, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	p.setVIP(t, y, backends("10.1.0.2", "10.1.0.4"))
	flows := func(dst string, n, base int) [][]byte {
		var fs [][]byte
		for i := 0; i < n; i++ {
			// 203.0.(i/200).(i%200):base+i > dst TCP SYN
			fs = append(fs, pkt.TCP4(fmt.Sprintf("203.0.%d.%d:%d", i/200, i%200, base+i), dst, pkt.SYN, nil))
		}
		return fs
	}
	xs, xs2, ys := flows("198.51.100.1:80", 300, 2000), flows("198.51.100.1:80", 300, 30000), flows("198.51.100.2:80", 200, 2000)
	x0, x20, y0 := p.sendAll(t, "first packets of X", xs), p.sendAll(t, "first packets of X, second set", xs2), p.sendAll(t, "first packets of Y", ys)

	// B leaves X (and E joins, so the new table moves flows of the other
	// backends too, which connection tracking must keep in place).
	nt := p.setVIP(t, x, backends("10.1.0.1", "10.1.0.3", "10.1.0.5"))
	want := picks(nt, xs)
	x1 := p.sendAll(t, "X after B left it", xs)
	rehashed, kept := 0, 0
	for i := range xs {
		switch {
		case x0[i] == b:
			if x1[i] != want[i] {
				t.Fatalf("flow %d of X was on %v, which left X: sent to %v, want X's table's %v", i, b, x1[i], want[i])
			}
			rehashed++
		case x1[i] != x0[i]:
			t.Fatalf("flow %d of X moved from %v to %v: only B left X", i, x0[i], x1[i])
		case want[i] != x0[i]:
			kept++
		}
	}
	yOnB := 0
	for i, a := range p.sendAll(t, "Y after B left X", ys) {
		if a != y0[i] {
			t.Fatalf("flow %d of Y moved from %v to %v: B still serves Y", i, y0[i], a)
		}
		if a == b {
			yOnB++
		}
	}
	if rehashed == 0 || kept == 0 || yOnB == 0 {
		t.Fatalf("%d flows of X re-hashed, %d kept against the table, %d flows of Y on B: the test proves nothing", rehashed, kept, yOnB)
	}

	// B comes back to X: the second set of X's flows, tracked to B before
	// it left and not sent since, follow X's table.
	nt = p.setVIP(t, x, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.5"))
	want = picks(nt, xs2)
	moved := 0
	for i, a := range p.sendAll(t, "X after B came back", xs2) {
		if x20[i] == b {
			if a != want[i] {
				t.Fatalf("flow %d of X, tracked to %v before it left X: sent to %v, want X's table's %v", i, b, a, want[i])
			}
			if a != b {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("X's new table keeps every flow of B on B: the test proves nothing")
	}
	// Deleting X leaves Y's flows alone.
	if err := p.lb.DeleteVIP(x); err != nil {
		t.Fatal(err)
	}
	if err := p.model.DeleteVIP(x); err != nil {
		t.Fatal(err)
	}
	for i, a := range p.sendAll(t, "Y after X was deleted", ys) {
		if a != y0[i] {
			t.Fatalf("flow %d of Y moved from %v to %v when X was deleted", i, y0[i], a)
		}
	}
	st, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Backends) != 2 || st.Backends[b].Packets == 0 {
		t.Fatalf("backend statistics %v, want Y's two backends, %v with packets", st.Backends, b)
	}
	t.Logf("%d flows of X re-hashed off %v, %d kept on their backend, %d flows of Y stayed on %v; %d flows moved when %v came back",
		rehashed, b, kept, yOnB, b, moved, b)
}

// TestKernel_ConnTrackOtherVIP: a tracked flow's backend slot belongs to
// the VIP it was balanced by. When a more specific VIP is added later and
// now matches the flow, its packets are that VIP's and go to that VIP's
// backends only (its table, then its own tracking), not to a backend of
// the VIP they used to match; and when a backend then leaves the old VIP,
// the new VIP's flows stay where they are.
func TestKernel_ConnTrackOtherVIP(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{}, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	var fs [][]byte
	for i := 0; i < 100; i++ {
		// 203.0.113.(i):(3000+i) > 198.51.100.1:80 TCP ACK
		fs = append(fs, pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 3000+i), "198.51.100.1:80", pkt.ACK, nil))
	}
	p.sendAll(t, "catch-all", fs)

	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	tab := p.setVIP(t, x, backends("10.1.0.4", "10.1.0.5", "10.1.0.1"))
	want := picks(tab, fs)
	got := p.sendAll(t, "X added", fs)
	for i := range fs {
		if got[i] != want[i] {
			t.Fatalf("flow %d of X went to %v, X's table says %v", i, got[i], want[i])
		}
	}
	// 10.1.0.1 leaves the catch-all, stays in X: X's flows stay put.
	p.setVIP(t, VIP{}, backends("10.1.0.2", "10.1.0.3"))
	for i, a := range p.sendAll(t, "10.1.0.1 left the catch-all", fs) {
		if a != got[i] {
			t.Fatalf("flow %d of X moved from %v to %v when a backend left another VIP", i, got[i], a)
		}
	}
}
