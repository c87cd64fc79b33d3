//go:build linux

package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// ruleFrames are frames at the limits the parsing rules of flow/doc.go
// name: tag and extension header counts, every tag TPID, every extension
// header kind (AH counts its length in 4-byte units), IHL and total length
// bounds, fragments, and the transport header sizes. Each comes with what
// the rules say it is: the key's String or an outcome.
func ruleFrames() []struct {
	name, want string
	frame      []byte
} {
	a4, b4 := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	a6, b6 := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8::2")
	udp := &pkt.UDP{SrcPort: 5353, DstPort: 53}
	tags := func(n int) []pkt.VLAN {
		tpids := []uint16{0x88a8, 0x8100, 0x9100}
		v := make([]pkt.VLAN, n)
		for i := range v {
			v[i] = pkt.VLAN{TPID: tpids[i%len(tpids)], ID: uint16(10 + i)}
		}
		return v
	}
	exts := func(n int, last uint8) []pkt.Ext {
		e := make([]pkt.Ext, n)
		kinds := []uint8{pkt.ExtHopByHop, pkt.ExtDstOpts, pkt.ExtRouting, pkt.ExtAH}
		for i := range e {
			e[i] = pkt.Ext{Type: kinds[i%len(kinds)], Data: make([]byte, 6+8*(i%2))}
		}
		if n > 0 {
			e[n-1].Type = last
		}
		return e
	}
	v4 := func(f pkt.Frame, h pkt.IPv4) []byte {
		h.Src, h.Dst = a4, b4
		f.IP4 = &h
		return f.Bytes()
	}
	v6 := func(f pkt.Frame, h pkt.IPv6) []byte {
		h.Src, h.Dst = a6, b6
		f.IP6 = &h
		return f.Bytes()
	}
	// withVersion returns frame with the IP header's version nibble (the
	// header starts at byte 14) set to v, its IHL or traffic class kept.
	withVersion := func(frame []byte, v byte) []byte {
		frame[14] = v<<4 | frame[14]&0x0f
		return frame
	}
	const (
		udp4 = "10.0.0.1:5353 > 10.0.0.2:53 udp"
		udp6 = "[2001:db8::1]:5353 > [2001:db8::2]:53 udp"
	)
	payload := []byte("rule payload")
	return []struct {
		name, want string
		frame      []byte
	}{
		{"8 tags of every TPID", udp4, v4(pkt.Frame{VLANs: tags(8), UDP: udp, Payload: payload}, pkt.IPv4{})},
		{"9 tags", "malformed", v4(pkt.Frame{VLANs: tags(9), UDP: udp, Payload: payload}, pkt.IPv4{})},
		{"tag 0x88a8", udp4, v4(pkt.Frame{VLANs: []pkt.VLAN{{TPID: 0x88a8, ID: 1}}, UDP: udp}, pkt.IPv4{})},
		{"tag 0x9100", udp4, v4(pkt.Frame{VLANs: []pkt.VLAN{{TPID: 0x9100, ID: 1}}, UDP: udp}, pkt.IPv4{})},
		{"802.3 length field", "not-ip", pkt.Frame{EtherType: 0x05dc, Payload: make([]byte, 46)}.Bytes()},
		{"ipv4 ethertype, version 6", "malformed", v6(pkt.Frame{EtherType: 0x0800, UDP: udp}, pkt.IPv6{})},
		{"ipv6 ethertype, version 4", "malformed", v4(pkt.Frame{EtherType: 0x86dd, UDP: udp, Payload: payload}, pkt.IPv4{})},
		{"ipv4 header, version 6", "malformed", withVersion(v4(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv4{}), 6)},
		{"ipv6 header, version 4", "malformed", withVersion(v6(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv6{}), 4)},
		{"ipv4 ihl 4", "malformed", v4(pkt.Frame{UDP: udp}, pkt.IPv4{IHL: 4})},
		{"ipv4 ihl 15", udp4, v4(pkt.Frame{UDP: udp}, pkt.IPv4{Options: make([]byte, 40)})},
		{"ipv4 options past the frame", "truncated", v4(pkt.Frame{}, pkt.IPv4{IHL: 15, TotalLength: 60, Protocol: 17})},
		{"ipv4 later fragment, options past the frame", "truncated", v4(pkt.Frame{}, pkt.IPv4{IHL: 15, TotalLength: 60, FragOffset: 1, Protocol: 17})},
		{"ipv4 total length below ihl", "malformed", v4(pkt.Frame{UDP: udp}, pkt.IPv4{Options: make([]byte, 4), TotalLength: 23})},
		{"ipv4 total length ends in udp", "truncated", v4(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv4{TotalLength: 27})},
		{"ipv4 padding not parsed", "truncated", v4(pkt.Frame{Pad: 20}, pkt.IPv4{TotalLength: 20, Protocol: 6})},
		{"ipv4 first fragment", udp4, v4(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv4{Flags: pkt.MF})},
		{"ipv4 df", udp4, v4(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv4{Flags: pkt.DF})},
		{"ipv4 later fragment", "10.0.0.1:0 > 10.0.0.2:0 udp", v4(pkt.Frame{Payload: payload}, pkt.IPv4{FragOffset: 1, Protocol: 17})},
		{"ipv4 last fragment", "10.0.0.1:0 > 10.0.0.2:0 tcp", v4(pkt.Frame{}, pkt.IPv4{FragOffset: 8191, Protocol: 6})},
		{"ipv4 fragment offset 4096", "10.0.0.1:0 > 10.0.0.2:0 udp", v4(pkt.Frame{Payload: payload}, pkt.IPv4{FragOffset: 4096, Protocol: 17})},
		{"ipv6 hop-by-hop", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(1, pkt.ExtHopByHop)})},
		{"ipv6 routing", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(1, pkt.ExtRouting)})},
		{"ipv6 destination options", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(1, pkt.ExtDstOpts)})},
		{"ipv6 ah", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: []pkt.Ext{{Type: pkt.ExtAH, Data: make([]byte, 22)}}})},
		{"ipv6 atomic fragment", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: []pkt.Ext{{Type: pkt.ExtFragment, ID: 9}}})},
		{"ipv6 first fragment", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: []pkt.Ext{{Type: pkt.ExtFragment, More: true, ID: 9}}})},
		{"ipv6 later fragment", "[2001:db8::1]:0 > [2001:db8::2]:0 udp", v6(pkt.Frame{Payload: payload}, pkt.IPv6{Protocol: 17, Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 3, ID: 9}}})},
		{"ipv6 fragment offset 1", "[2001:db8::1]:0 > [2001:db8::2]:0 udp", v6(pkt.Frame{Payload: payload}, pkt.IPv6{Protocol: 17, Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 1, More: true, ID: 9}}})},
		{"ipv6 fragment offset 4096", "[2001:db8::1]:0 > [2001:db8::2]:0 udp", v6(pkt.Frame{Payload: payload}, pkt.IPv6{Protocol: 17, Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 4096, ID: 9}}})},
		{"ipv6 later fragment of an ah", "[2001:db8::1]:0 > [2001:db8::2]:0 ah", v6(pkt.Frame{Payload: payload}, pkt.IPv6{Protocol: 51, Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: 3}}})},
		{"ipv6 8 extension headers", udp6, v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(8, pkt.ExtDstOpts)})},
		{"ipv6 9 extension headers", "malformed", v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(9, pkt.ExtDstOpts)})},
		{"ipv6 ninth a fragment header", "malformed", v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(9, pkt.ExtFragment)})},
		{"ipv6 ninth an ah", "malformed", v6(pkt.Frame{UDP: udp}, pkt.IPv6{Ext: exts(9, pkt.ExtAH)})},
		{"ipv6 esp", "[2001:db8::1]:0 > [2001:db8::2]:0 esp", v6(pkt.Frame{Payload: payload}, pkt.IPv6{Protocol: 50})},
		{"ipv6 payload length 0", udp6, v6(pkt.Frame{UDP: udp, Payload: payload}, pkt.IPv6{PayloadLength: -1})},
		{"tcp data offset 4", "malformed", v4(pkt.Frame{TCP: &pkt.TCP{SrcPort: 1, DstPort: 2, DataOffset: 4}}, pkt.IPv4{})},
		{"tcp data offset 15", "10.0.0.1:1 > 10.0.0.2:2 tcp", v4(pkt.Frame{TCP: &pkt.TCP{SrcPort: 1, DstPort: 2, DataOffset: 15}}, pkt.IPv4{})},
		{"icmp in ipv6", "[2001:db8::1]:0 > [2001:db8::2]:0 icmp", v6(pkt.Frame{ICMP: &pkt.ICMP{Type: 8}}, pkt.IPv6{})},
		{"icmpv6 in ipv4", "10.0.0.1:0 > 10.0.0.2:0 icmpv6", v4(pkt.Frame{ICMPv6: &pkt.ICMPv6{Type: 128}}, pkt.IPv4{})},
		{"ipv6 icmpv6 behind ah", "[2001:db8::1]:0 > [2001:db8::2]:0 icmpv6", v6(pkt.Frame{ICMPv6: &pkt.ICMPv6{Type: 128}}, pkt.IPv6{Ext: exts(2, pkt.ExtAH)})},
	}
}

// TestKernel_Rules runs the frames at the rules' limits through kernel and
// Go: both must say what the rules say, for the whole frame, for every cut
// of it, and with its IP length field (IPv4 total length, IPv6 payload
// length) set to each value from 0 to 255. The captures, the mutations of
// baseFrames and the length sweep hold no frame with more than a few tags
// or extension headers, and none with AH: a kernel that allowed seven tags
// or extension headers, or read AH's length in 8-byte units, passed them.
func TestKernel_Rules(t *testing.T) {
	k := loadKernel(t)
	outcomes := map[flow.Outcome]int{}
	for _, c := range ruleFrames() {
		info, err := flow.Parse(c.frame)
		got := flow.OutcomeOf(err).String()
		if err == nil {
			got = info.Key.String()
		}
		if got != c.want {
			t.Errorf("%s: Go says %s (%v), the rules say %s", c.name, got, err, c.want)
		}
		frames := [][]byte{c.frame}
		for n := 14; n < len(c.frame); n++ {
			frames = append(frames, c.frame[:n:n])
		}
		if err == nil {
			off := int(info.L3Offset) + 2 // IPv4 total length
			if info.Key.Is6() {
				off = int(info.L3Offset) + 4 // IPv6 payload length
			}
			for v := range 256 {
				f := append([]byte(nil), c.frame...)
				binary.BigEndian.PutUint16(f[off:], uint16(v))
				frames = append(frames, f)
			}
		}
		for i, f := range frames {
			e := runOne(t, k, f)
			if m := mismatch(e, f); m != "" {
				t.Errorf("%s, variant %d (% x): %s", c.name, i, f, m)
				break
			}
			outcomes[e.Outcome]++
		}
	}
	t.Logf("outcomes %v", outcomes)
}
