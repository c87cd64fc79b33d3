//go:build linux

package xdp

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestLB_RefusedSetVIPUndoes: a SetVIP refused part way through, after it
// took the slot and statistics entry of a first new backend and before a
// second one found no room, gives back what it took: the loader reports
// the same backends as the model (which refuses before taking anything),
// and the address that was taken can still join later.
func TestLB_RefusedSetVIPUndoes(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 251}})
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}) }
	vip := func(i int) VIP {
		return VIP{netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 80, flow.ProtoTCP}
	}
	// MaxBackends - 1 addresses, drained, 256 per VIP.
	for v := 0; v*256 < MaxBackends-1; v++ {
		var bs []Backend
		for i := v * 256; i < min((v+1)*256, MaxBackends-1); i++ {
			bs = append(bs, Backend{addr(i), 0})
		}
		p.setVIP(t, vip(v), bs)
	}
	// Two new addresses, in name order: the first fits, the second not.
	a, b := netip.MustParseAddr("10.8.0.1"), netip.MustParseAddr("10.8.0.2")
	x := vip(100)
	for who, set := range map[string]func(VIP, []Backend) (*maglev.Table, error){"kernel": p.lb.SetVIP, "model": p.model.SetVIP} {
		if _, err := set(x, []Backend{{a, 1}, {b, 1}}); err == nil || !strings.Contains(err.Error(), "distinct backend addresses") {
			t.Fatalf("%s: SetVIP of two new addresses with room for one: %v, want refused", who, err)
		}
	}
	ks, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	kb, mb := slices.Collect(maps.Keys(ks.Backends)), slices.Collect(maps.Keys(p.model.Stats().Backends))
	if _, kept := ks.Backends[a]; len(kb) != len(mb) || kept {
		t.Fatalf("after the refused SetVIP: the kernel reports %d backends (%v among them: %v), the model %d", len(kb), a, kept, len(mb))
	}
	if p.lb.Table(x) != nil {
		t.Fatal("the refused SetVIP installed a table")
	}
	// The room is still there, for either address.
	for _, c := range []netip.Addr{b, a} {
		p.setVIP(t, x, []Backend{{c, 1}})
		// 203.0.113.5:4000 > 198.18.0.100:80 TCP SYN
		f := pkt.TCP4("203.0.113.5:4000", "198.18.0.100:80", pkt.SYN, nil)
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		if v != TX || outerDst(out) != c {
			t.Fatalf("VIP of %v alone: verdict %d to %v", c, v, outerDst(out))
		}
		// Gone again, to make room for the other (a SetVIP needs room
		// for its new backends beside those that leave).
		if err := p.lb.DeleteVIP(x); err != nil {
			t.Fatal(err)
		}
		if err := p.model.DeleteVIP(x); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLB_TableIDsReused: DeleteVIP frees the VIP's table, so VIPs can come
// and go any number of times while at most MaxVIPs exist at once.
func TestLB_TableIDsReused(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 13}})
	vip := func(i int) VIP {
		return VIP{netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 80, flow.ProtoTCP}
	}
	bs := backends("10.1.0.1")
	for i := 0; i < MaxVIPs-1; i++ {
		p.setVIP(t, vip(i), bs)
	}
	for i := MaxVIPs - 1; i < 3*MaxVIPs; i++ {
		p.setVIP(t, vip(i), bs)
		if err := p.lb.DeleteVIP(vip(i)); err != nil {
			t.Fatal(err)
		}
		if err := p.model.DeleteVIP(vip(i)); err != nil {
			t.Fatal(err)
		}
	}
	// 203.0.113.5:4000 > 198.18.0.0:80 TCP SYN, to the first VIP, still there
	if v, to := runBoth(t, p, pkt.TCP4("203.0.113.5:4000", "198.18.0.0:80", pkt.SYN, nil)); v != TX || to != bs[0].Addr {
		t.Fatalf("first VIP after the others came and went: verdict %d to %v", v, to)
	}
}

// TestOptions_MTUBounds: the MTU's accepted range, [68, 65535], to the
// edge, by Load's validation and the model's alike.
func TestOptions_MTUBounds(t *testing.T) {
	for _, c := range []struct {
		mtu int
		ok  bool
	}{{67, false}, {68, true}, {65535, true}, {65536, false}, {-1, false}, {0, true}} {
		_, serr := Spec(Options{MTU: c.mtu})
		_, merr := NewModel(Options{MTU: c.mtu})
		if (serr == nil) != c.ok || (merr == nil) != c.ok {
			t.Errorf("MTU %d: Spec %v, NewModel %v; want accepted %v", c.mtu, serr, merr, c.ok)
		}
	}
}

// TestKernel_EntryOfUnusedSlot: a table entry naming a slot that never had
// a member (family 0), which the loader never writes but another writer
// of the maps could, drops the packet as DropNoBackend instead of
// encapsulating it to the slot's zero address.
func TestKernel_EntryOfUnusedSlot(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 13}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(t, x, backends("10.1.0.1"))
	unused := uint32(MaxMembers - 1)
	if p.lb.slots.used[unused] {
		t.Fatalf("slot %d is in use", unused)
	}
	inner := p.lb.vips[x].inner
	for j := uint32(0); j < 13; j++ {
		if err := inner.Put(j, unused); err != nil {
			t.Fatal(err)
		}
	}
	// 203.0.113.5:4000 > 198.51.100.1:80 TCP SYN
	if v, out := kerneltest.Run(t, p.lb.Program(), pkt.TCP4("203.0.113.5:4000", "198.51.100.1:80", pkt.SYN, nil)); v != Drop {
		t.Fatalf("entry of a never-used slot: verdict %d, sent to %v; want drop", v, outerDst(out))
	}
	st, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.DropNoBackend != 1 || st.TX != 0 {
		t.Fatalf("counters %+v, want one DropNoBackend", st.Counters)
	}
}

// TestKernel_VIPWithoutTable: a VIP whose table is missing from
// maglev_tables, which the loader never leaves so (it swaps a table in
// before it adds the VIP and deletes the VIP before its table) but
// another writer of the maps could, drops the packet as DropNoTable.
func TestKernel_VIPWithoutTable(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 13}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	p.setVIP(t, x, backends("10.1.0.1"))
	if err := p.lb.objs.MaglevTables.Delete(p.lb.tableSlot(p.lb.vips[x].id)); err != nil {
		t.Fatal(err)
	}
	// 203.0.113.5:4000 > 198.51.100.1:80 TCP SYN
	if v, out := kerneltest.Run(t, p.lb.Program(), pkt.TCP4("203.0.113.5:4000", "198.51.100.1:80", pkt.SYN, nil)); v != Drop {
		t.Fatalf("VIP without a table: verdict %d, sent to %v; want drop", v, outerDst(out))
	}
	if st := kernelCounters(t, p.lb); st.DropNoTable != 1 || st.DropNoBackend != 0 || st.TX != 0 {
		t.Fatalf("counters %+v, want one DropNoTable", st)
	}
}

// TestStats_BackendComesBack: a backend address that left every VIP is no
// longer reported, and when it comes back its statistics start from zero,
// in the kernel and the model alike.
func TestStats_BackendComesBack(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 13}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	a := netip.MustParseAddr("10.1.0.1")
	// 203.0.113.5:4000 > 198.51.100.1:80 TCP SYN
	f := pkt.TCP4("203.0.113.5:4000", "198.51.100.1:80", pkt.SYN, nil)
	check := func(step string, want BackendStats, present bool) {
		t.Helper()
		ks, err := p.lb.Stats()
		if err != nil {
			t.Fatal(err)
		}
		ms := p.model.Stats()
		kb, kok := ks.Backends[a]
		mb, mok := ms.Backends[a]
		if kb != want || mb != want || kok != present || mok != present {
			t.Fatalf("%s: %v kernel %+v (reported %v), model %+v (reported %v); want %+v (reported %v)", step, a, kb, kok, mb, mok, want, present)
		}
	}
	p.setVIP(t, x, []Backend{{a, 1}})
	for i := 0; i < 3; i++ {
		if v, _ := runBoth(t, p, f); v != TX {
			t.Fatalf("packet %d: verdict %d", i, v)
		}
	}
	once := BackendStats{Packets: 1, Bytes: uint64(len(f) + 20)}
	check("three packets", BackendStats{Packets: 3, Bytes: 3 * once.Bytes}, true)
	p.setVIP(t, x, backends("10.1.0.2"))
	check("after it left", BackendStats{}, false)
	p.setVIP(t, x, []Backend{{a, 1}})
	check("back", BackendStats{}, true)
	if v, _ := runBoth(t, p, f); v != TX {
		t.Fatalf("packet after coming back: verdict %d", v)
	}
	check("one packet after coming back", once, true)
}

// TestStats_ReusedIndexStartsFromZero: the statistics entries of backend
// addresses are handed out again once freed, the one freed longest ago
// first. A new address that gets the entry of an address that left every
// VIP, once all MaxBackends entries have been taken since, starts from
// zero, as in the model: the loader clears the entry rather than
// inheriting the old address's counts.
func TestStats_ReusedIndexStartsFromZero(t *testing.T) {
	p := load(t, Options{Table: maglev.Params{Size: 13}})
	x := VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	y := VIP{netip.MustParseAddr("198.51.100.2"), 80, flow.ProtoTCP}
	// 203.0.113.5:4000 > 198.51.100.1:80 TCP SYN
	f := pkt.TCP4("203.0.113.5:4000", "198.51.100.1:80", pkt.SYN, nil)
	old, fresh := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.3")
	p.setVIP(t, x, []Backend{{old, 1}})
	for i := 0; i < 3; i++ {
		if v, _ := runBoth(t, p, f); v != TX {
			t.Fatalf("packet %d: verdict %d", i, v)
		}
	}
	p.setVIP(t, x, backends("10.1.0.2")) // old leaves: its entry is freed
	// Every other entry taken (drained members of y), so the next address
	// gets old's entry.
	drained := make([]Backend, MaxBackends-2)
	for i := range drained {
		drained[i] = Backend{Addr: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)})}
	}
	p.setVIP(t, y, drained)
	p.setVIP(t, x, []Backend{{fresh, 1}})
	if got := p.lb.addrs[fresh].id; got != 0 {
		t.Fatalf("%v got statistics entry %d, want 0 (the one %v had): the test proves less than it says", fresh, got, old)
	}
	if v, _ := runBoth(t, p, f); v != TX {
		t.Fatal("packet to the fresh backend: not sent")
	}
	ks, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := BackendStats{Packets: 1, Bytes: uint64(len(f) + 20)}
	if kb, mb := ks.Backends[fresh], p.model.Stats().Backends[fresh]; kb != want || mb != want {
		t.Fatalf("%v after one packet: kernel %+v, model %+v; want %+v", fresh, kb, mb, want)
	}
}
