package flow_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// checkInvariants checks what must hold for any input: the error matches
// exactly one sentinel and its Outcome; an accepted packet has a valid key
// made of the packet's own bytes and offsets inside it.
func checkInvariants(t *testing.T, frame []byte, info flow.Info, err error, raw bool) {
	t.Helper()
	if err != nil {
		n := 0
		for _, s := range []error{flow.ErrTruncated, flow.ErrNotIP, flow.ErrMalformed} {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %q matches %d sentinels", err, n)
		}
		if flow.OutcomeOf(err) == flow.OutcomeOK {
			t.Fatalf("error %q has outcome ok", err)
		}
		if info != (flow.Info{}) {
			t.Fatalf("info %+v with error %v", info, err)
		}
		return
	}
	if flow.OutcomeOf(err) != flow.OutcomeOK {
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
	if l3 != wantL3 || int(info.VLANTags) > flow.MaxVLANTags {
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
	if info.Fragment == flow.LaterFragment {
		if l4 != 0 || !bytes.Equal(ports, make([]byte, 4)) {
			t.Fatalf("later fragment with L4Offset %d, ports %x", l4, ports)
		}
		return
	}
	if l4 < l3+20 || l4 > len(frame) {
		t.Fatalf("L4Offset %d outside [%d, %d]", l4, l3+20, len(frame))
	}
	switch k.Proto() {
	case flow.ProtoTCP, flow.ProtoUDP:
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
	for _, s := range flow.SeedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		info, err := flow.Parse(frame)
		checkInvariants(t, frame, info, err, false)
		if err == nil {
			ip, err := flow.ParseIP(frame[info.L3Offset:])
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
	for _, s := range flow.SeedFrames() {
		if len(s) > 14 {
			f.Add(s[14:]) // the IP packet (or garbage for non-IP seeds)
		}
	}
	// a single byte of each version
	for v := range 16 {
		f.Add([]byte{byte(v<<4 | 5)})
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		info, err := flow.ParseIP(pkt)
		checkInvariants(t, pkt, info, err, true)
		if err == nil {
			// The same packet behind an Ethernet header gives the same key.
			et := uint16(0x0800)
			if pkt[0]>>4 == 6 {
				et = 0x86dd
			}
			frame := make([]byte, 14, 14+len(pkt))
			binary.BigEndian.PutUint16(frame[12:], et)
			fr, ferr := flow.Parse(append(frame, pkt...))
			if ferr != nil || fr.Key != info.Key {
				t.Fatalf("Parse with an Ethernet header = %v, %v; ParseIP gave %v", fr.Key, ferr, info.Key)
			}
		}
		if v := compare(pkt, true); !v.agree() && explain(v) == "" {
			t.Fatalf("unexplained mismatch with gopacket: %v", v)
		}
	})
}

// FuzzKeyFromBytes decodes arbitrary canonical bytes: only 13 or 37 bytes
// make a key, whose bytes, accessors, reverse and hash agree with them.
func FuzzKeyFromBytes(f *testing.F) {
	k4 := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	k6 := flow.MustKey("2001:db8::1", "2001:db8::2", 443, 51000, flow.ProtoTCP)
	f.Add(k4.Bytes())                   // IPv4
	f.Add(k6.Bytes())                   // IPv6
	f.Add(k4.Bytes()[:12])              // one byte short
	f.Add(append(k6.Bytes(), 0))        // one byte long
	f.Add([]byte{})                     // empty
	f.Add(make([]byte, flow.MaxKeyLen)) // all zero IPv6
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := flow.KeyFromBytes(b)
		if (err == nil) != (len(b) == flow.KeyLen4 || len(b) == flow.KeyLen6) {
			t.Fatalf("%d bytes: error %v", len(b), err)
		}
		if err != nil {
			if k.IsValid() || k.String() != "invalid flow" {
				t.Fatalf("error %v with key %v", err, k)
			}
			return
		}
		if !bytes.Equal(k.Bytes(), b) || !bytes.Equal(k.AppendBytes(nil), b) || k.Len() != len(b) || k.Is4() != (len(b) == flow.KeyLen4) {
			t.Fatalf("key of %x has bytes %x, length %d", b, k.Bytes(), k.Len())
		}
		a := 4
		if k.Is6() {
			a = 16
		}
		if !bytes.Equal(k.Src().AsSlice(), b[:a]) || !bytes.Equal(k.Dst().AsSlice(), b[a:2*a]) ||
			k.SrcPort() != binary.BigEndian.Uint16(b[2*a:]) || k.DstPort() != binary.BigEndian.Uint16(b[2*a+2:]) || k.Proto() != b[len(b)-1] {
			t.Fatalf("accessors of %x: %v", b, k)
		}
		r := k.Reverse()
		if r.Reverse() != k || r.Src() != k.Dst() || r.SrcPort() != k.DstPort() || r.Proto() != k.Proto() {
			t.Fatalf("reverse of %v is %v", k, r)
		}
		if k.Hash(7) != flow.Hash64(b, 7) {
			t.Fatalf("hash of %v differs from Hash64 of its bytes", k)
		}
		_ = k.String()
	})
}

// FuzzKeyFromPadded decodes arbitrary padded keys: only 40 bytes with a
// length byte of 13 or 37 and zero padding make a key, and that key pads
// back to exactly the input; every valid key's padded form decodes to it.
func FuzzKeyFromPadded(f *testing.F) {
	k4 := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	k6 := flow.MustKey("2001:db8::1", "2001:db8::2", 443, 51000, flow.ProtoTCP)
	p4, p6 := k4.Padded(), k6.Padded()
	f.Add(p4[:])                        // IPv4
	f.Add(p6[:])                        // IPv6
	f.Add(p4[:39])                      // one byte short
	f.Add(append(p6[:], 0))             // one byte long
	f.Add(make([]byte, flow.PaddedLen)) // length byte 0: the zero Key's form
	bad := p4
	bad[20] = 1 // padding not zero
	f.Add(bad[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := flow.KeyFromPadded(b)
		n := 0
		if len(b) == flow.PaddedLen {
			n = int(b[flow.PaddedLen-1])
		}
		zero := n > 0 && n < flow.PaddedLen && bytes.Count(b[n:flow.PaddedLen-1], []byte{0}) == flow.PaddedLen-1-n
		if want := (n == flow.KeyLen4 || n == flow.KeyLen6) && zero; (err == nil) != want {
			t.Fatalf("%x: error %v, want a key: %v", b, err, want)
		}
		if err != nil {
			if k.IsValid() || !strings.HasPrefix(err.Error(), "flow: padded key") {
				t.Fatalf("error %v with key %v", err, k)
			}
			return
		}
		if p := k.Padded(); !bytes.Equal(p[:], b) || !bytes.Equal(k.Bytes(), b[:n]) {
			t.Fatalf("key %v of %x pads to %x", k, b, p)
		}
		if kb, err := flow.KeyFromBytes(b[:n]); err != nil || kb != k {
			t.Fatalf("KeyFromBytes of the same bytes: %v, %v", kb, err)
		}
	})
}
