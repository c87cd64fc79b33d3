//go:build linux

package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// ECN codepoints (RFC 3168 section 5).
const (
	ecnNotECT = 0
	ecnECT1   = 1
	ecnECT0   = 2
	ecnCE     = 3
)

// rfc6040 is the decapsulation table of RFC 6040 section 4.2 (Figure 4),
// written out: the inner packet's ECN field after decapsulation, indexed
// by the arriving inner and outer fields' codepoints (so ECT(1) comes
// before ECT(0), unlike the RFC's columns); -1 is a drop.
var rfc6040 = [4][4]int{
	//              outer: Not-ECT     ECT(1)      ECT(0)      CE
	ecnNotECT: {ecnNotECT: ecnNotECT, ecnECT1: ecnNotECT, ecnECT0: ecnNotECT, ecnCE: -1},
	ecnECT1:   {ecnNotECT: ecnECT1, ecnECT1: ecnECT1, ecnECT0: ecnECT1, ecnCE: ecnCE},
	ecnECT0:   {ecnNotECT: ecnECT0, ecnECT1: ecnECT1, ecnECT0: ecnECT0, ecnCE: ecnCE},
	ecnCE:     {ecnNotECT: ecnCE, ecnECT1: ecnCE, ecnECT0: ecnCE, ecnCE: ecnCE},
}

var ecnNames = [4]string{"Not-ECT", "ECT(1)", "ECT(0)", "CE"}

// The backend addresses of the decap tests: decapFor loads the program
// for them, and the tests' outer headers are addressed to them unless a
// test says otherwise.
var (
	backend4 = netip.MustParseAddr("10.200.11.2")
	backend6 = netip.MustParseAddr("2001:db8:11::2")
)

// decapModel is decap.bpf.c in Go, loaded for backend4 and backend6 (see
// decapModelFor). FuzzKernelDecap holds the program to it.
func decapModel(frame []byte) (uint32, []byte) {
	return decapModelFor(frame, backend4.As4(), backend6.As16())
}

// decapModelFor is decap.bpf.c in Go, loaded with local4 and local6 (all
// zero: no address of that family): the verdict (XDP_DROP 1, XDP_PASS 2)
// and, for XDP_PASS, the frame the stack receives.
func decapModelFor(frame []byte, local4 [4]byte, local6 [16]byte) (uint32, []byte) {
	const drop, pass = 1, 2
	if len(frame) < 14+40 {
		return pass, frame
	}
	ip := frame[14:]
	var nh, outer uint8
	var hl, n int // n: the outer packet's length, as its header says
	switch {
	case frame[12] == 0x08 && frame[13] == 0x00:
		if ip[0] != 0x45 || ip[6]&0x3f != 0 || ip[7] != 0 {
			return pass, frame
		}
		// A bad header checksum or a total length below the header's: the
		// stack drops the packet, and no tunnel sees it.
		if pkt.Checksum(ip[:20]) != 0 || int(ip[2])<<8|int(ip[3]) < 20 {
			return pass, frame
		}
		if local4 == [4]byte{} || [4]byte(ip[16:20]) != local4 {
			return pass, frame // not addressed to this backend
		}
		nh, hl, outer, n = ip[9], 20, ip[1]&3, int(ip[2])<<8|int(ip[3])
	case frame[12] == 0x86 && frame[13] == 0xdd:
		if ip[0]>>4 != 6 {
			return pass, frame
		}
		if local6 == [16]byte{} || [16]byte(ip[24:40]) != local6 {
			return pass, frame
		}
		nh, hl, outer, n = ip[6], 40, ip[1]>>4&3, 40+(int(ip[4])<<8|int(ip[5]))
	default:
		return pass, frame
	}
	if nh != 4 && nh != 41 {
		return pass, frame
	}
	if n > len(ip) {
		return pass, frame // cut short: the stack drops it
	}
	out := append(append([]byte{}, frame[:12]...), 0x86, 0xdd)
	if nh == 4 {
		out[12], out[13] = 0x08, 0x00
	}
	out = append(out, ip[hl:n]...) // without the padding after the outer packet
	in := out[14:]
	// The inner header must be whole for the ECN step: IPv4's 20 bytes
	// (its checksum is updated), or the 2 bytes of IPv6 that hold the
	// traffic class.
	need := 2
	if nh == 4 {
		need = 20
	}
	if (outer == ecnCE || outer == ecnECT1) && len(in) >= need {
		var ecn uint8
		if nh == 4 {
			ecn = in[1] & 3
		} else {
			ecn = in[1] >> 4 & 3
		}
		to := rfc6040[ecn][outer]
		if to < 0 {
			return drop, nil
		}
		if uint8(to) == ecn {
			return pass, out // unchanged: the checksum too, even a wrong 0xffff
		}
		if nh == 4 {
			// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the first word.
			m := uint16(in[0])<<8 | uint16(in[1])
			in[1] = in[1]&^3 | uint8(to)
			hc := uint16(in[10])<<8 | uint16(in[11])
			c := ^onesAdd(onesAdd(^hc, ^m), uint16(in[0])<<8|uint16(in[1]))
			in[10], in[11] = uint8(c>>8), uint8(c)
		} else {
			in[1] = in[1]&0xcf | uint8(to)<<4
		}
	}
	return pass, out
}

// decapFor loads the decap program for backend4 and backend6, or skips
// tb without BPF privileges (kerneltest.Require), and closes it when tb
// ends.
func decapFor(tb testing.TB) *decapObjects {
	tb.Helper()
	return decapAt(tb, backend4, backend6)
}

// decapAt is decapFor with the backend's addresses local.
func decapAt(tb testing.TB, local ...netip.Addr) *decapObjects {
	tb.Helper()
	kerneltest.Require(tb)
	objs, err := newDecap(local...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { objs.Close() })
	return objs
}

// mustHex decodes s, or panics.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// onesAdd and onesSub are one's-complement 16-bit addition and
// subtraction (RFC 1071).
func onesAdd(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s&0xffff + s>>16)
}

func onesSub(a, b uint16) uint16 { return onesAdd(a, ^b) }

// TestDecap_ECN: for each of the 16 pairs of arriving inner and outer ECN
// fields, and each of the four pairings of families, the inner packet
// leaves with the field RFC 6040's table gives (or is dropped where it
// says drop), its DSCP unchanged, its IPv4 header checksum still right,
// and every other byte as it came.
func TestDecap_ECN(t *testing.T) {
	objs := decapFor(t)

	const dscp = 46 << 2 // expedited forwarding, so that a DSCP mangled by the ECN update shows
	inner := func(six bool, ecn uint8) []byte {
		f := pkt.Frame{UDP: &pkt.UDP{SrcPort: 5353, DstPort: 7000}, Payload: make([]byte, 32)}
		if six {
			f.IP6 = &pkt.IPv6{Src: pkt.Addr("2001:db8::5"), Dst: pkt.Addr("2001:db8:100::1"), TrafficClass: dscp | ecn, FlowLabel: 0xabcde}
		} else {
			f.IP4 = &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("10.200.100.1"), TOS: dscp | ecn, ID: 0x1234}
		}
		return f.Bytes()[14:]
	}
	outer := func(six bool, ecn uint8, payload []byte) []byte {
		next := uint8(4)
		if payload[0]>>4 == 6 {
			next = 41
		}
		if six {
			return pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"),
				TrafficClass: ecn, Protocol: next}, Payload: payload}.Bytes()
		}
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"),
			TOS: ecn, Protocol: next}, Payload: payload}.Bytes()
	}
	fam := map[bool]string{false: "IPv4", true: "IPv6"}
	for _, o6 := range []bool{false, true} {
		for _, i6 := range []bool{false, true} {
			for in := range uint8(4) {
				for out := range uint8(4) {
					name := fmt.Sprintf("%s in %s, inner %s, outer %s", fam[i6], fam[o6], ecnNames[in], ecnNames[out])
					frame := outer(o6, out, inner(i6, in))
					v, got := kerneltest.Run(t, objs.XdpDecap, frame)
					want := rfc6040[in][out]
					if want < 0 {
						if v != 1 {
							t.Errorf("%s: verdict %d, want XDP_DROP", name, v)
						}
						continue
					}
					exp := inner(i6, uint8(want)) // the builder computes the checksum afresh
					if v != 2 || len(got) < 14 || !bytes.Equal(got[14:], exp) {
						t.Errorf("%s: verdict %d, inner packet\n%x\nwant XDP_PASS with %s, DSCP kept:\n%x", name, v, got[min(14, len(got)):], ecnNames[want], exp)
					}
					if mv, mf := decapModel(frame); mv != v || !bytes.Equal(mf, got) {
						t.Errorf("%s: the model says verdict %d, frame %x", name, mv, mf)
					}
				}
			}
		}
	}
}

// TestDecap_ECNEdges: what the ECN step leaves alone. A wrong inner IPv4
// checksum stays exactly as wrong (an incremental update, which a router
// may rely on to keep a corrupt header detectable); an inner header the
// frame does not hold whole is not marked, just decapsulated, as an ipip
// device leaves it for the stack to drop; and the DSCP and ECN of the
// outer header never reach an inner packet beyond what the table says.
func TestDecap_ECNEdges(t *testing.T) {
	objs := decapFor(t)

	in4 := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("10.200.100.1"), TOS: ecnECT0, BadChecksum: true},
		UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()[14:]
	frame := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), TOS: 0xfc | ecnCE, Protocol: 4},
		Payload: in4}.Bytes()
	v, got := kerneltest.Run(t, objs.XdpDecap, frame)
	if v != 2 || len(got) != len(frame)-20 {
		t.Fatalf("bad inner checksum: verdict %d, %d bytes; want XDP_PASS, %d", v, len(got), len(frame)-20)
	}
	if got[15] != ecnCE {
		t.Errorf("bad inner checksum: inner TOS %#x, want %#x (CE, the outer DSCP not copied)", got[15], ecnCE)
	}
	// The checksum's error (what it lacks to be right) is unchanged.
	errBefore := onesSub(uint16(in4[10])<<8|uint16(in4[11]), pkt.Checksum(append(append([]byte{}, in4[:10]...), append([]byte{0, 0}, in4[12:20]...)...)))
	errAfter := onesSub(uint16(got[24])<<8|uint16(got[25]), pkt.Checksum(append(append([]byte{}, got[14:24]...), append([]byte{0, 0}, got[26:34]...)...)))
	if errBefore == 0 || errBefore != errAfter {
		t.Errorf("inner checksum error %#04x before, %#04x after; want the same, not zero", errBefore, errAfter)
	}
	if mv, mf := decapModel(frame); mv != v || !bytes.Equal(mf, got) {
		t.Errorf("bad inner checksum: the model says verdict %d, frame %x; kernel %x", mv, mf, got)
	}

	// The checksum's edges (RFC 1624 section 3), under an outer CE: an
	// inner header whose right checksum is 0x0000 before the change, and
	// one whose right checksum is 0x0000 after it (RFC 1141's update,
	// HC + m + ~m', gives 0xffff there), each compared with the checksum
	// computed afresh; and a wrong 0xffff in a header the mark does not
	// change (inner CE), left as it is.
	withID := func(tos uint8, id uint16) []byte {
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("10.200.100.1"), TOS: tos, ID: id},
			UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()[14:]
	}
	zeroBefore, zeroAfter := -1, -1 // the IDs that give those checksums
	for id := range 1 << 16 {
		if b := withID(ecnECT0, uint16(id)); b[10] == 0 && b[11] == 0 {
			zeroBefore = id
		}
		if b := withID(ecnCE, uint16(id)); b[10] == 0 && b[11] == 0 {
			zeroAfter = id
		}
	}
	if zeroBefore < 0 || zeroAfter < 0 {
		t.Fatalf("no ID gives a checksum of 0: %d, %d", zeroBefore, zeroAfter)
	}
	wrong := withID(ecnCE, 7)
	wrong[10], wrong[11] = 0xff, 0xff
	for _, c := range []struct {
		name        string
		inner, want []byte
	}{
		{"checksum 0x0000 before", withID(ecnECT0, uint16(zeroBefore)), withID(ecnCE, uint16(zeroBefore))},
		{"checksum 0x0000 after", withID(ecnECT0, uint16(zeroAfter)), withID(ecnCE, uint16(zeroAfter))},
		{"wrong checksum 0xffff, no change", wrong, wrong},
	} {
		frame := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), TOS: ecnCE, Protocol: 4},
			Payload: c.inner}.Bytes()
		v, got := kerneltest.Run(t, objs.XdpDecap, frame)
		if v != 2 || len(got) < 14 || !bytes.Equal(got[14:], c.want) {
			t.Errorf("%s: verdict %d, inner packet\n%x\nwant XDP_PASS with\n%x", c.name, v, got[min(14, len(got)):], c.want)
		}
		if mv, mf := decapModel(frame); mv != v || !bytes.Equal(mf, got) {
			t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
		}
	}

	// Under an outer CE: IPv6 in IPv6 with 1 byte of inner header, and IPv4
	// in IPv6 with 19, too short to read (IPv6) or to fix the checksum of
	// (IPv4), pass unmarked; 2 bytes of IPv6, enough to hold the traffic
	// class, are marked.
	for _, c := range []struct {
		name        string
		next        uint8
		inner, want []byte
	}{
		{"1 byte of inner IPv6", 41, []byte{0x60}, []byte{0x60}},
		{"2 bytes of inner IPv6", 41, []byte{0x6b, 0xaf}, []byte{0x6b, 0xbf}}, // ECT(0) becomes CE; DSCP 46
		{"19 bytes of inner IPv4", 4, in4[:19], in4[:19]},
	} {
		frame := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"), TrafficClass: ecnCE, Protocol: c.next},
			Payload: c.inner}.Bytes()
		v, got := kerneltest.Run(t, objs.XdpDecap, frame)
		if v != 2 || len(got) < 14 || !bytes.Equal(got[14:], c.want) {
			t.Errorf("%s: verdict %d, frame %x; want XDP_PASS with inner bytes %x", c.name, v, got, c.want)
		}
		if mv, mf := decapModel(frame); mv != v || !bytes.Equal(mf, got) {
			t.Errorf("%s: the model says verdict %d, frame %x", c.name, mv, mf)
		}
	}
}

// FuzzKernelDecap holds the decap program to decapModel, frame by frame:
// the same verdict and, when it passes the frame, the same bytes. Seeds:
// IPv4, IPv6 and UDP inside IPv4 and inside IPv6 with every pair of inner
// and outer ECN fields, an inner checksum of 0xffff left as it is, frames
// it must leave alone (outer fragments, options, a wrong outer checksum,
// outer lengths the frame does not hold) and padding it must cut. Without
// BPF privileges it skips like every kernel test.
func FuzzKernelDecap(f *testing.F) {
	for inner := range uint8(4) {
		in4 := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("10.200.100.1"), TOS: inner},
			TCP: &pkt.TCP{SrcPort: 1, DstPort: 2}}.Bytes()[14:]
		in6 := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::5"), Dst: pkt.Addr("2001:db8:100::1"), TrafficClass: inner},
			UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()[14:]
		for outer := range uint8(4) {
			for _, c := range []struct {
				next  uint8
				inner []byte
			}{{4, in4}, {41, in6}, {17, in4}} {
				f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), TOS: outer, Protocol: c.next},
					Payload: c.inner}.Bytes())
				f.Add(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"), TrafficClass: outer, Protocol: c.next},
					Payload: c.inner}.Bytes())
			}
		}
	}
	// Found in review: CE inside CE with an inner checksum of 0xffff, which
	// the program leaves as it is (no change, no update).
	f.Add(mustHex("02000000000202000000000108004503003000000000400458340ac802020ac80b024503001c000000004011ffffcb0071050ac86401000100020008550c"))
	in4 := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("10.200.100.1"), TOS: ecnECT0},
		TCP: &pkt.TCP{SrcPort: 1, DstPort: 2}}.Bytes()[14:]
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, Flags: pkt.MF}, Payload: in4}.Bytes())
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, Options: []byte{1, 1, 1, 1}}, Payload: in4}.Bytes())
	f.Add(pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", make([]byte, 64)))
	// Outer headers the stack would drop (a wrong checksum, lengths past
	// the frame or below the header) and padding after the outer packet.
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, TOS: ecnCE, BadChecksum: true}, Payload: in4}.Bytes())
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, TotalLength: 19}, Payload: in4}.Bytes())
	f.Add(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, TotalLength: 30}, Payload: in4}.Bytes())
	f.Add(append(pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), Protocol: 4, TOS: ecnCE}, Payload: in4}.Bytes(), 0, 0, 0, 0))
	f.Add(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"), Protocol: 4, PayloadLength: len(in4) + 1}, Payload: in4}.Bytes())
	f.Add(append(pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8:2::2"), Dst: pkt.Addr("2001:db8:11::2"), Protocol: 4, TrafficClass: ecnECT1}, Payload: in4}.Bytes(), 1, 2, 3))
	objs := decapFor(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < kerneltest.MinFrame {
			return
		}
		frame = kerneltest.Clip(frame)
		frames := [][]byte{frame}
		// A mutated outer IPv4 header almost never keeps a right checksum,
		// and such a frame passes untouched: each is also tried with its
		// checksum set right, so that what lies beyond the check is fuzzed
		// too.
		if len(frame) >= 34 && frame[12] == 0x08 && frame[13] == 0x00 {
			fixed := append([]byte{}, frame...)
			fixed[24], fixed[25] = 0, 0
			c := pkt.Checksum(fixed[14:34])
			fixed[24], fixed[25] = byte(c>>8), byte(c)
			frames = append(frames, fixed)
		}
		for _, frame := range frames {
			v, got := kerneltest.Run(t, objs.XdpDecap, frame)
			mv, mf := decapModel(frame)
			if v != mv || (v == 2 && !bytes.Equal(got, mf)) {
				t.Fatalf("frame % x:\nkernel verdict %d, frame % x\nmodel  verdict %d, frame % x", frame, v, got, mv, mf)
			}
		}
	})
}
