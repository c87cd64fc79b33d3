package flow

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzSeeds are the starting frames of FuzzParse: every table case of
// parse_test.go (each commented there) and a few more.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, c := range parseCases() {
		seeds = append(seeds, c.frame)
	}
	seeds = append(seeds,
		// eth 0800 | ipv4 udp | udp 5353 > 53 | 64 bytes of DNS-looking payload
		cat(eth(0x0800), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(5353, 53, bytes.Repeat([]byte{0xab}, 64)))),
		// eth 88a8 | 8100 | 86dd | ipv6 hbh | dstopts | tcp 443 > 51000 doff=8 (12 NOP option bytes)
		cat(eth(0x86dd, tag{0x88a8, 100}, dot1q(200)), ipv6(v6h{next: 0, src: a6, dst: b6}, ext(60, 0, ext(6, 0, tcp(443, 51000, 8, nil))))),
		// eth 0800 | ipv4 gre | gre 0800 | ipv4 icmp: a tunnel keyed by its outer header
		cat(eth(0x0800), ipv4(v4h{proto: 47, src: a4, dst: b4}, cat([]byte{0, 0, 8, 0}, ipv4(v4h{proto: 1, src: "192.0.2.1", dst: "192.0.2.2"}, icmp(8, nil))))),
		// 14 zero bytes: EtherType 0, an 802.3 length field
		zeros(14),
		// 60 bytes of 0xff: broadcast MACs, EtherType 0xffff
		bytes.Repeat([]byte{0xff}, 60),
	)
	return seeds
}

// checkInvariants checks what must hold for any input: the error matches
// exactly one sentinel and its Outcome; an accepted packet has a valid key
// made of the packet's own bytes and offsets inside it.
func checkInvariants(t *testing.T, frame []byte, info Info, err error, raw bool) {
	t.Helper()
	if err != nil {
		n := 0
		for _, s := range []error{ErrTruncated, ErrNotIP, ErrMalformed} {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %q matches %d sentinels", err, n)
		}
		if OutcomeOf(err) == OutcomeOK {
			t.Fatalf("error %q has outcome ok", err)
		}
		if info != (Info{}) {
			t.Fatalf("info %+v with error %v", info, err)
		}
		return
	}
	if OutcomeOf(err) != OutcomeOK {
		t.Fatal("nil error is not ok")
	}
	k := info.Key
	if !k.IsValid() {
		t.Fatalf("accepted with an invalid key: %+v", info)
	}
	l3, l4 := int(info.L3Offset), int(info.L4Offset)
	wantL3 := 14 + 4*int(info.VLANTags)
	if raw {
		wantL3 = 0
	}
	if l3 != wantL3 || int(info.VLANTags) > MaxVLANTags {
		t.Fatalf("L3Offset %d with %d tags", l3, info.VLANTags)
	}
	var addrs []byte
	if k.Is4() {
		addrs = frame[l3+12 : l3+20]
	} else {
		addrs = frame[l3+8 : l3+40]
	}
	kb := k.Bytes()
	if !bytes.Equal(kb[:len(addrs)], addrs) {
		t.Fatalf("key addresses %x are not the frame's %x", kb[:len(addrs)], addrs)
	}
	ports := kb[len(addrs) : len(addrs)+4]
	if info.Fragment == LaterFragment {
		if l4 != 0 || !bytes.Equal(ports, make([]byte, 4)) {
			t.Fatalf("later fragment with L4Offset %d, ports %x", l4, ports)
		}
		return
	}
	if l4 < l3+20 || l4 > len(frame) {
		t.Fatalf("L4Offset %d outside [%d, %d]", l4, l3+20, len(frame))
	}
	switch k.Proto() {
	case ProtoTCP, ProtoUDP:
		if !bytes.Equal(ports, frame[l4:l4+4]) {
			t.Fatalf("ports %x are not the frame's %x", ports, frame[l4:l4+4])
		}
	default:
		if !bytes.Equal(ports, make([]byte, 4)) {
			t.Fatalf("protocol %d with ports %x", k.Proto(), ports)
		}
	}
}

// FuzzParse checks that Parse never panics, that its results are
// consistent (see checkInvariants), that ParseIP agrees on the IP packet,
// and that it agrees with gopacket except in the documented categories.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		info, err := Parse(frame)
		checkInvariants(t, frame, info, err, false)
		if err == nil {
			ip, err := ParseIP(frame[info.L3Offset:])
			want := info
			want.L3Offset, want.VLANTags = 0, 0
			if want.L4Offset != 0 {
				want.L4Offset -= info.L3Offset
			}
			if err != nil || ip != want {
				t.Fatalf("ParseIP on the IP packet = %+v, %v; Parse gave %+v", ip, err, info)
			}
		}
		if v := compare(frame, false); !v.agree() && explain(v) == "" {
			t.Fatalf("unexplained mismatch with gopacket: %v", v)
		}
	})
}

// FuzzParseIP is FuzzParse for raw IP packets.
func FuzzParseIP(f *testing.F) {
	for _, s := range fuzzSeeds() {
		if len(s) > 14 {
			f.Add(s[14:]) // the IP packet (or garbage for non-IP seeds)
		}
	}
	// a single byte of each version
	for v := range 16 {
		f.Add([]byte{byte(v<<4 | 5)})
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		info, err := ParseIP(pkt)
		checkInvariants(t, pkt, info, err, true)
		if err == nil {
			// The same packet behind an Ethernet header gives the same key.
			et := uint16(0x0800)
			if pkt[0]>>4 == 6 {
				et = 0x86dd
			}
			fr, ferr := Parse(cat(eth(et), pkt))
			if ferr != nil || fr.Key != info.Key {
				t.Fatalf("Parse with an Ethernet header = %v, %v; ParseIP gave %v", fr.Key, ferr, info.Key)
			}
		}
		if v := compare(pkt, true); !v.agree() && explain(v) == "" {
			t.Fatalf("unexplained mismatch with gopacket: %v", v)
		}
	})
}
