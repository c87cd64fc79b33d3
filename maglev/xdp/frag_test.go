//go:build linux

package xdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// runBoth runs f through kernel and model and requires the same verdict
// and, for TX, the same frame; it returns the verdict and the backend.
func runBoth(t *testing.T, p pair, f []byte) (uint32, netip.Addr) {
	t.Helper()
	v, out := kerneltest.Run(t, p.lb.Program(), f)
	mv, mout, _ := p.model.Process(f)
	if v != mv || (v == TX && !bytes.Equal(out, mout)) {
		info, _ := flow.Parse(f)
		t.Fatalf("%v (fragment %v, id %#x): kernel verdict %d to %v, model %d to %v\nframe %x\nkernel %x\nmodel  %x",
			info.Key, info.Fragment, info.IPID, v, outerDst(out), mv, outerDst(mout), f, out, mout)
	}
	if v != TX {
		return v, netip.Addr{}
	}
	innerLen := len(f) - 14
	if f[12] == 0x08 {
		innerLen = int(binary.BigEndian.Uint16(f[16:]))
	}
	checkOuter(t, out, outerDst(out), innerLen)
	return v, outerDst(out)
}

// sendDatagram sends the fragments of one datagram in order and requires
// every one to be sent to one backend, which it returns.
func sendDatagram(t *testing.T, p pair, frags [][]byte) netip.Addr {
	t.Helper()
	var first netip.Addr
	for i, f := range frags {
		v, b := runBoth(t, p, f)
		if v != TX {
			t.Fatalf("fragment %d of %d: verdict %d, want TX", i, len(frags), v)
		}
		if i == 0 {
			first = b
		} else if b != first {
			t.Fatalf("fragment %d went to %v, the first fragment to %v: the backend cannot reassemble", i, b, first)
		}
	}
	return first
}

// TestKernel_FragmentsExactVIP: a UDP datagram in three fragments to an
// exact (address, port, protocol) VIP: the later fragments have no ports,
// yet all three reach the first fragment's backend, encapsulated.
func TestKernel_FragmentsExactVIP(t *testing.T) {
	p := load(t, Options{Seed: 11, Table: maglev.Params{Size: 251, Seed: 2}})
	vip := VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}
	tab := p.setVIP(t, vip, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "2001:db8:1::1"))
	seen := map[netip.Addr]bool{}
	for i := 0; i < 40; i++ {
		// 203.0.113.i:(5000+i) > 198.51.100.1:53 UDP, 600 bytes of
		// payload, in three fragments with ID 0x4000+i
		full := pkt.UDP4(fmt.Sprintf("203.0.113.%d:%d", i, 5000+i), "198.51.100.1:53", bytes.Repeat([]byte{byte(i)}, 600))
		seen[sendToPick(t, p, tab, 11, full, 0x4000+uint32(i))] = true
	}
	if len(seen) < 2 {
		t.Fatal("every datagram went to one backend: the test proves nothing")
	}
	checkFragCounters(t, p, 80, 0)
}

// sendToPick sends the UDP datagram full in three fragments with
// identification id and checks that every fragment went to the backend
// that tab (hashing with seed) picks for its 5-tuple, which it returns.
func sendToPick(t *testing.T, p pair, tab *maglev.Table, seed uint64, full []byte, id uint32) netip.Addr {
	t.Helper()
	info, err := flow.Parse(full)
	if err != nil || info.Key.Proto() != flow.ProtoUDP {
		t.Fatalf("test datagram %v: %v", info.Key, err)
	}
	j, _ := tab.Pick(info.Key.Hash(seed))
	want := netip.MustParseAddr(tab.Backend(j).Name)
	if got := sendDatagram(t, p, fragment(t, full, id, 3)); got != want {
		t.Fatalf("datagram %v (ID %#x) went to %v, its 5-tuple's backend is %v", info.Key, id, got, want)
	}
	return want
}

// checkFragCounters requires the kernel's fragment counters to be hit
// and miss.
func checkFragCounters(t *testing.T, p pair, hit, miss uint64) {
	t.Helper()
	st, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.FragHit != hit || st.PassFragMiss != miss {
		t.Fatalf("fragment counters: %d hits, %d misses; want %d and %d (all counters %+v)", st.FragHit, st.PassFragMiss, hit, miss, st.Counters)
	}
}

// TestKernel_FragmentsCatchAll: under a catch-all VIP the zero-port key of
// a later fragment would hash to another backend than its datagram's
// 5-tuple. Datagrams of many flows, their fragments interleaved (all first
// fragments, then all second ones, then all third ones), each reach one
// backend, the one their first fragment went to.
func TestKernel_FragmentsCatchAll(t *testing.T) {
	p := load(t, Options{Seed: 5, Table: maglev.Params{Size: 1021, Seed: 9}})
	tab := p.setVIP(t, VIP{}, backends("10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "2001:db8:1::1", "2001:db8:1::2"))
	const n = 200
	var datagrams [][][]byte
	var want []netip.Addr
	apart := 0
	for i := 0; i < n; i++ {
		var full []byte
		if i%2 == 0 {
			// 203.0.(i/250).(i%250):(1024+i) > 198.51.100.(i%7):(2000+i%13) UDP
			full = pkt.UDP4(fmt.Sprintf("203.0.%d.%d:%d", i/250, i%250, 1024+i), fmt.Sprintf("198.51.100.%d:%d", i%7, 2000+i%13), make([]byte, 400+i))
		} else {
			// [2001:db8:a::i]:(1024+i) > [2001:db8::(i%7)]:(2000+i%13) UDP
			full = pkt.UDP6(fmt.Sprintf("[2001:db8:a::%x]:%d", i, 1024+i), fmt.Sprintf("[2001:db8::%x]:%d", i%7, 2000+i%13), make([]byte, 400+i))
		}
		info, _ := flow.Parse(full)
		j, _ := tab.Pick(info.Key.Hash(5))
		want = append(want, netip.MustParseAddr(tab.Backend(j).Name))
		frags := fragment(t, full, uint32(i)*0x10001, 3)
		later, _ := flow.Parse(frags[1])
		if k, _ := tab.Pick(later.Key.Hash(5)); k != j {
			apart++
		}
		datagrams = append(datagrams, frags)
	}
	if apart == 0 {
		t.Fatal("no later fragment's own key hashes elsewhere: the test proves nothing")
	}
	for k := 0; k < 3; k++ {
		for i, frags := range datagrams {
			v, b := runBoth(t, p, frags[k])
			if v != TX || b != want[i] {
				t.Fatalf("datagram %d, fragment %d: verdict %d to %v, want TX to %v (its 5-tuple's backend)", i, k, v, b, want[i])
			}
		}
	}
	checkFragCounters(t, p, 2*n, 0)
	t.Logf("%d datagrams whose later fragments alone would hash to another backend, all kept together", apart)
}

// TestKernel_FragmentsUnknown: a later fragment whose first fragment was
// not seen (lost, or arriving later) passes to the stack, under every kind
// of VIP; so do all fragments of a datagram that is no VIP's, as its first
// fragment passes too, so the stack gets the whole datagram.
func TestKernel_FragmentsUnknown(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{}, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	// 203.0.113.9:4000 > 198.51.100.1:53 UDP in 3 fragments, ID 0x77
	orphan := fragment(t, pkt.UDP4("203.0.113.9:4000", "198.51.100.1:53", make([]byte, 300)), 0x77, 3)
	// [2001:db8::9]:4000 > [2001:db8::53]:53 UDP in 3 fragments, ID 0x10077
	orphan6 := fragment(t, pkt.UDP6("[2001:db8::9]:4000", "[2001:db8::53]:53", make([]byte, 300)), 0x10077, 3)
	for _, f := range [][]byte{orphan[1], orphan[2], orphan6[1], orphan6[2]} {
		if v, _ := runBoth(t, p, f); v != Pass {
			t.Fatalf("a later fragment without its first: verdict %d, want pass", v)
		}
	}
	// The first fragment after its later ones: sent, and fragments that
	// come after it follow it.
	b := sendDatagram(t, p, orphan[:2])
	if v, b2 := runBoth(t, p, orphan[2]); v != TX || b2 != b {
		t.Fatalf("last fragment after the first: verdict %d to %v, want TX to %v", v, b2, b)
	}
	checkFragCounters(t, p, 2, 4)

	// Exact VIP only: a datagram to another port passes whole.
	q := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	q.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}, backends("10.1.0.1"))
	// 203.0.113.9:4000 > 198.51.100.1:54 UDP in 3 fragments, ID 0x78
	for i, f := range fragment(t, pkt.UDP4("203.0.113.9:4000", "198.51.100.1:54", make([]byte, 300)), 0x78, 3) {
		if v, _ := runBoth(t, q, f); v != Pass {
			t.Fatalf("fragment %d of a datagram to no VIP: verdict %d, want pass", i, v)
		}
	}
	checkFragCounters(t, q, 0, 2)
	if st, _ := q.lb.Stats(); st.PassNotVIP != 1 {
		t.Fatalf("%d packets passed as no VIP's, want the first fragment alone", st.PassNotVIP)
	}
}

// TestKernel_FragmentsForgotten: the fragment table is an LRU map of
// Options.Frags entries: after many more datagrams than that, the oldest
// is forgotten and its later fragment passes. Kernel only: the model never
// forgets (see Model).
func TestKernel_FragmentsForgotten(t *testing.T) {
	// On one CPU: the kernel's LRU keeps a CPU's newest entries on a list
	// of that CPU's, which are evicted only once the same CPU inserts
	// again, so the old datagram's entry would outlive the 4096 newer ones
	// if the test's thread moved to another CPU after the first fragment.
	kerneltest.PinCPU(t)
	p := load(t, Options{Frags: 256, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{}, backends("10.1.0.1", "10.1.0.2"))
	// 203.0.113.1:(1000+i) > 198.51.100.1:53 UDP, 2 fragments, ID i
	frags := func(i int) [][]byte {
		return fragment(t, pkt.UDP4(fmt.Sprintf("203.0.113.1:%d", 1000+i), "198.51.100.1:53", make([]byte, 64)), uint32(i), 2)
	}
	old := frags(0)
	if v, _ := kerneltest.Run(t, p.lb.Program(), old[0]); v != TX {
		t.Fatalf("first fragment: verdict %d", v)
	}
	for i := 1; i <= 4096; i++ {
		if v, _ := kerneltest.Run(t, p.lb.Program(), frags(i)[0]); v != TX {
			t.Fatalf("first fragment %d: verdict %d", i, v)
		}
	}
	if v, _ := kerneltest.Run(t, p.lb.Program(), old[1]); v != Pass {
		t.Fatalf("later fragment of a datagram 4096 datagrams ago: verdict %d, want pass (forgotten)", v)
	}
	if v, _ := kerneltest.Run(t, p.lb.Program(), frags(4096)[1]); v != TX {
		t.Fatalf("later fragment of the newest datagram: verdict %d, want TX", v)
	}
	st, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.FragHit != 1 || st.PassFragMiss != 1 {
		t.Fatalf("fragment counters %d hits, %d misses; want 1 and 1", st.FragHit, st.PassFragMiss)
	}
}

// TestKernel_FragmentsIPv6: IPv6 fragments (fragment header) to an exact
// VIP reach one backend, also when a destination-options header follows
// the fragment header: the first fragment's key then has protocol UDP
// and the later fragments' the destination-options header (60), so the
// fragment table keys IPv6 datagrams by addresses and identification
// only (RFC 8200 section 4.5).
func TestKernel_FragmentsIPv6(t *testing.T) {
	p := load(t, Options{Seed: 17, Table: maglev.Params{Size: 251}})
	tab := p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 53, flow.ProtoUDP},
		backends("2001:db8:1::1", "2001:db8:1::2", "10.1.0.1", "10.1.0.2"))
	seen := map[netip.Addr]bool{}
	for i := 0; i < 40; i++ {
		src := fmt.Sprintf("[2001:db8:b::%x]:%d", i, 7000+i)
		// src > [2001:db8::80]:53 UDP, 500 bytes
		full := pkt.UDP6(src, "[2001:db8::80]:53", make([]byte, 500))
		if i%2 == 1 {
			// the same with a destination-options header before UDP
			sp := pkt.AddrPort(src)
			full = pkt.Frame{IP6: &pkt.IPv6{Src: sp.Addr(), Dst: pkt.Addr("2001:db8::80"),
				Ext: []pkt.Ext{{Type: pkt.ExtDstOpts, Data: make([]byte, 6)}}},
				UDP: &pkt.UDP{SrcPort: sp.Port(), DstPort: 53}, Payload: make([]byte, 500)}.Bytes()
		}
		seen[sendToPick(t, p, tab, 17, full, 0xabcd0000+uint32(i))] = true
	}
	if len(seen) < 2 {
		t.Fatal("every datagram went to one backend: the test proves nothing")
	}
	checkFragCounters(t, p, 80, 0)
	// A later fragment without its first passes, as for IPv4.
	orphan := fragment(t, pkt.UDP6("[2001:db8:c::1]:7000", "[2001:db8::80]:53", make([]byte, 500)), 0xabcd, 3)
	if v, _ := runBoth(t, p, orphan[2]); v != Pass {
		t.Fatalf("IPv6 later fragment without its first: verdict %d, want pass", v)
	}
	checkFragCounters(t, p, 80, 1)
}

// TestKernel_FragmentsStaleEntry: the IP identification is only 16 bits
// (IPv4) and wraps, so the fragment table may still hold the entry of an
// earlier datagram with the same addresses, protocol and ID when a new
// one comes. A new datagram whose first fragment is not sent (no VIP's,
// or dropped) must not have its later fragments follow that stale entry
// to the earlier datagram's backend: they pass to the stack, like its
// first fragment or like any later fragment of an unknown datagram.
func TestKernel_FragmentsStaleEntry(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}, backends("10.1.0.1", "10.1.0.2"))
	// 203.0.113.9:4000 > 198.51.100.1:53 UDP, 300 bytes in 3 fragments, ID 0x1234
	sendDatagram(t, p, fragment(t, pkt.UDP4("203.0.113.9:4000", "198.51.100.1:53", make([]byte, 300)), 0x1234, 3))
	checkFragCounters(t, p, 2, 0)

	// The host's own datagram, same addresses, protocol and ID:
	// 203.0.113.9:4001 > 198.51.100.1:54 UDP, 300 bytes in 3 fragments.
	for i, f := range fragment(t, pkt.UDP4("203.0.113.9:4001", "198.51.100.1:54", make([]byte, 300)), 0x1234, 3) {
		if v, b := runBoth(t, p, f); v != Pass {
			t.Fatalf("fragment %d of a datagram to no VIP, ID of an earlier VIP datagram: verdict %d to %v, want pass", i, v, b)
		}
	}
	checkFragCounters(t, p, 2, 2)

	// A datagram to a VIP without a backend of weight (its first fragment
	// is dropped): 203.0.113.9:4002 > 198.51.100.1:55 UDP, 300 bytes in 3
	// fragments, ID 0x1234 again.
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 55, flow.ProtoUDP}, []Backend{{netip.MustParseAddr("10.1.0.3"), 0}})
	dropped := fragment(t, pkt.UDP4("203.0.113.9:4002", "198.51.100.1:55", make([]byte, 300)), 0x1234, 3)
	if v, _ := runBoth(t, p, dropped[0]); v != Drop {
		t.Fatalf("first fragment to a VIP without backend: verdict %d, want drop", v)
	}
	// Its later fragments must not take the ports of the first datagram:
	// unknown, they pass.
	for i, f := range dropped[1:] {
		if v, b := runBoth(t, p, f); v != Pass {
			t.Fatalf("later fragment %d of a datagram whose first fragment was dropped: verdict %d to %v, want pass", i+1, v, b)
		}
	}
	checkFragCounters(t, p, 2, 4)
}

// TestKernel_FragmentsIPv6FullID: the IPv6 identification is 32 bits (RFC
// 8200 section 4.5), and all of them tell datagrams apart: later fragments
// of datagrams between the same addresses whose identifications differ
// from a known datagram's only in the top byte, or only in bits 16 to 23,
// are unknown and pass, while the known datagram's own later fragments
// still follow its first fragment.
func TestKernel_FragmentsIPv6FullID(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{}, backends("10.1.0.1", "2001:db8:1::2"))
	// [2001:db8::9]:4000 > [2001:db8::53]:53 UDP, 300 bytes, in 3 fragments
	full := pkt.UDP6("[2001:db8::9]:4000", "[2001:db8::53]:53", make([]byte, 300))
	known := fragment(t, full, 0x00010042, 3)
	b := sendDatagram(t, p, known[:1])
	for _, id := range []uint32{0x01010042, 0x00020042, 0x80010042} {
		if v, to := runBoth(t, p, fragment(t, full, id, 3)[1]); v != Pass {
			t.Errorf("later fragment of datagram %#08x, first fragment only of datagram %#08x seen: verdict %d to %v, want pass",
				id, 0x00010042, v, to)
		}
	}
	if v, to := runBoth(t, p, known[1]); v != TX || to != b {
		t.Fatalf("later fragment of the known datagram: verdict %d to %v, want TX to %v", v, to, b)
	}
	checkFragCounters(t, p, 1, 3)
}
