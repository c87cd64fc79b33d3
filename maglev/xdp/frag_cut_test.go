//go:build linux

package xdp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestKernel_FragmentsCutFirstFragment: a first fragment that does not
// parse, because it carries less than the transport header (a tiny
// fragment, RFC 1858: here 8 bytes of a 20-byte TCP header), passes to the
// stack. It must still delete its datagram's fragment entry, as a first
// fragment not sent does: else the entry of an earlier datagram with the
// same addresses, protocol and identification sends this datagram's later
// fragments to that datagram's backend, with its ports, while the first
// went to the stack. The later fragment used to be sent (IPv4 and IPv6).
func TestKernel_FragmentsCutFirstFragment(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1", "10.1.0.2"))
	p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 443, flow.ProtoTCP}, backends("10.1.0.1", "2001:db8:1::2"))

	for _, c := range []struct {
		name         string
		id           uint32 // the datagrams' identification
		earlier, cut []byte // whole datagrams, TCP with 300 bytes of payload
		first, later func(body []byte) []byte
	}{{
		name: "IPv4",
		id:   0x1234,
		// 203.0.113.9:4000 > 198.51.100.1:80, then :4999 > :80, ID 0x1234
		earlier: pkt.TCP4("203.0.113.9:4000", "198.51.100.1:80", pkt.SYN, make([]byte, 300)),
		cut:     pkt.TCP4("203.0.113.9:4999", "198.51.100.1:80", pkt.SYN, make([]byte, 300)),
		first: func(body []byte) []byte {
			return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.9"), Dst: pkt.Addr("198.51.100.1"), ID: 0x1234,
				Flags: pkt.MF, Protocol: pkt.ProtoTCP}, Payload: body[:8]}.Bytes()
		},
		later: func(body []byte) []byte {
			return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.9"), Dst: pkt.Addr("198.51.100.1"), ID: 0x1234,
				FragOffset: 1, Protocol: pkt.ProtoTCP}, Payload: body[8:]}.Bytes()
		},
	}, {
		name: "IPv6",
		// 32 bits of identification (RFC 8200 section 4.5), all of them
		// the datagram's.
		id: 0x89ab1234,
		// [2001:db8::9]:4000 > [2001:db8::80]:443, then :4999 > :443, ID 0x89ab1234
		earlier: pkt.TCP6("[2001:db8::9]:4000", "[2001:db8::80]:443", pkt.SYN, make([]byte, 300)),
		cut:     pkt.TCP6("[2001:db8::9]:4999", "[2001:db8::80]:443", pkt.SYN, make([]byte, 300)),
		first: func(body []byte) []byte {
			return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::9"), Dst: pkt.Addr("2001:db8::80"), Protocol: pkt.ProtoTCP,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, More: true, ID: 0x89ab1234}}}, Payload: body[:8]}.Bytes()
		},
		later: func(body []byte) []byte {
			return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::9"), Dst: pkt.Addr("2001:db8::80"), Protocol: pkt.ProtoTCP,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 1, ID: 0x89ab1234}}}, Payload: body[8:]}.Bytes()
		},
	}} {
		b := sendDatagram(t, p, fragment(t, c.earlier, c.id, 3))
		hl := 20
		if c.cut[12] == 0x86 {
			hl = 40
		}
		body := c.cut[14+hl:]
		if _, err := flow.Parse(c.first(body)); err == nil {
			t.Fatalf("%s: the cut first fragment parses", c.name)
		}
		if v, _ := runBoth(t, p, c.first(body)); v != Pass {
			t.Fatalf("%s: cut first fragment: verdict %d, want pass", c.name, v)
		}
		if v, to := runBoth(t, p, c.later(body)); v != Pass {
			t.Errorf("%s: later fragment of a datagram whose cut first fragment passed: verdict %d to %v "+
				"(the earlier datagram's backend is %v), want pass", c.name, v, to, b)
		}
	}
}

// TestKernel_FragmentsCutNotFirst: only a frame that shows a first
// fragment deletes a datagram's fragment entry when it does not parse. A
// cut or broken frame that shows a later fragment (an IPv6 fragment header
// with an offset and the M flag), a whole packet (MF clear and offset 0:
// an IPv4 header, or an IPv6 atomic fragment) with the datagram's
// identification, or an IPv4 header whose length field is below 5 words
// (no IPv4 header at all), leaves the entry: the datagram's remaining
// fragments still follow its first fragment.
func TestKernel_FragmentsCutNotFirst(t *testing.T) {
	p := load(t, Options{Seed: 3, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("10.1.0.1", "10.1.0.2"))
	p.setVIP(t, VIP{netip.MustParseAddr("2001:db8::80"), 443, flow.ProtoTCP}, backends("10.1.0.1", "2001:db8:1::2"))

	// 203.0.113.9:4000 > 198.51.100.1:80 and [2001:db8::9]:4000 >
	// [2001:db8::80]:443, TCP with 300 bytes, in 3 fragments of ID 0x4321.
	for _, c := range []struct {
		name  string
		frags [][]byte
		bad   func(second []byte) []byte // a frame of the datagram that does not parse
	}{{
		name:  "IPv4 header length 4",
		frags: fragment(t, pkt.TCP4("203.0.113.9:4000", "198.51.100.1:80", pkt.SYN, make([]byte, 300)), 0x4321, 3),
		bad: func([]byte) []byte {
			// The first fragment's header (MF set, offset 0) with IHL 4.
			f := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.9"), Dst: pkt.Addr("198.51.100.1"), ID: 0x4321,
				Flags: pkt.MF, Protocol: pkt.ProtoTCP}, Payload: make([]byte, 40)}.Bytes()
			f[14] = 0x44
			return f
		},
	}, {
		name:  "IPv6 later fragment with a payload length short of its fragment header",
		frags: fragment(t, pkt.TCP6("[2001:db8::9]:4000", "[2001:db8::80]:443", pkt.SYN, make([]byte, 300)), 0x4321, 3),
		bad: func(second []byte) []byte {
			f := append([]byte(nil), second...)
			f[14+4], f[14+5] = 0, 4 // payload length 4: the fragment header does not fit
			return f
		},
	}, {
		name:  "IPv4 unfragmented packet cut in its TCP header",
		frags: fragment(t, pkt.TCP4("203.0.113.9:4000", "198.51.100.1:80", pkt.SYN, make([]byte, 300)), 0x4321, 3),
		bad: func([]byte) []byte {
			// The datagram's addresses, protocol and ID, but MF clear and
			// offset 0: a whole packet (RFC 791), 8 bytes of TCP header.
			return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.9"), Dst: pkt.Addr("198.51.100.1"), ID: 0x4321,
				Protocol: pkt.ProtoTCP}, Payload: make([]byte, 8)}.Bytes()
		},
	}, {
		name:  "IPv6 atomic fragment cut in its TCP header",
		frags: fragment(t, pkt.TCP6("[2001:db8::9]:4000", "[2001:db8::80]:443", pkt.SYN, make([]byte, 300)), 0x4321, 3),
		bad: func([]byte) []byte {
			// The datagram's addresses and ID in a fragment header with
			// offset 0 and M clear: an atomic fragment, a whole packet
			// (RFC 8200 section 4.5, RFC 6946), 8 bytes of TCP header.
			return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::9"), Dst: pkt.Addr("2001:db8::80"), Protocol: pkt.ProtoTCP,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, ID: 0x4321}}}, Payload: make([]byte, 8)}.Bytes()
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			bad := c.bad(c.frags[1])
			if _, err := flow.Parse(bad); err == nil {
				t.Fatal("the broken frame parses")
			}
			if c.frags[1][12] == 0x86 {
				if off := binary.BigEndian.Uint16(c.frags[1][14+40+2:]); off&0xfff8 == 0 || off&1 == 0 {
					t.Fatalf("the second fragment's fragment header shows offset and M %#04x, want a later fragment with M set", off)
				}
			}
			b := sendDatagram(t, p, c.frags[:2])
			if v, _ := runBoth(t, p, bad); v != Pass {
				t.Fatalf("broken frame: verdict %d, want pass", v)
			}
			if v, to := runBoth(t, p, c.frags[2]); v != TX || to != b {
				t.Errorf("last fragment after the broken frame: verdict %d to %v, want TX to %v, as its first fragment", v, to, b)
			}
		})
	}
}
