//go:build linux

package xdp

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestIDs_LeastRecentlyFreedFirst: the slot allocator hands out the index
// freed longest ago, never a just-freed one while another is free, so a
// packet still reading a freed slot finds the value written when it was
// freed rather than one being written for its next member.
func TestIDs_LeastRecentlyFreedFirst(t *testing.T) {
	s := newIDs(4)
	for want := uint32(0); want < 4; want++ {
		if id, ok := s.alloc(); !ok || id != want {
			t.Fatalf("fresh allocator: got %d, %v; want %d (unused indexes in order)", id, ok, want)
		}
	}
	if _, ok := s.alloc(); ok {
		t.Fatal("a full allocator handed out an index")
	}
	s.free(2)
	s.free(0)
	s.free(0) // freed twice: still one free index
	for _, want := range []uint32{2, 0} {
		if id, ok := s.alloc(); !ok || id != want {
			t.Fatalf("after freeing 2 then 0: got %d, %v; want %d (least recently freed first)", id, ok, want)
		}
	}
	if _, ok := s.alloc(); ok {
		t.Fatal("an index freed twice was handed out twice")
	}

	// Unused indexes come before freed ones.
	s = newIDs(4)
	a, _ := s.alloc()
	s.free(a)
	for _, want := range []uint32{1, 2, 3, 0} {
		if id, ok := s.alloc(); !ok || id != want {
			t.Fatalf("after freeing %d: got %d, %v; want %d", a, id, ok, want)
		}
	}
}

// readSlot reads backend slot id from the kernel's map.
func readSlot(t *testing.T, lb *LB, id uint32) maglevMaglevBackend {
	t.Helper()
	var be maglevMaglevBackend
	if err := lb.objs.MaglevBackends.Lookup(id, &be); err != nil {
		t.Fatalf("read backend slot %d: %v", id, err)
	}
	return be
}

// countConns counts the kernel's connection-tracking entries.
func countConns(t *testing.T, lb *LB) int {
	t.Helper()
	var k maglevFlowKey
	var v uint32
	n := 0
	it := lb.objs.MaglevConns.Iterate()
	for it.Next(&k, &v) {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKernel_FreedSlotKeepsMember: removing backends from a VIP frees
// their slots without rewriting their addresses (a packet on another CPU
// that has just found the slot live would otherwise read a zeroed or torn
// address and send to it): a freed slot keeps the old member's address,
// family, table and statistics index, and only its generation changes, so
// flows tracked to the member go by the VIP's table again, in kernel and
// model alike. A packet that still reaches a freed slot through the table
// it read before the swap goes to the member that left, untracked.
func TestKernel_FreedSlotKeepsMember(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 251}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	a4, a6 := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("2001:db8:1::1")
	p.setVIP(t, x, backends("10.1.0.1", "2001:db8:1::1", "10.1.0.2"))
	var frames [][]byte
	for i := 0; i < 100; i++ {
		// 203.0.113.i:5000+i > 198.51.100.1:80 TCP SYN
		frames = append(frames, pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 5000+i), "198.51.100.1:80", pkt.SYN, nil))
	}
	first := p.sendAll(t, "first packets", frames)
	left := map[netip.Addr]uint32{a4: p.lb.vips[x].members[a4], a6: p.lb.vips[x].members[a6]}
	before := map[netip.Addr]maglevMaglevBackend{}
	for a, s := range left {
		before[a] = readSlot(t, p.lb, s)
		if before[a].Family == 0 {
			t.Fatalf("slot %d of %v reads as never used before it was freed", s, a)
		}
	}

	// a4 and a6 leave x; a new backend joins.
	nt := p.setVIP(t, x, backends("10.1.0.2", "10.1.0.3"))
	for a, s := range left {
		got, was := readSlot(t, p.lb, s), before[a]
		if got.Addr != was.Addr || got.Family != was.Family || got.Table != was.Table || got.Stats != was.Stats {
			t.Errorf("slot %d of %v after %v left: %+v, want the member's address, family, table and statistics index kept from %+v", s, a, a, got, was)
		}
		if got.Gen == was.Gen {
			t.Errorf("slot %d of %v after %v left: generation still %d, so connection-tracking entries still match", s, a, a, got.Gen)
		}
		if p.lb.slots.used[s] {
			t.Errorf("slot %d of %v is not free after %v left", s, a, a)
		}
		if ns := p.lb.vips[x].members[netip.MustParseAddr("10.1.0.3")]; ns == s {
			t.Errorf("the new backend got slot %d, just freed by %v, while others were free", s, a)
		}
	}

	// Flows tracked to the members that left go by x's table, in kernel
	// and model; the others stay on their backend.
	st0, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := picks(nt, frames)
	moved := 0
	for i, b := range p.sendAll(t, "after two backends left", frames) {
		if _, gone := left[first[i]]; gone {
			if b != want[i] {
				t.Fatalf("flow %d was tracked to %v, which left: sent to %v, want the table's %v", i, first[i], b, want[i])
			}
			moved++
		} else if b != first[i] {
			t.Fatalf("flow %d moved from %v to %v, which did not leave", i, first[i], b)
		}
	}
	st1, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if hits := st1.ConnHit - st0.ConnHit; moved == 0 || hits != uint64(len(frames)-moved) {
		t.Fatalf("%d flows moved off the backends that left, %d connection-tracking hits of %d packets", moved, hits, len(frames))
	}

	// A late packet: one that read x's old table before the swap and
	// reaches a4's freed slot through it (made here by pointing every
	// entry of x's table at that slot). It goes to a4, whole, and its
	// flow is not tracked to the freed slot.
	late := pkt.TCP4("203.0.113.200:6000", "198.51.100.1:80", pkt.SYN, nil)
	inner := p.lb.vips[x].inner
	for j := uint32(0); j < p.lb.opts.size(); j++ {
		if err := inner.Put(j, left[a4]); err != nil {
			t.Fatal(err)
		}
	}
	conns := countConns(t, p.lb)
	if v, out := kerneltest.Run(t, p.lb.Program(), late); v != TX || outerDst(out) != a4 {
		t.Fatalf("a packet reaching the freed slot of %v: verdict %d to %v, want TX to %v", a4, v, outerDst(out), a4)
	}
	if n := countConns(t, p.lb); n != conns {
		t.Fatalf("a packet sent through a freed slot was tracked: %d connection-tracking entries, want %d", n, conns)
	}

	// x's real table back (the same members, so the same slots), then x
	// deleted: the slots of its members keep their addresses too.
	p.setVIP(t, x, backends("10.1.0.2", "10.1.0.3"))
	v, b := runBoth(t, p, late)
	if v != TX || (b != netip.MustParseAddr("10.1.0.2") && b != netip.MustParseAddr("10.1.0.3")) {
		t.Fatalf("the late packet's flow after the table came back: verdict %d to %v, want one of x's backends", v, b)
	}
	kept := map[uint32]maglevMaglevBackend{}
	for _, s := range p.lb.vips[x].members {
		kept[s] = readSlot(t, p.lb, s)
	}
	if err := p.lb.DeleteVIP(x); err != nil {
		t.Fatal(err)
	}
	if err := p.model.DeleteVIP(x); err != nil {
		t.Fatal(err)
	}
	for s, was := range kept {
		got := readSlot(t, p.lb, s)
		if got.Addr != was.Addr || got.Family != was.Family || got.Gen == was.Gen {
			t.Errorf("slot %d after its VIP was deleted: %+v, want %+v with another generation", s, got, was)
		}
	}
}

// TestKernel_SlotReuseWaits: a slot freed since the last wait for running
// programs is written for a new member only after one (bpfload.Waiter),
// so no packet that copied it for its old member is still reading it; one
// wait covers every slot freed before it, and a slot never used needs
// none.
func TestKernel_SlotReuseWaits(t *testing.T) {
	p := load(t, Options{})
	lb := p.lb
	v1 := VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}
	v2 := VIP{netip.MustParseAddr("198.51.100.2"), 53, flow.ProtoUDP}
	p.setVIP(t, v1, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	if n := lb.wait.Waits(); n != 0 {
		t.Fatalf("members in slots never used: %d waits, want 0", n)
	}
	freed := map[uint32]bool{lb.vips[v1].members[netip.MustParseAddr("10.1.0.2")]: true,
		lb.vips[v1].members[netip.MustParseAddr("10.1.0.3")]: true}
	p.setVIP(t, v1, backends("10.1.0.1")) // frees two slots
	for lb.slots.n > len(freed) {         // the never-used slots, taken so that the freed two come next
		lb.slots.alloc()
	}
	p.setVIP(t, v2, backends("10.2.0.1", "10.2.0.2"))
	for a, s := range lb.vips[v2].members {
		if !freed[s] {
			t.Fatalf("member %v got slot %d, not one of the freed %v", a, s, freed)
		}
	}
	if n := lb.wait.Waits(); n != 1 {
		t.Fatalf("reusing two slots freed together: %d waits, want 1", n)
	}
	f := pkt.UDP4("203.0.113.9:4000", "198.51.100.2:53", []byte{1})
	v, out, err := lb.Run(f)
	mv, mout, _ := p.model.Process(f)
	if err != nil || v != mv || string(out) != string(mout) {
		t.Errorf("a packet to the VIP in reused slots: verdict %d (%v), model %d", v, err, mv)
	}
}

// TestKernel_ConnTrackHighSlot: a connection-tracking entry keeps its
// slot in 16 bits (MaxMembers is 65536), all of which name the slot: a VIP
// with 300 backends has slots past 255, and flows tracked to them go on to
// them, in kernel and model alike, as do those on lower slots.
func TestKernel_ConnTrackHighSlot(t *testing.T) {
	p := load(t, Options{ConnTrack: true, Table: maglev.Params{Size: 1021}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	var bs []Backend
	for i := range 300 {
		bs = append(bs, Backend{Addr: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Weight: 1})
	}
	p.setVIP(t, x, bs)
	var frames [][]byte
	for i := range 256 {
		// 203.0.113.i:(40000+i) > 198.51.100.1:80 TCP ACK
		frames = append(frames, pkt.TCP4(fmt.Sprintf("203.0.113.%d:%d", i, 40000+i), "198.51.100.1:80", pkt.ACK, nil))
	}
	first := p.sendAll(t, "first packets", frames)
	high := 0
	for _, b := range first {
		if p.lb.vips[x].members[b] > 255 {
			high++
		}
	}
	if high < 10 {
		t.Fatalf("only %d of %d flows went to slots past 255: the test proves less than it says", high, len(frames))
	}
	again := p.sendAll(t, "second packets", frames)
	for i := range frames {
		if again[i] != first[i] {
			t.Errorf("flow %d: second packet to %v, first to %v (slot %d)", i, again[i], first[i], p.lb.vips[x].members[first[i]])
		}
	}
	if st := kernelCounters(t, p.lb); st.ConnHit != uint64(len(frames)) {
		t.Errorf("%d connection-tracking hits, want %d", st.ConnHit, len(frames))
	}
}
