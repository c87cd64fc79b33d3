package flow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

const (
	a4 = "10.0.0.1"
	b4 = "10.0.0.2"
	a6 = "2001:db8::1"
	b6 = "2001:db8::2"
)

// parseCase is one frame and what Parse must say about it.
type parseCase struct {
	name  string
	frame []byte
	want  Info        // checked when err is nil
	err   *parseError // the exact error, nil for success
}

// ok builds the expected Info of an accepted frame.
func ok(k Key, l3, l4 int, frag Fragment, tags int, id uint32) Info {
	return Info{Key: k, L3Offset: uint16(l3), L4Offset: uint16(l4), Fragment: frag, VLANTags: uint8(tags), IPID: id}
}

// at returns i with FragOffset off: the offset in bytes of a later
// fragment.
func at(i Info, off uint16) Info {
	i.FragOffset = off
	return i
}

func vlanStack(n int) []tag {
	tpids := []uint16{0x88a8, 0x8100, 0x9100}
	t := make([]tag, n)
	for i := range t {
		t[i] = tag{tpids[i%len(tpids)], uint16(10 + i)}
	}
	return t
}

func parseCases() []parseCase {
	tcp4 := func(tags ...tag) []byte {
		// eth [tags] 0800 | ipv4 10.0.0.1 > 10.0.0.2 tcp tot=44 | tcp 1234 > 80 doff=5 | 4 bytes data
		return cat(eth(0x0800, tags...), ipv4(v4h{proto: 6, src: a4, dst: b4, id: 7}, tcp(1234, 80, 0, []byte("data"))))
	}
	k4tcp := MustKey(a4, b4, 1234, 80, ProtoTCP)
	cs := []parseCase{
		// --- Ethernet ---
		{"empty frame", nil, Info{}, errEthernetShort},
		// 13 bytes: one short of an Ethernet header
		{"ethernet 13 bytes", zeros(13), Info{}, errEthernetShort},
		// eth 0806 (ARP) | 28 bytes
		{"arp", cat(eth(0x0806), zeros(28)), Info{}, errEtherType},
		// eth 8847 (MPLS) | label | ipv4 ...: MPLS is not parsed
		{"mpls", cat(eth(0x8847), []byte{0, 0, 0x11, 64}, ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(1, 2, nil))), Info{}, errEtherType},
		// eth length=46 (802.3) | LLC aa aa 03 | SNAP 000000 0800 | ipv4 ...
		{"802.3 llc/snap", cat(eth(46), []byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(1, 2, nil))), Info{}, errLengthField},
		// eth 05ff: the largest 802.3 length value
		{"802.3 length 0x05ff", cat(eth(0x05ff), zeros(46)), Info{}, errLengthField},
		// eth 0600: the smallest EtherType, unknown
		{"ethertype 0x0600", cat(eth(0x0600), zeros(46)), Info{}, errEtherType},
		// eth 0800 and nothing else
		{"ipv4 ethertype, no header", eth(0x0800), Info{}, errIPv4Short},
		// eth 86dd and nothing else
		{"ipv6 ethertype, no header", eth(0x86dd), Info{}, errIPv6Short},

		// --- VLAN tags ---
		// eth 8100 vid=5 (tag cut after 2 bytes)
		{"vlan tag truncated", cat(eth(0x8100)[:14], []byte{0, 5}), Info{}, errVLANShort},
		// eth 8100 vid=5 | 08 (tag cut 1 byte short: its EtherType half present)
		{"vlan tag 3 bytes", cat(eth(0x8100)[:14], []byte{0, 5, 0x08}), Info{}, errVLANShort},
		// eth 8100 vid=5 | 0806 ARP
		{"vlan arp", cat(eth(0x0806, dot1q(5)), zeros(28)), Info{}, errEtherType},
		// eth 8100 vid=5 | 86dd, no IPv6 header
		{"vlan ipv6 no header", eth(0x86dd, dot1q(5)), Info{}, errIPv6Short},
		// eth 8100 vid=5 | length 0x0040 (802.3 inside a tag)
		{"vlan 802.3 length", cat(eth(0x0040, dot1q(5)), zeros(46)), Info{}, errLengthField},
	}
	for n := 0; n <= MaxVLANTags; n++ {
		// eth [n tags: 88a8, 8100, 9100, ...] 0800 | ipv4 tcp 1234 > 80
		cs = append(cs, parseCase{"vlan tags " + itoa(n), tcp4(vlanStack(n)...), ok(k4tcp, 14+4*n, 34+4*n, NotFragment, n, 7), nil})
	}
	cs = append(cs,
		// eth [9 tags] 0800 | ipv4 tcp: one tag too many
		parseCase{"vlan tags 9", tcp4(vlanStack(9)...), Info{}, errTooManyVLANs},
		// eth [8 tags] 8100 (ninth TPID) and the frame ends: the count is checked before the bytes
		parseCase{"ninth tag without bytes", eth(0x8100, vlanStack(8)...), Info{}, errTooManyVLANs},
		// eth [7 tags] 8100 and the frame ends: the eighth tag's bytes are missing
		parseCase{"eighth tag truncated", eth(0x8100, vlanStack(7)...), Info{}, errVLANShort},
	)
	cs = append(cs, ipv4Cases()...)
	cs = append(cs, ipv6Cases()...)
	return cs
}

func itoa(n int) string { return string(rune('0'+n/10%10)) + string(rune('0'+n%10)) }

func ipv4Cases() []parseCase {
	e := eth(0x0800)
	k := func(sp, dp uint16, p uint8) Key { return MustKey(a4, b4, sp, dp, p) }
	nop4 := []byte{1, 1, 1, 1} // four NOP options
	return []parseCase{
		// eth 0800 | ipv4 10.0.0.1 > 10.0.0.2 ihl=5 tot=40 id=0x1234 tcp | tcp 1234 > 80 doff=5
		{"ipv4 tcp", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4, id: 0x1234}, tcp(1234, 80, 0, nil))),
			ok(k(1234, 80, 6), 14, 34, NotFragment, 0, 0x1234), nil},
		// eth 0800 | ipv4 ihl=6 (4 NOP option bytes) tot=36 udp | udp 5353 > 53
		{"ipv4 options", cat(e, ipv4(v4h{proto: 17, src: a4, dst: b4, opts: nop4}, udp(5353, 53, nil))),
			ok(k(5353, 53, 17), 14, 38, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 ihl=15 (40 option bytes) tot=88 tcp | tcp 1 > 2
		{"ipv4 ihl 15", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4, opts: bytes.Repeat(nop4, 10)}, tcp(1, 2, 0, nil))),
			ok(k(1, 2, 6), 14, 74, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 ihl=4: header length below 20
		{"ipv4 ihl 4", cat(e, ipv4(v4h{ihl: 4, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))), Info{}, errIHL[4]},
		// eth 0800 | ipv4 ihl=0
		{"ipv4 ihl 0", cat(e, ipv4(v4h{ihl: 16, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))), Info{}, errIHL[0]},
		// eth 0800 | version 6 in an IPv4 EtherType (IPv4-shaped header)
		{"ipv4 ethertype version 6", cat(e, ipv4(v4h{version: 6, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))), Info{}, errIPv4Version[6]},
		// eth 0800 | ipv4 tot=19 (below ihl*4=20)
		{"ipv4 total length 19", cat(e, ipv4(v4h{total: 19, proto: 17, src: a4, dst: b4}, udp(1, 2, nil))), Info{}, errIPv4TotalLen},
		// eth 0800 | ipv4 tot=0 (as written by TSO senders): below the header length
		{"ipv4 total length 0", cat(e, ipv4(v4h{total: -1, proto: 17, src: a4, dst: b4}, udp(1, 2, nil))), Info{}, errIPv4TotalLen},
		// eth 0800 | ipv4 ihl=6 tot=20: total length below ihl*4=24
		{"ipv4 total below options", cat(e, ipv4(v4h{total: 20, proto: 17, src: a4, dst: b4, opts: nop4}, udp(1, 2, nil))), Info{}, errIPv4TotalLen},
		// eth 0800 | 19 bytes of an IPv4 header
		{"ipv4 header truncated", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4}, nil)[:19]), Info{}, errIPv4Short},
		// eth 0800 | ipv4 ihl=6, frame ends 2 bytes into the options
		{"ipv4 options truncated", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4, opts: nop4}, nil)[:22]), Info{}, errIPv4Options},
		// eth 0800 | ipv4 tot=28 udp | udp 5353 > 53 | 18 bytes Ethernet padding (60-byte frame)
		{"ipv4 padding ignored", cat(e, ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(5353, 53, nil)), zeros(18)),
			ok(k(5353, 53, 17), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 tot=20 tcp | 26 bytes padding: the TCP header would be padding
		{"ipv4 padding not parsed as tcp", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4}, nil), tcp(1, 2, 0, nil)[:20], zeros(6)), Info{}, errTCPShort},
		// eth 0800 | ipv4 tot=30 tcp | tcp 1 > 2 (20 bytes present in the frame, 10 inside the packet)
		{"ipv4 total length cuts tcp", cat(e, ipv4(v4h{total: 30, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))), Info{}, errTCPShort},
		// eth 0800 | ipv4 tot=39 tcp | tcp 1 > 2 (20 bytes in the frame, 19 inside the packet)
		{"ipv4 total length one byte short of tcp", cat(e, ipv4(v4h{total: 39, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))), Info{}, errTCPShort},
		// eth 0800 | ipv4 tot=28 udp | udp 1 > 2 | 1 byte of padding: the packet ends exactly at the UDP header
		{"ipv4 total length exactly udp", cat(e, ipv4(v4h{total: 28, proto: 17, src: a4, dst: b4}, udp(1, 2, nil)), zeros(1)),
			ok(k(1, 2, 17), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 tot=1500 tcp | tcp 1 > 2: capture cut by snaplen, headers present
		{"ipv4 snaplen cut", cat(e, ipv4(v4h{total: 1500, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil))),
			ok(k(1, 2, 6), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 tcp | 19 bytes of a TCP header
		{"tcp truncated", cat(e, ipv4(v4h{total: 40, proto: 6, src: a4, dst: b4}, tcp(1, 2, 0, nil)[:19])), Info{}, errTCPShort},
		// eth 0800 | ipv4 tcp | tcp doff=4
		{"tcp data offset 4", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4}, tcp(1, 2, 4, nil))), Info{}, errTCPDataOffset[4]},
		// eth 0800 | ipv4 tcp | tcp doff=0
		{"tcp data offset 0", cat(e, ipv4(v4h{proto: 6, src: a4, dst: b4}, tcp(1, 2, 16, nil))), Info{}, errTCPDataOffset[0]},
		// eth 0800 | ipv4 tot=40 tcp | tcp doff=15 with only the 20 fixed bytes: options are not needed
		{"tcp options cut", cat(e, ipv4(v4h{total: 40, proto: 6, src: a4, dst: b4}, tcp(443, 51000, 15, nil)[:20])),
			ok(k(443, 51000, 6), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 udp | 7 bytes of a UDP header
		{"udp truncated", cat(e, ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(1, 2, nil)[:7])), Info{}, errUDPShort},
		// eth 0800 | ipv4 icmp | 7 bytes of an ICMP header
		{"icmp truncated", cat(e, ipv4(v4h{proto: 1, src: a4, dst: b4}, icmp(8, nil)[:7])), Info{}, errICMPShort},
		// eth 0800 | ipv4 icmp | icmp echo request (8 bytes): zero ports
		{"icmp echo", cat(e, ipv4(v4h{proto: 1, src: a4, dst: b4}, icmp(8, nil))),
			ok(k(0, 0, 1), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 proto=58 | 3 bytes: ICMPv6 rule by protocol number
		{"icmpv6 in ipv4 truncated", cat(e, ipv4(v4h{proto: 58, src: a4, dst: b4}, zeros(3))), Info{}, errICMPv6Short},
		// eth 0800 | ipv4 gre (47) | no payload: unknown protocols have no check
		{"gre empty", cat(e, ipv4(v4h{proto: 47, src: a4, dst: b4}, nil)),
			ok(k(0, 0, 47), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 ipip (4) | ipv4 tcp: keyed by the outer header
		{"ipip outer key", cat(e, ipv4(v4h{proto: 4, src: a4, dst: b4}, ipv4(v4h{proto: 6, src: "192.0.2.1", dst: "192.0.2.2"}, tcp(1, 2, 0, nil)))),
			ok(k(0, 0, 4), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 proto=253 (experimental) | 12 bytes
		{"unknown protocol", cat(e, ipv4(v4h{proto: 253, src: a4, dst: b4}, zeros(12))),
			ok(k(0, 0, 253), 14, 34, NotFragment, 0, 0), nil},
		// eth 0800 | ipv4 DF id=9 udp | udp 1 > 2: DF alone is not a fragment
		{"ipv4 dont fragment", cat(e, ipv4(v4h{flagFrag: df, id: 9, proto: 17, src: a4, dst: b4}, udp(1, 2, nil))),
			ok(k(1, 2, 17), 14, 34, NotFragment, 0, 9), nil},
		// eth 0800 | ipv4 MF offset=0 id=77 udp | udp 5353 > 53: first fragment has ports
		{"ipv4 first fragment", cat(e, ipv4(v4h{flagFrag: mf, id: 77, proto: 17, src: a4, dst: b4}, udp(5353, 53, zeros(100)))),
			ok(k(5353, 53, 17), 14, 34, FirstFragment, 0, 77), nil},
		// eth 0800 | ipv4 MF offset=0 tcp | 10 bytes: a first fragment still needs its TCP header
		{"ipv4 first fragment truncated", cat(e, ipv4(v4h{flagFrag: mf, proto: 6, src: a4, dst: b4}, zeros(10))), Info{}, errTCPShort},
		// eth 0800 | ipv4 MF offset=185 id=77 udp | 64 bytes that look like a UDP header: zero ports
		{"ipv4 later fragment", cat(e, ipv4(v4h{flagFrag: mf | 185, id: 77, proto: 17, src: a4, dst: b4}, udp(5353, 53, zeros(56)))),
			at(ok(k(0, 0, 17), 14, 0, LaterFragment, 0, 77), 1480), nil},
		// eth 0800 | ipv4 offset=1 id=77 udp | 8 bytes: the lowest offset bit alone makes a later fragment
		{"ipv4 fragment offset 1", cat(e, ipv4(v4h{flagFrag: mf | 1, id: 77, proto: 17, src: a4, dst: b4}, udp(5353, 53, nil))),
			at(ok(k(0, 0, 17), 14, 0, LaterFragment, 0, 77), 8), nil},
		// eth 0800 | ipv4 offset=4096 (0x1000) id=77 udp | 8 bytes: the highest offset bit alone
		{"ipv4 fragment offset 4096", cat(e, ipv4(v4h{flagFrag: 0x1000, id: 77, proto: 17, src: a4, dst: b4}, udp(5353, 53, nil))),
			at(ok(k(0, 0, 17), 14, 0, LaterFragment, 0, 77), 32768), nil},
		// eth 0800 | ipv4 offset=370 (last) id=77 tcp | no payload at all
		{"ipv4 last fragment empty", cat(e, ipv4(v4h{flagFrag: 370, id: 77, proto: 6, src: a4, dst: b4}, nil)),
			at(ok(k(0, 0, 6), 14, 0, LaterFragment, 0, 77), 2960), nil},
	}
}

func ipv6Cases() []parseCase {
	e := eth(0x86dd)
	k := func(sp, dp uint16, p uint8) Key { return MustKey(a6, b6, sp, dp, p) }
	h := func(next uint8) v6h { return v6h{next: next, src: a6, dst: b6} }
	// chainOf8 is 8 destination-options headers (64 bytes), the eighth
	// pointing at next, then tail.
	chainOf8 := func(next uint8, tail []byte) []byte {
		b := ext(next, 0, tail) // the eighth header
		for range 7 {
			b = ext(60, 0, b)
		}
		return b
	}
	chain8 := func() []byte { return chainOf8(17, udp(1, 2, nil)) }
	return []parseCase{
		// eth 86dd | ipv6 2001:db8::1 > 2001:db8::2 next=tcp plen=20 | tcp 443 > 51000
		{"ipv6 tcp", cat(e, ipv6(h(6), tcp(443, 51000, 0, nil))),
			ok(k(443, 51000, 6), 14, 54, NotFragment, 0, 0), nil},
		// eth 8100 vid=3 | 86dd | ipv6 udp | udp 5353 > 53
		{"vlan ipv6 udp", cat(eth(0x86dd, dot1q(3)), ipv6(h(17), udp(5353, 53, nil))),
			ok(k(5353, 53, 17), 18, 58, NotFragment, 1, 0), nil},
		// eth 86dd | version 4 in an IPv6 EtherType
		{"ipv6 ethertype version 4", cat(e, ipv6(v6h{version: 4, next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil))), Info{}, errIPv6Version[4]},
		// eth 86dd | 39 bytes of an IPv6 header
		{"ipv6 header truncated", cat(e, ipv6(h(6), nil)[:39]), Info{}, errIPv6Short},
		// eth 86dd | ipv6 next=hop-by-hop | hbh (8 bytes) next=udp | udp 1 > 2
		{"ipv6 hop-by-hop", cat(e, ipv6(h(0), ext(17, 0, udp(1, 2, nil)))),
			ok(k(1, 2, 17), 14, 62, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=routing | routing type 0 (24 bytes) next=tcp | tcp 1 > 2
		{"ipv6 routing", cat(e, ipv6(h(43), ext(6, 2, tcp(1, 2, 0, nil)))),
			ok(k(1, 2, 6), 14, 78, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=dstopts | destination options (16 bytes) next=udp | udp 1 > 2
		{"ipv6 destination options", cat(e, ipv6(h(60), ext(17, 1, udp(1, 2, nil)))),
			ok(k(1, 2, 17), 14, 70, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=ah | ah (payload len 4: 24 bytes) next=tcp | tcp 1 > 2
		{"ipv6 authentication header", cat(e, ipv6(h(51), ah(6, 4, tcp(1, 2, 0, nil)))),
			ok(k(1, 2, 6), 14, 78, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=fragment | frag offset=0 M=1 id=0xdeadbeef next=udp | udp 5353 > 53
		{"ipv6 first fragment", cat(e, ipv6(h(44), frag6(17, 0, true, 0xdeadbeef, udp(5353, 53, zeros(64))))),
			ok(k(5353, 53, 17), 14, 62, FirstFragment, 0, 0xdeadbeef), nil},
		// eth 86dd | ipv6 next=fragment | frag offset=0 M=1 next=udp | 4 bytes: still needs the UDP header
		{"ipv6 first fragment truncated", cat(e, ipv6(h(44), frag6(17, 0, true, 1, zeros(4)))), Info{}, errUDPShort},
		// eth 86dd | ipv6 next=fragment | frag offset=181 M=1 id=5 next=udp | 64 bytes: zero ports
		{"ipv6 later fragment", cat(e, ipv6(h(44), frag6(17, 181, true, 5, udp(5353, 53, zeros(56))))),
			at(ok(k(0, 0, 17), 14, 0, LaterFragment, 0, 5), 1448), nil},
		// eth 86dd | ipv6 next=fragment | frag offset=181 M=0 (last) id=5 next=tcp | nothing
		{"ipv6 last fragment", cat(e, ipv6(h(44), frag6(6, 181, false, 5, nil))),
			at(ok(k(0, 0, 6), 14, 0, LaterFragment, 0, 5), 1448), nil},
		// eth 86dd | ipv6 next=fragment | frag offset=181 next=dstopts | ...: protocol is the fragment's next header
		{"ipv6 later fragment ext next", cat(e, ipv6(h(44), frag6(60, 181, true, 5, zeros(16)))),
			at(ok(k(0, 0, 60), 14, 0, LaterFragment, 0, 5), 1448), nil},
		// eth 86dd | ipv6 next=fragment | frag offset=0 M=0 (atomic) id=9 next=tcp | tcp 1 > 2
		{"ipv6 atomic fragment", cat(e, ipv6(h(44), frag6(6, 0, false, 9, tcp(1, 2, 0, nil)))),
			ok(k(1, 2, 6), 14, 62, NotFragment, 0, 9), nil},
		// eth 86dd | ipv6 next=fragment | 7 bytes of a fragment header
		{"ipv6 fragment header truncated", cat(e, ipv6(h(44), frag6(6, 0, true, 9, nil)[:7])), Info{}, errFragShort},
		// eth 86dd | ipv6 hbh | routing | frag first | dstopts | ah | tcp 1 > 2: every kind in one chain
		{"ipv6 all extension headers", cat(e, ipv6(h(0), ext(43, 0, ext(44, 0, frag6(60, 0, true, 3, ext(51, 0, ah(6, 1, tcp(1, 2, 0, nil)))))))),
			ok(k(1, 2, 6), 14, 54+8+8+8+8+12, FirstFragment, 0, 3), nil},
		// eth 86dd | ipv6 next=dstopts | 8 extension headers (7 dstopts, 1 dstopts) | udp 1 > 2
		{"ipv6 8 extension headers", cat(e, ipv6(h(60), chain8())),
			ok(k(1, 2, 17), 14, 54+64, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=hbh | hbh | 8 dstopts | udp: a ninth header
		{"ipv6 9 extension headers", cat(e, ipv6(h(0), ext(60, 0, chain8()))), Info{}, errTooManyExt},
		// eth 86dd | ipv6 next=dstopts | 8 dstopts | fragment (a ninth header) | udp
		{"ipv6 ninth header a fragment header", cat(e, ipv6(h(60), chainOf8(44, frag6(17, 0, true, 1, udp(1, 2, nil))))), Info{}, errTooManyExt},
		// eth 86dd | ipv6 next=dstopts | 7 dstopts | fragment (the eighth header) offset=0 M=1 | udp 1 > 2
		{"ipv6 eighth header a fragment header", cat(e, ipv6(h(60), ext(60, 0, ext(60, 0, ext(60, 0, ext(60, 0, ext(60, 0, ext(60, 0, ext(44, 0, frag6(17, 0, true, 1, udp(1, 2, nil))))))))))),
			ok(k(1, 2, 17), 14, 54+64, FirstFragment, 0, 1), nil},
		// eth 86dd | ipv6 next=hbh | 1 byte
		{"ipv6 extension header 1 byte", cat(e, ipv6(h(0), []byte{17})), Info{}, errExtShort},
		// eth 86dd | ipv6 next=hbh | hbh length 1 (16 bytes) but 10 bytes present
		{"ipv6 extension header body truncated", cat(e, ipv6(h(0), ext(17, 1, nil)[:10])), Info{}, errExtBody},
		// eth 86dd | ipv6 next=hbh | hbh length 1 (16 bytes) but 15 bytes present
		{"ipv6 extension header body 1 byte short", cat(e, ipv6(h(0), ext(17, 1, nil)[:15])), Info{}, errExtBody},
		// eth 86dd | ipv6 next=ah | ah payload len 1 (12 bytes) but 11 bytes present
		{"ipv6 ah body 1 byte short", cat(e, ipv6(h(51), ah(6, 1, nil)[:11])), Info{}, errExtBody},
		// eth 86dd | ipv6 plen=8 next=hbh | hbh length 1 (16 bytes, present in the frame): past the payload length
		{"ipv6 extension header past payload length", cat(e, ipv6(v6h{plen: 8, next: 0, src: a6, dst: b6}, ext(17, 1, udp(1, 2, nil)))), Info{}, errExtBody},
		// eth 86dd | ipv6 plen=0 next=tcp | tcp 1 > 2: zero means "to the end of the frame"
		{"ipv6 payload length 0", cat(e, ipv6(v6h{plen: -1, next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil))),
			ok(k(1, 2, 6), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 plen=10 next=tcp | tcp 1 > 2 (20 bytes in the frame, 10 in the packet)
		{"ipv6 payload length cuts tcp", cat(e, ipv6(v6h{plen: 10, next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil))), Info{}, errTCPShort},
		// eth 86dd | ipv6 plen=19 next=tcp | tcp 1 > 2 (20 bytes in the frame, 19 in the packet)
		{"ipv6 payload length one byte short of tcp", cat(e, ipv6(v6h{plen: 19, next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil))), Info{}, errTCPShort},
		// eth 86dd | ipv6 plen=1400 next=tcp | tcp 1 > 2: capture cut by snaplen
		{"ipv6 snaplen cut", cat(e, ipv6(v6h{plen: 1400, next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil))),
			ok(k(1, 2, 6), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 plen=4 next=udp | 8 bytes: the UDP header runs into padding
		{"ipv6 padding not parsed", cat(e, ipv6(v6h{plen: 4, next: 17, src: a6, dst: b6}, udp(1, 2, nil))), Info{}, errUDPShort},
		// eth 86dd | ipv6 next=no-next-header (59) plen=8 | 8 bytes that are not parsed
		{"ipv6 no next header", cat(e, ipv6(h(59), zeros(8))),
			ok(k(0, 0, 59), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=esp (50) | 16 bytes of ESP: zero ports
		{"ipv6 esp", cat(e, ipv6(h(50), zeros(16))),
			ok(k(0, 0, 50), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=icmpv6 | echo request (8 bytes)
		{"icmpv6 echo", cat(e, ipv6(h(58), icmp(128, nil))),
			ok(k(0, 0, 58), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=icmpv6 | 4 bytes: enough for ICMPv6
		{"icmpv6 4 bytes", cat(e, ipv6(h(58), icmp(128, nil)[:4])),
			ok(k(0, 0, 58), 14, 54, NotFragment, 0, 0), nil},
		// eth 86dd | ipv6 next=icmpv6 | 3 bytes
		{"icmpv6 truncated", cat(e, ipv6(h(58), icmp(128, nil)[:3])), Info{}, errICMPv6Short},
		// eth 86dd | ipv6 next=icmp (1) | 7 bytes: ICMP rule by protocol number
		{"icmp in ipv6 truncated", cat(e, ipv6(h(1), zeros(7))), Info{}, errICMPShort},
		// eth 86dd | ipv6 next=ipv6 (41) | inner ipv6 tcp: keyed by the outer header
		{"ipv6 in ipv6", cat(e, ipv6(h(41), ipv6(v6h{next: 6, src: "2001:db8::a", dst: "2001:db8::b"}, tcp(1, 2, 0, nil)))),
			ok(k(0, 0, 41), 14, 54, NotFragment, 0, 0), nil},
	}
}

func checkErr(t *testing.T, err error, want *parseError) {
	t.Helper()
	if err != want {
		t.Fatalf("error %v, want %v", err, want)
	}
	n := 0
	for _, s := range []error{ErrTruncated, ErrNotIP, ErrMalformed} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q matches %d sentinels, want exactly 1", err, n)
	}
}

func TestParse(t *testing.T) {
	for _, c := range parseCases() {
		t.Run(c.name, func(t *testing.T) {
			info, err := Parse(c.frame)
			if c.err != nil {
				checkErr(t, err, c.err)
				if info != (Info{}) {
					t.Errorf("info %+v on error, want zero", info)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want %v", err, c.want.Key)
			}
			if info != c.want {
				t.Errorf("got  %+v (%v)\nwant %+v (%v)", info, info.Key, c.want, c.want.Key)
			}
			if int(info.L4Offset) > len(c.frame) {
				t.Errorf("L4Offset %d beyond the %d-byte frame", info.L4Offset, len(c.frame))
			}
		})
	}
}

// TestParseIP_MatchesParse checks that ParseIP on the IP packet of every
// untagged Ethernet case gives what Parse gives, offsets shifted by 14.
// Cases whose version disagrees with the EtherType are left out: ParseIP
// picks the parser by the version.
func TestParseIP_MatchesParse(t *testing.T) {
	n := 0
	for _, c := range parseCases() {
		if len(c.frame) < 15 {
			continue
		}
		et, v := binary.BigEndian.Uint16(c.frame[12:14]), c.frame[14]>>4
		if !(et == 0x0800 && v == 4 || et == 0x86dd && v == 6) {
			continue
		}
		n++
		info, err := ParseIP(c.frame[14:])
		if c.err != nil {
			if err != c.err {
				t.Errorf("%s: ParseIP error %v, want %v", c.name, err, c.err)
			}
			continue
		}
		want := c.want
		want.L3Offset -= 14
		if want.L4Offset != 0 {
			want.L4Offset -= 14
		}
		if err != nil || info != want {
			t.Errorf("%s: ParseIP = %+v, %v; want %+v", c.name, info, err, want)
		}
	}
	if n < 40 {
		t.Fatalf("only %d cases compared", n)
	}
}

func TestParseIP(t *testing.T) {
	cases := []parseCase{
		// empty packet
		{"empty", nil, Info{}, errEmptyPacket},
		// 0x50: version 5
		{"version 5", []byte{0x50, 0, 0, 20}, Info{}, errIPVersion[5]},
		// 0x00: version 0
		{"version 0", zeros(40), Info{}, errIPVersion[0]},
		// 0x45 alone: IPv4, 1 byte
		{"ipv4 1 byte", []byte{0x45}, Info{}, errIPv4Short},
		// 0x60 + 29 bytes: IPv6, 30 bytes
		{"ipv6 30 bytes", append([]byte{0x60}, zeros(29)...), Info{}, errIPv6Short},
		// ipv4 10.0.0.1 > 10.0.0.2 udp | udp 5353 > 53
		{"ipv4 udp", ipv4(v4h{proto: 17, src: a4, dst: b4, id: 3}, udp(5353, 53, nil)),
			ok(MustKey(a4, b4, 5353, 53, ProtoUDP), 0, 20, NotFragment, 0, 3), nil},
		// ipv6 next=tcp | tcp 1 > 2
		{"ipv6 tcp", ipv6(v6h{next: 6, src: a6, dst: b6}, tcp(1, 2, 0, nil)),
			ok(MustKey(a6, b6, 1, 2, ProtoTCP), 0, 40, NotFragment, 0, 0), nil},
	}
	for _, c := range cases {
		info, err := ParseIP(c.frame)
		if c.err != nil {
			if err != c.err || info != (Info{}) {
				t.Errorf("%s: ParseIP = %+v, %v; want error %v", c.name, info, err, c.err)
			}
			continue
		}
		if err != nil || info != c.want {
			t.Errorf("%s: ParseIP = %+v, %v; want %+v", c.name, info, err, c.want)
		}
	}
}

// TestErrors checks every pre-allocated error: it names the package, reads
// as its class, and matches exactly one sentinel and the right Outcome.
func TestErrors(t *testing.T) {
	type class struct {
		sentinel error
		word     string
		outcome  Outcome
	}
	classes := []class{
		{ErrTruncated, "flow: truncated ", OutcomeTruncated},
		{ErrNotIP, "flow: not IP: ", OutcomeNotIP},
		{ErrMalformed, "flow: malformed ", OutcomeMalformed},
	}
	all := []*parseError{errEthernetShort, errVLANShort, errTooManyVLANs, errEtherType, errLengthField,
		errEmptyPacket, errIPv4Short, errIPv4Options, errIPv4TotalLen, errIPv6Short, errExtShort, errExtBody,
		errFragShort, errTooManyExt, errTCPShort, errUDPShort, errICMPShort, errICMPv6Short}
	for i := range 16 {
		all = append(all, errIPv4Version[i], errIPv6Version[i], errIPVersion[i])
	}
	for i := range 5 {
		all = append(all, errIHL[i], errTCPDataOffset[i])
	}
	seen := map[string]bool{}
	for _, e := range all {
		msg := e.Error()
		if seen[msg] {
			t.Errorf("duplicate message %q", msg)
		}
		seen[msg] = true
		if strings.HasSuffix(msg, ".") {
			t.Errorf("%q ends with a period", msg)
		}
		matched := 0
		for _, c := range classes {
			if errors.Is(e, c.sentinel) {
				matched++
				if !strings.HasPrefix(msg, c.word) {
					t.Errorf("%q does not start with %q", msg, c.word)
				}
				if got := OutcomeOf(e); got != c.outcome {
					t.Errorf("OutcomeOf(%q) = %v, want %v", msg, got, c.outcome)
				}
			}
		}
		if matched != 1 {
			t.Errorf("%q matches %d sentinels", msg, matched)
		}
	}
	if OutcomeOf(nil) != OutcomeOK {
		t.Error("OutcomeOf(nil) is not OK")
	}
	if OutcomeOf(ErrNotIP) != OutcomeNotIP || OutcomeOf(ErrTruncated) != OutcomeTruncated {
		t.Error("OutcomeOf of a bare sentinel is wrong")
	}
	if OutcomeOf(errors.New("other")) != OutcomeMalformed {
		t.Error("OutcomeOf of a foreign error is not malformed")
	}
	// A caller that wraps a parse error or a sentinel (with its own
	// context) keeps the outcome: OutcomeOf looks through the wrapping.
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{fmt.Errorf("packet 3: %w", errTCPShort), OutcomeTruncated},
		{fmt.Errorf("packet 3: %w", errEtherType), OutcomeNotIP},
		{fmt.Errorf("packet 3: %w", errIHL[2]), OutcomeMalformed},
		{fmt.Errorf("packet 3: %w", ErrTruncated), OutcomeTruncated},
		{fmt.Errorf("packet 3: %w", ErrNotIP), OutcomeNotIP},
		{fmt.Errorf("packet 3: %w", ErrMalformed), OutcomeMalformed},
	} {
		if got := OutcomeOf(c.err); got != c.want {
			t.Errorf("OutcomeOf(%q) = %v, want %v", c.err, got, c.want)
		}
	}
	if got := errIHL[3].Error(); got != "flow: malformed IPv4 header: IHL 3 below 5" {
		t.Errorf("IHL error reads %q", got)
	}
}

// TestOutcomeNumbers pins the numbers shared with the kernels' counters.
func TestOutcomeNumbers(t *testing.T) {
	if OutcomeOK != 0 || OutcomeTruncated != 1 || OutcomeNotIP != 2 || OutcomeMalformed != 3 || NumOutcomes != 4 {
		t.Fatal("outcome numbers changed: the kernels' counters depend on them")
	}
	want := []string{"ok", "truncated", "not-ip", "malformed", "outcome-4"}
	for i, w := range want {
		if got := Outcome(i).String(); got != w {
			t.Errorf("Outcome(%d) = %q, want %q", i, got, w)
		}
	}
	for f, w := range []string{"none", "first", "later", "fragment-3"} {
		if got := Fragment(f).String(); got != w {
			t.Errorf("Fragment(%d) = %q, want %q", f, got, w)
		}
	}
}

// TestParse_DoesNotAllocate guards the zero-allocation promise on accepted
// and rejected frames of every kind.
func TestParse_DoesNotAllocate(t *testing.T) {
	cases := parseCases()
	var sink Info
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range cases {
			sink, _ = Parse(c.frame)
			if len(c.frame) > 14 {
				sink, _ = ParseIP(c.frame[14:])
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse and ParseIP allocate %.1f times per run, want 0", allocs)
	}
	_ = sink
}

// TestParse_ReadsOnlyFrame checks that Parse does not write to the frame
// and gives the same answer on a copy (no hidden state).
func TestParse_ReadsOnlyFrame(t *testing.T) {
	for _, c := range parseCases() {
		before := bytes.Clone(c.frame)
		i1, e1 := Parse(c.frame)
		i2, e2 := Parse(before)
		if !bytes.Equal(before, c.frame) || i1 != i2 || e1 != e2 {
			t.Errorf("%s: Parse changed the frame or is not deterministic", c.name)
		}
	}
	_ = netip.Addr{}
}

// A tiny frame builder for the tests of this package. Each function returns
// the bytes of one header (with its payload where it has one); cat joins
// them. Checksums are left zero: the parser never reads them.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// eth returns an Ethernet header 02:00:00:00:00:02 < 02:00:00:00:00:01
// with the given VLAN tags (TPID and VLAN ID pairs, outermost first) and
// the final EtherType.
func eth(etherType uint16, tags ...tag) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t.tpid)
		b = binary.BigEndian.AppendUint16(b, t.vid)
	}
	return binary.BigEndian.AppendUint16(b, etherType)
}

type tag struct{ tpid, vid uint16 }

func dot1q(vid uint16) tag { return tag{0x8100, vid} }

// v4h describes an IPv4 header; zero fields take defaults (version 4,
// IHL from the options, total length from the payload, TTL 64).
type v4h struct {
	version  uint8  // 0: 4
	ihl      uint8  // 0: 5 + len(opts)/4
	total    int    // 0: header + payload; -1: write 0
	id       uint16 //
	flagFrag uint16 // flags (3 bits) and fragment offset (13 bits, 8-byte units)
	proto    uint8
	src, dst string // dotted quads
	opts     []byte
}

const (
	mf = 0x2000 // IPv4 more-fragments flag
	df = 0x4000 // IPv4 don't-fragment flag
)

func ipv4(h v4h, payload []byte) []byte {
	ver := h.version
	if ver == 0 {
		ver = 4
	}
	ihl := h.ihl
	if ihl == 0 {
		ihl = uint8(5 + len(h.opts)/4)
	}
	total := h.total
	switch total {
	case 0:
		total = 20 + len(h.opts) + len(payload)
	case -1:
		total = 0
	}
	b := make([]byte, 20, 20+len(h.opts)+len(payload))
	b[0] = ver<<4 | ihl&0x0f
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], h.id)
	binary.BigEndian.PutUint16(b[6:], h.flagFrag)
	b[8] = 64
	b[9] = h.proto
	s, d := netip.MustParseAddr(h.src).As4(), netip.MustParseAddr(h.dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	b = append(b, h.opts...)
	return append(b, payload...)
}

// v6h describes an IPv6 header; plen 0 takes the payload's length, -1
// writes 0.
type v6h struct {
	version  uint8 // 0: 6
	plen     int
	next     uint8
	src, dst string
}

func ipv6(h v6h, payload []byte) []byte {
	ver := h.version
	if ver == 0 {
		ver = 6
	}
	plen := h.plen
	switch plen {
	case 0:
		plen = len(payload)
	case -1:
		plen = 0
	}
	b := make([]byte, 40, 40+len(payload))
	b[0] = ver << 4
	binary.BigEndian.PutUint16(b[4:], uint16(plen))
	b[6] = h.next
	b[7] = 64
	s, d := netip.MustParseAddr(h.src).As16(), netip.MustParseAddr(h.dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// ext returns an IPv6 extension header (hop-by-hop, routing, destination
// options) of 8*(units+1) bytes followed by payload.
func ext(next uint8, units uint8, payload []byte) []byte {
	b := make([]byte, 8*(int(units)+1))
	b[0], b[1] = next, units
	if len(b) >= 4 {
		b[2] = 0 // routing type 0 / PadN-free options: zero bytes are Pad1
	}
	return append(b, payload...)
}

// ah returns an authentication header of 4*(units+2) bytes.
func ah(next uint8, units uint8, payload []byte) []byte {
	b := make([]byte, 4*(int(units)+2))
	b[0], b[1] = next, units
	return append(b, payload...)
}

// frag6 returns an IPv6 fragment header: offset in 8-byte units, more
// fragments flag, identification.
func frag6(next uint8, offset uint16, more bool, id uint32, payload []byte) []byte {
	b := make([]byte, 8)
	b[0] = next
	fo := offset << 3
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(b[2:], fo)
	binary.BigEndian.PutUint32(b[4:], id)
	return append(b, payload...)
}

// tcp returns a TCP header with the given data offset (0: 5) and payload.
func tcp(sport, dport uint16, doff uint8, payload []byte) []byte {
	if doff == 0 {
		doff = 5
	}
	n := max(20, int(doff)*4)
	b := make([]byte, n, n+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = doff << 4
	b[13] = 0x02 // SYN
	for i := 20; i < n; i++ {
		b[i] = 1 // NOP options
	}
	return append(b, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// icmp returns an ICMP (or ICMPv6) echo request of 8 bytes plus payload.
func icmp(typ uint8, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = typ
	return append(b, payload...)
}

func zeros(n int) []byte { return make([]byte, n) }
