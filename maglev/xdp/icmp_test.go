//go:build linux

package xdp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

var (
	icmpVIP4    = pkt.Addr("198.51.100.1")
	icmpVIP6    = pkt.Addr("2001:db8::80")
	icmpRouter  = pkt.Addr("192.0.2.254")
	icmpRouter6 = pkt.Addr("2001:db8:ffff::fe")
)

// ipPacket returns the IP packet of f (its frame without the Ethernet
// header): what an ICMP error quotes.
func ipPacket(f pkt.Frame) []byte { return f.Bytes()[14:] }

// reply4 is a backend's reply to client:cport, sent from VIP port sport.
func reply4(client netip.Addr, sport, cport uint16) pkt.Frame {
	return pkt.Frame{IP4: &pkt.IPv4{Src: icmpVIP4, Dst: client, Flags: pkt.DF},
		TCP: &pkt.TCP{SrcPort: sport, DstPort: cport, Flags: pkt.ACK}, Payload: make([]byte, 1400)}
}

// tooBig4 is a router's "fragmentation needed" (type 3, code 4, next-hop
// MTU 1400) to dst quoting q.
func tooBig4(dst netip.Addr, q []byte) []byte {
	return pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: dst},
		ICMP: &pkt.ICMP{Type: 3, Code: 4, Rest: [4]byte{0, 0, 0x05, 0x78}}, Payload: q}.Bytes()
}

// tooBig6 is an ICMPv6 "packet too big" (type 2, MTU 1400) to dst quoting q.
func tooBig6(dst netip.Addr, q []byte) []byte {
	return pkt.Frame{IP6: &pkt.IPv6{Src: icmpRouter6, Dst: dst},
		ICMPv6: &pkt.ICMPv6{Type: 2, Rest: [4]byte{0, 0, 0x05, 0x78}}, Payload: q}.Bytes()
}

// icmpBackends returns the ICMP tests' backends: 10.1.0.1 to 10.1.0.8,
// weight 1 each.
func icmpBackends() []Backend {
	var bs []Backend
	for i := 1; i <= 8; i++ {
		bs = append(bs, Backend{Addr: netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), Weight: 1})
	}
	return bs
}

// TestKernel_ICMPErrorFollowsItsFlow: backends answer clients directly,
// from the VIP, so a router's error about a reply (too big for the path,
// above all) comes to the balancer addressed to the VIP. It must reach the
// backend that serves the flow it quotes, which alone can lower its path
// MTU: kernel and model send it there, balanced by the flow's key (so the
// outer header's ID or flow label is the flow's too), whether the quote is
// the 28 bytes RFC 792 asks for or a longer one, with IPv4 options or not,
// TCP or UDP, over IPv4 or IPv6 (with a payload length of 0 too, which the
// parser takes to run to the end of the frame).
func TestKernel_ICMPErrorFollowsItsFlow(t *testing.T) {
	p := load(t, Options{Seed: 5, Table: maglev.Params{Size: 251}})
	bs := icmpBackends()
	p.setVIP(t, VIP{icmpVIP4, 80, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{icmpVIP4, 53, flow.ProtoUDP}, bs)
	p.setVIP(t, VIP{icmpVIP6, 443, flow.ProtoTCP}, bs)

	var flows, errs [][]byte
	for i := range 60 {
		cport := uint16(30000 + 7*i)
		client := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		client6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xc0, 15: byte(i)})
		switch i % 4 {
		case 0: // TCP, the 28 bytes of RFC 792
			flows = append(flows, pkt.Frame{IP4: &pkt.IPv4{Src: client, Dst: icmpVIP4}, TCP: &pkt.TCP{SrcPort: cport, DstPort: 80, Flags: pkt.SYN}}.Bytes())
			errs = append(errs, tooBig4(icmpVIP4, ipPacket(reply4(client, 80, cport))[:28]))
		case 1: // TCP, a long quote with IPv4 options
			flows = append(flows, pkt.Frame{IP4: &pkt.IPv4{Src: client, Dst: icmpVIP4}, TCP: &pkt.TCP{SrcPort: cport, DstPort: 80, Flags: pkt.SYN}}.Bytes())
			r := reply4(client, 80, cport)
			r.IP4.Options = []byte{1, 1, 1, 0} // NOPs and end of options
			errs = append(errs, tooBig4(icmpVIP4, ipPacket(r)[:548]))
		case 2: // UDP
			flows = append(flows, pkt.Frame{IP4: &pkt.IPv4{Src: client, Dst: icmpVIP4}, UDP: &pkt.UDP{SrcPort: cport, DstPort: 53}}.Bytes())
			r := pkt.Frame{IP4: &pkt.IPv4{Src: icmpVIP4, Dst: client}, UDP: &pkt.UDP{SrcPort: 53, DstPort: cport}, Payload: make([]byte, 600)}
			errs = append(errs, tooBig4(icmpVIP4, ipPacket(r)[:64]))
		case 3: // IPv6 packet too big
			flows = append(flows, pkt.Frame{IP6: &pkt.IPv6{Src: client6, Dst: icmpVIP6}, TCP: &pkt.TCP{SrcPort: cport, DstPort: 443, Flags: pkt.SYN}}.Bytes())
			r := pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6}, TCP: &pkt.TCP{SrcPort: 443, DstPort: cport, Flags: pkt.ACK}, Payload: make([]byte, 1400)}
			e := pkt.Frame{IP6: &pkt.IPv6{Src: icmpRouter6, Dst: icmpVIP6},
				ICMPv6: &pkt.ICMPv6{Type: 2, Rest: [4]byte{0, 0, 0x05, 0x78}}, Payload: ipPacket(r)[:1232]}
			if i%8 == 7 {
				e.IP6.PayloadLength = -1 // 0 stored: the packet runs to the end of the frame
			}
			errs = append(errs, e.Bytes())
		}
	}
	want := p.sendAll(t, "flows", flows)
	got := p.sendAll(t, "errors", errs)
	spread := map[netip.Addr]bool{}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d went to %v, its flow to %v", i, got[i], want[i])
		}
		spread[want[i]] = true
	}
	if len(spread) < 4 {
		t.Fatalf("the flows reached only %d of 8 backends: the test would not tell a balanced error from a lucky one", len(spread))
	}
	for _, s := range []Counters{kernelCounters(t, p.lb), p.model.Stats().Counters} {
		if s.ICMPQuote != uint64(len(errs)) || s.TX != uint64(len(flows)+len(errs)) {
			t.Errorf("counters %+v: want %d ICMP errors balanced by their flow, %d sent", s, len(errs), len(flows)+len(errs))
		}
	}
}

// kernelCounters reads the kernel's counters.
func kernelCounters(t *testing.T, lb *LB) Counters {
	t.Helper()
	s, err := lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s.Counters
}

// TestKernel_ICMPErrorNotAQuote: ICMP that is not an error about a
// packet of a VIP's flow, sent from the error's destination, is balanced
// by its own key, as any ICMP packet: here by ICMP VIPs on the same
// addresses, which also catch a quote wrongly taken for an ICMP flow's.
// The TCP VIPs take every port, so that a quote read at a wrong offset
// still finds one. Kernel and model send each alike.
func TestKernel_ICMPErrorNotAQuote(t *testing.T) {
	p := load(t, Options{Seed: 5, Table: maglev.Params{Size: 251}})
	bs := backends("10.1.0.1", "10.1.0.2", "10.1.0.3")
	p.setVIP(t, VIP{icmpVIP4, 0, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{icmpVIP4, 0, flow.ProtoICMP}, bs)
	p.setVIP(t, VIP{icmpVIP6, 0, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{icmpVIP6, 0, flow.ProtoICMPv6}, bs)
	// The other addresses quotes come from below: a flow of theirs has a
	// VIP, so only the check of the quote's source keeps them out.
	p.setVIP(t, VIP{pkt.Addr("198.51.100.2"), 0, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{pkt.Addr("2001:db8::81"), 0, flow.ProtoTCP}, bs)
	// And addresses that differ from the VIPs in their first byte only, so
	// that a comparison skipping it is caught too.
	p.setVIP(t, VIP{pkt.Addr("70.51.100.1"), 0, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{pkt.Addr("3001:db8::80"), 0, flow.ProtoTCP}, bs)
	client, client6 := pkt.Addr("203.0.113.9"), pkt.Addr("2001:db8:c0::9")
	q := ipPacket(reply4(client, 80, 40000))
	q6 := ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6}, TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000}})
	with := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] = v; return c }

	cases := map[string][]byte{
		"echo reply": pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4}, ICMP: &pkt.ICMP{Type: 0}, Payload: q[:28]}.Bytes(),
		"redirect":   pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4}, ICMP: &pkt.ICMP{Type: 5}, Payload: q[:28]}.Bytes(),
		"ICMPv6 in IPv4": pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4, Protocol: flow.ProtoICMPv6},
			Payload: append([]byte{3, 4, 0, 0, 0, 0, 5, 0x78}, q[:28]...)}.Bytes(),
		"quote sent from another address": tooBig4(icmpVIP4, ipPacket(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("198.51.100.2"), Dst: client},
			TCP: &pkt.TCP{SrcPort: 80, DstPort: 40000}})[:28]),
		"quote sent from an address differing in its first byte": tooBig4(icmpVIP4, ipPacket(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("70.51.100.1"), Dst: client},
			TCP: &pkt.TCP{SrcPort: 80, DstPort: 40000}})[:28]),
		"error to another address": tooBig4(pkt.Addr("198.51.100.2"), q[:28]),
		"quote of ICMP": tooBig4(icmpVIP4, ipPacket(pkt.Frame{IP4: &pkt.IPv4{Src: icmpVIP4, Dst: client},
			ICMP: &pkt.ICMP{Type: 0}})[:28]),
		"quote of IP version 6 in an IPv4 header": tooBig4(icmpVIP4, with(q[:28], 0, 0x65)),
		"quote with a 16-byte IPv4 header":        tooBig4(icmpVIP4, with(q[:28], 0, 0x44)),
		"ports cut":                               tooBig4(icmpVIP4, q[:23]),
		"header cut":                              tooBig4(icmpVIP4, q[:19]),
		"quote of a later fragment": tooBig4(icmpVIP4, ipPacket(pkt.Frame{IP4: &pkt.IPv4{Src: icmpVIP4, Dst: client, FragOffset: 10, Protocol: flow.ProtoTCP},
			Payload: make([]byte, 8)})),
		"quote of no VIP's flow (UDP)": tooBig4(icmpVIP4, ipPacket(pkt.Frame{IP4: &pkt.IPv4{Src: icmpVIP4, Dst: client},
			UDP: &pkt.UDP{SrcPort: 53, DstPort: 40000}})),
		"quote of IPv6 in IPv4": tooBig4(icmpVIP4, q6[:48]),
		"quote beyond the outer length": pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4, TotalLength: 20 + 8 + 22},
			ICMP: &pkt.ICMP{Type: 3, Code: 4}, Payload: q[:28]}.Bytes(),
		"fragmented error": pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4, Flags: pkt.MF},
			ICMP: &pkt.ICMP{Type: 3, Code: 4}, Payload: q[:28]}.Bytes(),
		"ICMPv6 echo request": pkt.Frame{IP6: &pkt.IPv6{Src: client6, Dst: icmpVIP6}, ICMPv6: &pkt.ICMPv6{Type: 128}, Payload: q6}.Bytes(),
		"IPv6 quote sent from another address": tooBig6(icmpVIP6, ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::81"), Dst: client6},
			TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000}})),
		"IPv6 quote sent from an address differing in its first byte": tooBig6(icmpVIP6, ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("3001:db8::80"), Dst: client6},
			TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000}})),
		"IPv6 quote with an extension header": tooBig6(icmpVIP6, ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6,
			Ext: []pkt.Ext{{Type: pkt.ExtDstOpts, Data: make([]byte, 6)}}}, TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000}})),
		"IPv6 quote of ICMPv6": tooBig6(icmpVIP6, ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6},
			ICMPv6: &pkt.ICMPv6{Type: 129}, Payload: make([]byte, 8)})),
		"quote of IP version 4 in an IPv6 header": tooBig6(icmpVIP6, with(q6, 0, 0x40)),
		"IPv6 ports cut": tooBig6(icmpVIP6, q6[:43]),
		"IPv6 quote beyond the outer length": pkt.Frame{IP6: &pkt.IPv6{Src: icmpRouter6, Dst: icmpVIP6, PayloadLength: 8 + 40 + 2},
			ICMPv6: &pkt.ICMPv6{Type: 2}, Payload: q6}.Bytes(),
		"quote of IPv4 in IPv6": tooBig6(icmpVIP6, q[:28]),
	}
	for name, f := range cases {
		before := kernelCounters(t, p.lb)
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, _ := p.model.Process(f)
		after := kernelCounters(t, p.lb)
		if v != mv || v == TX && !bytes.Equal(out, mout) {
			t.Errorf("%s: kernel %d, model %d, or different frames sent", name, v, mv)
		}
		if after.ICMPQuote != before.ICMPQuote {
			t.Errorf("%s: counted as an ICMP error balanced by its flow", name)
		}
	}
	if k, m := kernelCounters(t, p.lb), p.model.Stats().Counters; k != m || k.ICMPQuote != 0 || k.TX+k.PassNotVIP != uint64(len(cases)) {
		t.Errorf("kernel %+v, model %+v: want equal, no ICMP error balanced by a flow, %d sent or passed", k, m, len(cases))
	}
}

// FuzzKernelICMPQuote sends ICMP and ICMPv6 messages of any type whose body
// is the fuzzer's bytes (a quote, often broken) to VIP addresses whose TCP
// and UDP flows all have a VIP, and requires kernel and model to agree on
// each: verdict, bytes sent and whether it went as the flow it quotes.
func FuzzKernelICMPQuote(f *testing.F) {
	client, client6 := pkt.Addr("203.0.113.9"), pkt.Addr("2001:db8:c0::9")
	q := ipPacket(reply4(client, 80, 40000))
	q6 := ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6}, UDP: &pkt.UDP{SrcPort: 443, DstPort: 40000}})
	f.Add(false, uint8(3), q[:28])
	f.Add(false, uint8(11), q[:100])
	f.Add(true, uint8(2), q6[:48])
	f.Add(true, uint8(1), q6)
	f.Add(false, uint8(12), q6[:48])
	p := load(f, Options{Seed: 9, Table: maglev.Params{Size: 251}})
	bs := backends("10.1.0.1", "10.1.0.2", "10.1.0.3")
	for _, a := range []netip.Addr{icmpVIP4, icmpVIP6} {
		p.setVIP(f, VIP{a, 0, flow.ProtoTCP}, bs)
		p.setVIP(f, VIP{a, 0, flow.ProtoUDP}, bs)
	}
	f.Fuzz(func(t *testing.T, v6 bool, typ uint8, body []byte) {
		var frame []byte
		if v6 {
			frame = pkt.Frame{IP6: &pkt.IPv6{Src: icmpRouter6, Dst: icmpVIP6}, ICMPv6: &pkt.ICMPv6{Type: typ}, Payload: body}.Bytes()
		} else {
			frame = pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4}, ICMP: &pkt.ICMP{Type: typ}, Payload: body}.Bytes()
		}
		frame = kerneltest.Clip(frame)
		before := kernelCounters(t, p.lb).ICMPQuote
		mBefore := p.model.Stats().ICMPQuote
		v, out := kerneltest.Run(t, p.lb.Program(), frame)
		mv, mout, _ := p.model.Process(frame)
		quoted, mQuoted := kernelCounters(t, p.lb).ICMPQuote-before, p.model.Stats().ICMPQuote-mBefore
		if v != mv || v == TX && !bytes.Equal(out, mout) || quoted != mQuoted {
			t.Fatalf("frame % x: kernel verdict %d (as a quote: %d), model %d (%d), or different bytes sent", frame, v, quoted, mv, mQuoted)
		}
	})
}

// TestKernel_ICMPErrorTypes: the ICMP errors that quote a packet are
// balanced as the flow they quote, each of them: in IPv4 destination
// unreachable (3), time exceeded (11) and parameter problem (12) (RFC
// 792), in IPv6 types 1 to 4 (RFC 4443: destination unreachable, packet
// too big, time exceeded, parameter problem). Other types are not,
// source quench (4, RFC 792, deprecated by RFC 6633) among them, nor an
// ICMPv6 type past the errors RFC 4443 defines. A quote of a first
// fragment (MF set, offset 0) holds the ports and counts; a quote of a
// later fragment does not, whichever bits of its 13-bit offset are set.
func TestKernel_ICMPErrorTypes(t *testing.T) {
	p := load(t, Options{Seed: 5, Table: maglev.Params{Size: 251}})
	bs := icmpBackends()
	p.setVIP(t, VIP{icmpVIP4, 80, flow.ProtoTCP}, bs)
	p.setVIP(t, VIP{icmpVIP6, 443, flow.ProtoTCP}, bs)
	client, client6 := pkt.Addr("203.0.113.9"), pkt.Addr("2001:db8:c0::9")
	// The client's flows, and the backends' replies to them.
	flow4 := pkt.Frame{IP4: &pkt.IPv4{Src: client, Dst: icmpVIP4}, TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}}.Bytes()
	flow6 := pkt.Frame{IP6: &pkt.IPv6{Src: client6, Dst: icmpVIP6}, TCP: &pkt.TCP{SrcPort: 40000, DstPort: 443, Flags: pkt.SYN}}.Bytes()
	to := p.sendAll(t, "flows", [][]byte{flow4, flow6})
	q := ipPacket(reply4(client, 80, 40000))[:28]
	q6 := ipPacket(pkt.Frame{IP6: &pkt.IPv6{Src: icmpVIP6, Dst: client6}, TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000, Flags: pkt.ACK}})
	error4 := func(typ uint8, q []byte) []byte {
		return pkt.Frame{IP4: &pkt.IPv4{Src: icmpRouter, Dst: icmpVIP4}, ICMP: &pkt.ICMP{Type: typ}, Payload: q}.Bytes()
	}
	error6 := func(typ uint8) []byte {
		return pkt.Frame{IP6: &pkt.IPv6{Src: icmpRouter6, Dst: icmpVIP6}, ICMPv6: &pkt.ICMPv6{Type: typ}, Payload: q6}.Bytes()
	}
	fragQuote := func(flags uint8, off uint16) []byte {
		r := reply4(client, 80, 40000)
		r.IP4.Flags, r.IP4.FragOffset = flags, off
		return ipPacket(r)[:28]
	}
	for _, c := range []struct {
		name  string
		frame []byte
		to    netip.Addr // the flow's backend; invalid: not balanced as a quote
	}{
		{"destination unreachable", error4(3, q), to[0]},
		{"time exceeded", error4(11, q), to[0]},
		{"parameter problem", error4(12, q), to[0]},
		{"source quench", error4(4, q), netip.Addr{}},
		{"timestamp", error4(13, q), netip.Addr{}},
		{"quote of a first fragment", error4(3, fragQuote(pkt.MF, 0)), to[0]},
		{"quote of a later fragment, offset 0x1000", error4(3, fragQuote(pkt.MF, 0x1000)), netip.Addr{}},
		{"quote of a later fragment, offset 1", error4(3, fragQuote(0, 1)), netip.Addr{}},
		{"ICMPv6 destination unreachable", error6(1), to[1]},
		{"ICMPv6 packet too big", error6(2), to[1]},
		{"ICMPv6 time exceeded", error6(3), to[1]},
		{"ICMPv6 parameter problem", error6(4), to[1]},
		{"ICMPv6 type 5", error6(5), netip.Addr{}},
		{"ICMPv6 type 0", error6(0), netip.Addr{}},
	} {
		before, mBefore := kernelCounters(t, p.lb).ICMPQuote, p.model.Stats().ICMPQuote
		v, out := kerneltest.Run(t, p.lb.Program(), c.frame)
		mv, mout, _ := p.model.Process(c.frame)
		quoted, mQuoted := kernelCounters(t, p.lb).ICMPQuote-before, p.model.Stats().ICMPQuote-mBefore
		if v != mv || v == TX && !bytes.Equal(out, mout) || quoted != mQuoted {
			t.Errorf("%s: kernel %d (as a quote: %d), model %d (%d), or different frames sent", c.name, v, quoted, mv, mQuoted)
			continue
		}
		if !c.to.IsValid() {
			if v != Pass || quoted != 0 {
				t.Errorf("%s: verdict %d, %d counted as a quote; want pass (no ICMP VIP), not a quote", c.name, v, quoted)
			}
			continue
		}
		if v != TX || quoted != 1 || outerDst(out) != c.to {
			t.Errorf("%s: verdict %d to %v, %d counted as a quote; want TX as a quote to %v, its flow's backend", c.name, v, outerDst(out), quoted, c.to)
		}
	}
}
