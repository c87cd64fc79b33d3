package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// checksums reports whether the IPv4 header checksum and the upper-layer
// checksum of an Ethernet frame verify, computed from scratch; checked is
// false when the frame does not hold a whole unfragmented datagram with a
// checksum to verify.
func checksums(frame []byte) (ipOK, l4OK, checked bool) {
	info, err := flow.Parse(frame)
	if err != nil || info.Fragment != flow.NotFragment {
		return false, false, false
	}
	ip := frame[info.L3Offset:]
	proto := info.Key.Proto()
	var pseudo []byte
	var seg []byte
	ipOK = true
	if info.Key.Is4() {
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if total > len(ip) {
			return false, false, false
		}
		ipOK = pkt.Checksum(ip[:ihl]) == 0
		seg = ip[ihl:total]
		pseudo = append(append(pseudo, ip[12:20]...), 0, proto)
		pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
	} else {
		end := 40 + int(binary.BigEndian.Uint16(ip[4:]))
		if end > len(ip) || binary.BigEndian.Uint16(ip[4:]) == 0 {
			return false, false, false
		}
		seg = ip[int(info.L4Offset)-int(info.L3Offset) : end]
		pseudo = append(pseudo, ip[8:40]...)
		pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(seg)))
		pseudo = append(pseudo, 0, 0, 0, proto)
	}
	switch {
	case proto == flow.ProtoTCP, proto == flow.ProtoICMPv6 && info.Key.Is6():
	case proto == flow.ProtoUDP:
		if info.Key.Is4() && binary.BigEndian.Uint16(seg[6:]) == 0 {
			return ipOK, true, true // no checksum
		}
	case proto == flow.ProtoICMP:
		return ipOK, pkt.Checksum(seg) == 0, true
	default:
		return ipOK, true, true
	}
	return ipOK, pkt.Checksum(append(pseudo, seg...)) == 0, true
}

// keysOf returns the flow key of every parsed packet, the zero Key for the
// others.
func keysOf(pkts []capture.Packet) []flow.Key {
	out := make([]flow.Key, len(pkts))
	var buf []byte
	for i := range pkts {
		f, ok := pkts[i].Ethernet(buf)
		if !ok {
			continue
		}
		if pkts[i].Link != capture.LinkEthernet {
			buf = f // never an Ethernet packet's Data: the next conversion would overwrite it
		}
		if info, err := flow.Parse(f); err == nil {
			out[i] = info.Key
		}
	}
	return out
}

func addrsOf(keys []flow.Key) map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, k := range keys {
		if k.IsValid() {
			m[k.Src()], m[k.Dst()] = true, true
		}
	}
	return m
}

// checkAmplified checks the amplifier's promises on one capture.
func checkAmplified(t *testing.T, name string, pkts []capture.Packet, n int) {
	t.Helper()
	out, err := capture.Amplify(pkts, n)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(out) != n*len(pkts) {
		t.Fatalf("%s: %d packets, want %d", name, len(out), n*len(pkts))
	}
	a, _ := capture.NewAmplifier(pkts, n)
	if a.Copies() != n || a.Len() != len(out) {
		t.Fatalf("%s: Amplifier of %d copies says Copies %d, Len %d; want %d, %d", name, n, a.Copies(), a.Len(), n, len(out))
	}
	base := keysOf(pkts)
	flows := map[flow.Key]bool{}
	for _, k := range base {
		if k.IsValid() {
			flows[k] = true
		}
	}
	all := map[flow.Key]bool{}
	copyAddrs := make([]map[netip.Addr]bool, n)
	checked, same := 0, 0
	var ebuf, obuf []byte
	for c := range n {
		cp := out[c*len(pkts) : (c+1)*len(pkts)]
		keys := keysOf(cp)
		for i, k := range keys {
			if k != a.Key(c, base[i]) {
				t.Fatalf("%s copy %d packet %d: key %v, Amplifier.Key gives %v", name, c, i+1, k, a.Key(c, base[i]))
			}
			if k.IsValid() {
				all[k] = true
			}
			if c == 0 && string(cp[i].Data) != string(pkts[i].Data) {
				t.Fatalf("%s: copy 0 packet %d changed", name, i+1)
			}
			if want := pkts[i].Time.Add(time.Duration(c) * (out[len(pkts)].Time.Sub(pkts[0].Time))); !cp[i].Time.Equal(want) {
				t.Fatalf("%s copy %d packet %d: time %v, want %v", name, c, i+1, cp[i].Time, want)
			}
			if c > 0 {
				of, ok1 := pkts[i].Ethernet(obuf)
				cf, ok2 := cp[i].Ethernet(ebuf)
				if ok1 && ok2 {
					ip1, l41, ok := checksums(of)
					ip2, l42, _ := checksums(cf)
					if ok {
						checked++
						if ip1 != ip2 || l41 != l42 {
							t.Fatalf("%s copy %d packet %d: checksums valid %v/%v, the original's %v/%v", name, c, i+1, ip2, l42, ip1, l41)
						}
						if ip1 && l41 {
							same++
						}
					}
				}
			}
		}
		copyAddrs[c] = addrsOf(keys)
	}
	// N copies hold exactly N times the flows.
	if len(all) != n*len(flows) {
		t.Errorf("%s: %d copies hold %d distinct flows, want %d x %d", name, n, len(all), n, len(flows))
	}
	// Copies' address sets are disjoint.
	for c := 1; c < n; c++ {
		for addr := range copyAddrs[c] {
			for d := range c {
				if copyAddrs[d][addr] {
					t.Fatalf("%s: address %v in copies %d and %d", name, addr, d, c)
				}
			}
		}
	}
	t.Logf("%s: %d flows x %d copies; %d copied datagrams checked, %d with valid checksums", name, len(flows), n, checked, same)
}

func TestAmplify_SharedCaptures(t *testing.T) {
	for _, f := range traffic.Files(t) {
		n := 4
		if strings.Contains(f, "zeek-echo") || strings.Contains(f, "mpls-ipv4") {
			n = 2 // large: keep the test short
		}
		checkAmplified(t, filepath.Base(f), traffic.Load(t, f), n)
	}
}

// TestAmplify_Checksums amplifies frames with correct checksums of every
// kind (IPv4 options, UDP with and without checksum, TCP, ICMP, ICMPv6,
// IPv6 extension headers, VLAN tags, raw IP link types): every copy must
// still verify.
func TestAmplify_Checksums(t *testing.T) {
	frames := [][]byte{
		pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("query")),
		pkt.UDP4("192.168.1.10:1", "8.8.8.8:53", []byte{0xff, 0xff, 0xff}),
		pkt.TCP4("172.16.5.4:40000", "93.184.216.34:443", pkt.SYN, nil),
		pkt.TCP6("[2001:db8::1]:40000", "[2001:db8:1::2]:443", pkt.ACK, []byte("data")),
		pkt.UDP6("[fe80::1]:546", "[ff02::1:2]:547", []byte("dhcp")),
		pkt.ICMP4("10.9.9.9", "10.9.9.8", 8, 0, []byte("ping")),
		pkt.ICMP6("2001:db8::a", "2001:db8::b", 128, 0, []byte("ping")),
		pkt.Frame{VLANs: []pkt.VLAN{{ID: 5}, {ID: 6}}, IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.2.0.1"), Options: []byte{1, 1, 1, 0}},
			UDP: &pkt.UDP{SrcPort: 9, DstPort: 7}, Payload: []byte("x")}.Bytes(),
		pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.2.0.1")}, UDP: &pkt.UDP{SrcPort: 9, DstPort: 7, NoChecksum: true}}.Bytes(),
		pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Ext: []pkt.Ext{{Type: pkt.ExtHopByHop, Data: []byte{1, 4, 0, 0, 0, 0}}}},
			TCP: &pkt.TCP{SrcPort: 1, DstPort: 2}}.Bytes(),
		// A routing header with no segments left: the destination field is
		// the final destination, in the pseudo-header (RFC 8200 section 8.1).
		pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8:2::2"), Ext: []pkt.Ext{{Type: pkt.ExtRouting, Data: []byte{4, 0, 0, 0, 0, 0}}}},
			UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: []byte("routed")}.Bytes(),
	}
	t0 := time.Unix(1700000000, 0)
	var pkts []capture.Packet
	for i, f := range frames {
		pkts = append(pkts, capture.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: f, WireLen: len(f), Link: capture.LinkEthernet})
	}
	// The same datagrams as raw IP (link type 101).
	for i, f := range frames[:7] {
		pkts = append(pkts, capture.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: f[14:], WireLen: len(f) - 14, Link: capture.LinkRaw})
	}
	out, err := capture.Amplify(pkts, 50)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i, p := range out {
		f, _ := p.Ethernet(buf)
		ipOK, l4OK, checked := checksums(f)
		if !checked || !ipOK || !l4OK {
			t.Fatalf("copy %d of packet %d: checked %v, IP checksum %v, upper layer %v", i/len(pkts), i%len(pkts)+1, checked, ipOK, l4OK)
		}
		if i >= len(pkts) && string(p.Data) == string(pkts[i%len(pkts)].Data) {
			t.Fatalf("copy %d of packet %d is unchanged", i/len(pkts), i%len(pkts)+1)
		}
	}
	// UDP over IPv4 without checksum keeps 0.
	if c := out[len(pkts)+8].Data[14+20+6:]; c[0] != 0 || c[1] != 0 {
		t.Errorf("a UDP datagram without checksum got checksum % x", c[:2])
	}
	checkAmplified(t, "built", pkts, 50)
}

// TestAmplify_CookedVLAN amplifies Linux cooked captures (v1 and v2) whose
// protocol field is a VLAN tag: libpcap puts the tag stripped by the NIC
// back after the cooked header. Packet.Ethernet turns such a packet into a
// tagged Ethernet frame that flow.Parse keys, so the amplifier must remap
// it too, or every copy repeats copy 0's flows.
func TestAmplify_CookedVLAN(t *testing.T) {
	frames := [][]byte{
		// eth 8100 vid=7 | 0800 | ipv4 10.1.0.1 > 10.2.0.1 | udp 9 > 7
		pkt.Frame{VLANs: []pkt.VLAN{{ID: 7}}, IP4: &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.2.0.1")}, UDP: &pkt.UDP{SrcPort: 9, DstPort: 7}, Payload: []byte("x")}.Bytes(),
		// eth 88a8 vid=1 | 8100 vid=2 | 86dd | ipv6 2001:db8::1 > 2001:db8:1::2 | tcp 40000 > 443
		pkt.Frame{VLANs: []pkt.VLAN{{TPID: 0x88A8, ID: 1}, {ID: 2}}, IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8:1::2")}, TCP: &pkt.TCP{SrcPort: 40000, DstPort: 443}}.Bytes(),
	}
	t0 := time.Unix(1700000000, 0)
	var pkts []capture.Packet
	for i, f := range frames {
		et := f[12:14] // the first tag's TPID
		// SLL v1: packet type, ARPHRD, address length, address (8), protocol.
		sll := append(append(make([]byte, 14), et...), f[14:]...)
		// SLL v2: protocol, reserved, interface, ARPHRD, packet type, address length, address (8).
		sll2 := append(append(bytes.Clone(et), make([]byte, 18)...), f[14:]...)
		pkts = append(pkts,
			capture.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: sll, WireLen: len(sll), Link: capture.LinkLinuxSLL},
			capture.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: sll2, WireLen: len(sll2), Link: capture.LinkLinuxSLL2})
	}
	for i, k := range keysOf(pkts) {
		if !k.IsValid() {
			t.Fatalf("packet %d: flow.Parse gives no key", i+1)
		}
	}
	checkAmplified(t, "cooked vlan", pkts, 4)
}

func TestAmplify_Errors(t *testing.T) {
	for _, n := range []int{0, -3} {
		_, err := capture.Amplify(nil, n)
		if err == nil || err.Error() != fmt.Sprintf("capture: amplify copies must be at least 1, got %d", n) {
			t.Errorf("Amplify(%d): %v", n, err)
		}
	}
	// 70,000 distinct IPv4 /16s cannot take a second copy at /16 or /24
	// granularity... but whole addresses can; asking for more copies than
	// the address space holds fails.
	var pkts []capture.Packet
	for i := range 3 {
		f := pkt.UDP4(fmt.Sprintf("10.%d.0.1:1", i), "10.200.0.1:2", nil)
		pkts = append(pkts, capture.Packet{Data: f, Link: capture.LinkEthernet})
	}
	if _, err := capture.NewAmplifier(pkts, 1<<23); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Errorf("2^23 copies of 4 prefixes: %v", err)
	}
}

func TestAmplifier_PacketDoesNotAllocate(t *testing.T) {
	p := capture.Packet{Data: pkt.TCP4("10.0.0.1:1", "10.0.0.2:2", pkt.ACK, make([]byte, 100)), Link: capture.LinkEthernet}
	a, err := capture.NewAmplifier([]capture.Packet{p}, 8)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	c := 0
	allocs := testing.AllocsPerRun(100, func() {
		q := a.Packet(c%8, buf)
		buf = q.Data
		c++
	})
	if allocs != 0 {
		t.Errorf("Amplifier.Packet allocates %.1f times, want 0", allocs)
	}
}

// TestAmplify_AbsurdCopies: copy counts whose products overflow are
// refused with an error, not accepted with a wrapped size that panics later
// (copies times prefixes wrapping to 0 passed the prefix check; copies
// times packets wrapping made Len negative; copy c's time offset wrapped).
func TestAmplify_AbsurdCopies(t *testing.T) {
	var four []capture.Packet // four /16s: 10.0 to 10.2 and 10.200
	for i := range 3 {
		four = append(four, capture.Packet{Data: pkt.UDP4(fmt.Sprintf("10.%d.0.1:1", i), "10.200.0.1:2", nil), Link: capture.LinkEthernet})
	}
	// (2^62+1-1) * 4 wraps to 0 in 64 bits (2^30+1 copies on 32-bit ints).
	if a, err := capture.NewAmplifier(four, 1<<(strconv.IntSize-2)+1); err == nil {
		t.Errorf("2^62+1 copies of 4 /16s accepted (Len %d)", a.Len())
	}
	// No IP at all: no prefixes to remap, but copies times packets must
	// still fit an int.
	arp := make([]byte, 60)
	arp[12], arp[13] = 0x08, 0x06
	raw := []capture.Packet{{Data: arp, Link: capture.LinkEthernet}, {Data: arp, Link: capture.LinkEthernet}, {Data: arp, Link: capture.LinkEthernet}}
	if a, err := capture.NewAmplifier(raw, math.MaxInt/2); err == nil {
		t.Errorf("MaxInt/2 copies of 3 packets accepted (Len %d)", a.Len())
	} else if !strings.Contains(err.Error(), "copies") {
		t.Errorf("error does not name the copies: %v", err)
	}
	// Copy times whose offset from the capture exceeds a time.Duration
	// (292 years) are still exact: copy 999 of a 31-year capture starts
	// 999 * (31 years + one gap) later.
	long := []capture.Packet{
		{Data: arp, Link: capture.LinkEthernet, Time: time.Unix(0, 0).UTC()},
		{Data: arp, Link: capture.LinkEthernet, Time: time.Unix(1e9, 0).UTC()},
	}
	a, err := capture.NewAmplifier(long, 1000)
	if err != nil {
		t.Fatalf("1000 copies of a 31-year capture: %v", err)
	}
	if got, want := a.Packet(2*999+1, nil).Time, time.Unix(999*2e9+1e9, 0).UTC(); !got.Equal(want) {
		t.Errorf("copy 999 of a 31-year capture at %v, want %v", got, want)
	}
	// ... but not when the seconds overflow an int64: 2^61 copies (2^29 on
	// 32-bit ints) of a 280-year capture.
	ancient := []capture.Packet{long[0], {Data: arp, Link: capture.LinkEthernet, Time: time.Unix(88e8, 0).UTC()}}
	if _, err := capture.NewAmplifier(ancient, 1<<(strconv.IntSize-3)); err == nil || !strings.Contains(err.Error(), "time offset") {
		t.Errorf("2^%d copies of a 280-year capture: %v, want an error about the time offset", strconv.IntSize-3, err)
	}
}

// udp6Sum returns the one's complement sum (folded, not complemented) of
// the pseudo-header and UDP datagram of an untagged IPv6/UDP Ethernet
// frame, with the checksum field counted as zero.
func udp6Sum(frame []byte) uint16 {
	ip := frame[14:]
	seg := bytes.Clone(ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:]))])
	seg[6], seg[7] = 0, 0
	b := append([]byte{}, ip[8:40]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(seg)))
	b = append(append(b, 0, 0, 0, flow.ProtoUDP), seg...)
	return ^pkt.Checksum(b)
}

// TestAmplify_UDP6ComputedZero: a UDP checksum that computes to zero is
// sent as 0xffff over IPv6 as over IPv4 (RFC 8200 section 8.1, where a
// zero UDP checksum is invalid and receivers discard the datagram). A copy
// whose updated checksum comes out as zero must carry 0xffff, or the copy
// of a valid datagram is one that IPv6 receivers drop.
func TestAmplify_UDP6ComputedZero(t *testing.T) {
	const src, dst = "[2001:db8::1]:5000", "[2001:db8:1::2]:53"
	probe := capture.Packet{Data: pkt.UDP6(src, dst, []byte{0, 0}), Link: capture.LinkEthernet}
	a, err := capture.NewAmplifier([]capture.Packet{probe}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// A 2-byte payload w adds w to the sum: choose it so that copy 1's
	// sum is all ones, its checksum computed from scratch zero.
	w := ^udp6Sum(a.Copy(1, 0, nil).Data)
	orig := capture.Packet{Data: pkt.UDP6(src, dst, []byte{byte(w >> 8), byte(w)}), Link: capture.LinkEthernet}
	if ipOK, l4OK, checked := checksums(orig.Data); !checked || !ipOK || !l4OK {
		t.Fatalf("the original does not verify")
	}
	a, err = capture.NewAmplifier([]capture.Packet{orig}, 2)
	if err != nil {
		t.Fatal(err)
	}
	cp := a.Copy(1, 0, nil).Data
	if s := udp6Sum(cp); s != 0xffff {
		t.Fatalf("copy 1's sum is %#04x, the test meant 0xffff", s)
	}
	if c := binary.BigEndian.Uint16(cp[14+40+6:]); c != 0xffff {
		t.Errorf("copy 1's UDP/IPv6 checksum is %#04x, want 0xffff (a computed zero is sent as all ones)", c)
	}
}

// TestAmplify_UDP6NoChecksum: a UDP/IPv6 datagram sent without checksum
// (zero, as RFC 6935 allows for tunnels such as VXLAN or Geneve over IPv6)
// keeps zero in every copy, as over IPv4. An incremental update made it a
// nonzero, wrong checksum, so a tunnel endpoint accepting the original
// would drop every copy.
func TestAmplify_UDP6NoChecksum(t *testing.T) {
	f := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8:1::2")},
		UDP: &pkt.UDP{SrcPort: 40000, DstPort: 4789, NoChecksum: true}, Payload: []byte("vxlan")}.Bytes()
	out, err := capture.Amplify([]capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range out {
		if c > 0 && string(p.Data) == string(f) {
			t.Fatalf("copy %d is unchanged", c)
		}
		if s := binary.BigEndian.Uint16(p.Data[14+40+6:]); s != 0 {
			t.Errorf("copy %d of a UDP/IPv6 datagram without checksum has checksum %#04x, want 0", c, s)
		}
	}
}

// TestAmplify_TCPHeaderCut: a capture cut inside the TCP header, after
// the checksum field (18 or 19 of its 20 bytes captured, as a snapshot
// length of 72 leaves of an IPv6 segment), still has its checksum updated,
// as the Amplifier documents for every checksum field captured. flow.Parse
// refuses such a header, and the field kept the capture's value while the
// addresses it covers changed: every copy's checksum was wrong, differing
// from the copy of the whole segment.
func TestAmplify_TCPHeaderCut(t *testing.T) {
	for _, full := range [][]byte{
		pkt.TCP4("10.0.0.1:40000", "10.1.0.2:80", pkt.ACK, []byte("hello world")),
		pkt.TCP6("[2001:db8::1]:40000", "[2001:db8:1::2]:443", pkt.ACK, []byte("hello world")),
	} {
		info, err := flow.Parse(full)
		if err != nil {
			t.Fatal(err)
		}
		l4 := int(info.L4Offset)
		whole, err := capture.Amplify([]capture.Packet{{Data: full, WireLen: len(full), Link: capture.LinkEthernet}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{18, 19} {
			p := capture.Packet{Data: full[:l4+cut], WireLen: len(full), Link: capture.LinkEthernet}
			out, err := capture.Amplify([]capture.Packet{p}, 3)
			if err != nil {
				t.Fatal(err)
			}
			for c := range out {
				got := binary.BigEndian.Uint16(out[c].Data[l4+16:])
				want := binary.BigEndian.Uint16(whole[c].Data[l4+16:])
				if got != want {
					t.Errorf("%v cut at %d TCP bytes, copy %d: checksum %#04x, the whole segment's copy has %#04x", info.Key, cut, c, got, want)
				}
			}
		}
	}
}

// TestAmplify_DCCPAndUDPLite: DCCP (RFC 4340) and UDP-Lite (RFC 3828)
// checksums cover the same pseudo-header as TCP and UDP, addresses
// included, with the checksum at byte 6 of their header. The amplifier
// left them alone, so every copy of a valid DCCP or UDP-Lite datagram had
// a wrong checksum.
func TestAmplify_DCCPAndUDPLite(t *testing.T) {
	// sum returns the checksum over the pseudo-header and upper layer of
	// an Ethernet frame holding one IP header: 0 when the field is right.
	sum := func(f []byte) uint16 {
		var pseudo, seg []byte
		ip := f[14:]
		if ip[0]>>4 == 4 {
			seg = ip[20:binary.BigEndian.Uint16(ip[2:])]
			pseudo = append(append(pseudo, ip[12:20]...), 0, ip[9])
			pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
		} else {
			seg = ip[40 : 40+binary.BigEndian.Uint16(ip[4:])]
			pseudo = append(pseudo, ip[8:40]...)
			pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(seg)))
			pseudo = append(pseudo, 0, 0, 0, ip[6])
		}
		return pkt.Checksum(append(pseudo, seg...))
	}
	var pkts []capture.Packet
	for _, proto := range []uint8{33, 136} {
		// A 16-byte header (ports, data offset or checksum coverage 0 for
		// the whole datagram, checksum, the rest) and 4 bytes of data.
		hdr := []byte{0x9c, 0x40, 0x00, 0x50, 0x04, 0x00, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 1, 'd', 'a', 't', 'a'}
		if proto == 136 {
			hdr[4], hdr[5] = 0, 0
		}
		for _, f := range [][]byte{
			pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.1.0.2"), Protocol: proto}, Payload: hdr}.Bytes(),
			pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8:1::2"), Protocol: proto}, Payload: hdr}.Bytes(),
		} {
			csum := len(f) - len(hdr) + 6
			binary.BigEndian.PutUint16(f[csum:], sum(f))
			if sum(f) != 0 {
				t.Fatalf("protocol %d: the test built a wrong checksum", proto)
			}
			pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
		}
	}
	checkAmplifiedSums(t, pkts, sum)
}

// TestAmplify_IPv4SourceRoute: a TCP or UDP checksum over IPv4 with a
// loose or strict source route still to follow (pointer not past the
// option's length) uses the route's final destination in its
// pseudo-header, not the destination field, which holds the next hop (RFC
// 9293 section 3.1, as RFC 8200 says of IPv6 routing headers). The
// amplifier, which handles the IPv6 case, counted the destination field's
// change into the checksum over IPv4: every copy of a valid source-routed
// segment had a wrong checksum.
func TestAmplify_IPv4SourceRoute(t *testing.T) {
	final := []byte{10, 9, 0, 7}
	var pkts []capture.Packet
	for _, opt := range [][]byte{
		{131, 7, 4, 10, 9, 0, 7, 0},                  // loose source route, one hop left
		{1, 131, 7, 4, 10, 9, 0, 7},                  // the same after a no-op
		{137, 11, 8, 10, 5, 0, 1, 10, 9, 0, 7, 1, 0}, // strict, one of two hops done, then a no-op
	} {
		for _, udp := range []bool{false, true} {
			fr := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.1.0.2"), Options: opt}}
			if udp {
				fr.UDP = &pkt.UDP{SrcPort: 1000, DstPort: 53}
			} else {
				fr.TCP = &pkt.TCP{SrcPort: 1000, DstPort: 80, Flags: pkt.ACK}
			}
			fr.Payload = []byte("payload")
			f := fr.Bytes()
			pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
		}
	}
	// sum returns the upper-layer checksum of a frame with the route's
	// final destination in the pseudo-header: 0 when right.
	sum := func(f []byte) uint16 {
		ip := f[14:]
		ihl := int(ip[0]&0x0f) * 4
		seg := ip[ihl:binary.BigEndian.Uint16(ip[2:])]
		pseudo := append(append(append([]byte(nil), ip[12:16]...), final...), 0, ip[9])
		pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
		return pkt.Checksum(append(pseudo, seg...))
	}
	for _, p := range pkts {
		ip := p.Data[14:]
		off := 14 + int(ip[0]&0x0f)*4 + 16
		if ip[9] == flow.ProtoUDP {
			off -= 10
		}
		binary.BigEndian.PutUint16(p.Data[off:], 0)
		binary.BigEndian.PutUint16(p.Data[off:], sum(p.Data))
	}
	checkAmplifiedSums(t, pkts, sum)
}

// TestAmplify_SpanPastDuration: a capture spanning more than a
// time.Duration holds (292 years), such as packets built without a Time
// (the zero Time, year 1) beside captured ones, is amplified with copies
// shifted by its exact span plus one mean gap, as the Amplifier documents
// and as it does for copy offsets beyond a Duration. The span was taken
// as a Duration, which saturated, and the step wrapped negative: even two
// copies were refused, with an error about "a capture spanning -2ns".
func TestAmplify_SpanPastDuration(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)
	for _, t0 := range []time.Time{{}, time.Unix(-300*365*86400, 5).UTC()} {
		t1 := time.Unix(1700000000, 0).UTC()
		pkts := []capture.Packet{{Time: t0, Data: f, Link: capture.LinkEthernet}, {Time: t1, Data: f, Link: capture.LinkEthernet}}
		a, err := capture.NewAmplifier(pkts, 3)
		if err != nil {
			t.Fatalf("3 copies of a capture from %v to %v: %v", t0, t1, err)
		}
		// Two packets: the mean gap is the span, so copy c is 2c spans later.
		sec, nsec := t1.Unix()-t0.Unix(), int64(t1.Nanosecond()-t0.Nanosecond())
		for c := range int64(3) {
			for i, p := range pkts {
				want := time.Unix(p.Time.Unix()+2*c*sec, int64(p.Time.Nanosecond())+2*c*nsec)
				if got := a.Copy(int(c), i, nil).Time; !got.Equal(want) {
					t.Errorf("span from %v: copy %d of packet %d at %v, want %v", t0, c, i+1, got, want)
				}
			}
		}
	}
}

// TestAmplify_TimePastLastYear: copies whose times would pass the last
// second a time.Time holds (a pcapng timestamp may come that close) are an
// error of NewAmplifier, as an offset that overflows is. Such copies were
// accepted and time.Unix wrapped their times: the last copy's came before
// year 1. Copies that end on the last second are still accepted.
func TestAmplify_TimePastLastYear(t *testing.T) {
	// The last second a time.Time holds, in Unix seconds: time.Time counts
	// int64 seconds from year 1, 62,135,596,800 seconds before 1970.
	const last = math.MaxInt64 - 62135596800
	f := pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)
	pkts := []capture.Packet{
		{Time: time.Unix(last-30, 0).UTC(), Data: f, Link: capture.LinkEthernet},
		{Time: time.Unix(last-20, 0).UTC(), Data: f, Link: capture.LinkEthernet},
	}
	// Copies are 10 s of span plus a 10 s gap apart: copy 1 ends on the
	// last second, copy 2 would end 20 s past it.
	a, err := capture.NewAmplifier(pkts, 2)
	if err != nil {
		t.Fatalf("2 copies ending on the last second: %v", err)
	}
	if got := a.Copy(1, 1, nil).Time; got.Unix() != last {
		t.Errorf("copy 1 of packet 2 at %v (%d s), want %d s", got, got.Unix(), int64(last))
	}
	a, err = capture.NewAmplifier(pkts, 3)
	if err == nil {
		got := a.Copy(2, 1, nil).Time
		t.Fatalf("3 copies, the last 20 s past the last second, accepted: copy 2 of packet 2 at %v, before the capture: %v", got, got.Before(pkts[0].Time))
	}
	if !strings.Contains(err.Error(), "time") {
		t.Errorf("error %q does not say what overflows", err)
	}
}

// TestAmplify_IPv6PseudoHeaderProtocols: over IPv6, OSPFv3 (RFC 5340),
// PIM (RFC 7761), VRRPv3 (RFC 5798) and the Mobility Header (RFC 6275)
// checksum the IPv6 pseudo-header, addresses included (RFC 8200 section
// 8.1), with the field at bytes 12, 2, 6 and 4 of their header. The
// amplifier left them alone, so every copy of such a valid packet (the
// routing and redundancy hellos of any LAN capture) had a wrong checksum.
func TestAmplify_IPv6PseudoHeaderProtocols(t *testing.T) {
	sum := func(f []byte) uint16 {
		ip := f[14:]
		seg := ip[40 : 40+binary.BigEndian.Uint16(ip[4:])]
		pseudo := append([]byte(nil), ip[8:40]...)
		pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(seg)))
		pseudo = append(pseudo, 0, 0, 0, ip[6])
		return pkt.Checksum(append(pseudo, seg...))
	}
	var pkts []capture.Packet
	for _, c := range []struct {
		proto uint8
		csum  int
	}{{89, 12}, {103, 2}, {112, 6}, {135, 4}} {
		body := make([]byte, 24)
		for i := range body {
			body[i] = byte(i*7 + 1)
		}
		f := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("fe80::1"), Dst: pkt.Addr("ff02::5"), Protocol: c.proto}, Payload: body}.Bytes()
		binary.BigEndian.PutUint16(f[14+40+c.csum:], 0)
		binary.BigEndian.PutUint16(f[14+40+c.csum:], sum(f))
		if sum(f) != 0 {
			t.Fatalf("protocol %d: the test built a wrong checksum", c.proto)
		}
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
	}
	checkAmplifiedSums(t, pkts, sum)
}

// checkAmplifiedSums amplifies pkts into three copies and checks that
// every packet of copies 1 and 2 changed, that its IPv4 header checksum
// (if any) holds, and that sum, the upper-layer checksum of a frame as
// the test computes it (0 when the field is right), holds.
func checkAmplifiedSums(t *testing.T, pkts []capture.Packet, sum func(frame []byte) uint16) {
	t.Helper()
	out, err := capture.Amplify(pkts, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range out {
		c, n := i/len(pkts), i%len(pkts)+1
		if c > 0 && string(p.Data) == string(pkts[i%len(pkts)].Data) {
			t.Fatalf("copy %d of packet %d is unchanged", c, n)
		}
		if ipOK, _, _ := checksums(p.Data); !ipOK {
			t.Errorf("copy %d of packet %d: wrong IPv4 header checksum", c, n)
		}
		if sum(p.Data) != 0 {
			t.Errorf("copy %d of packet %d (IP protocol or next header %d): wrong upper-layer checksum", c, n, ipProto(p.Data))
		}
	}
}

// ipProto returns the protocol field of an Ethernet frame's IPv4 header
// or the next-header field of its IPv6 header.
func ipProto(frame []byte) byte {
	if frame[14]>>4 == 4 {
		return frame[14+9]
	}
	return frame[14+6]
}

// TestAmplifier_OutOfRange: Packet, Copy and Key panic with a message
// naming the index and its range, for an empty amplifier too (Packet
// divided by its zero length, and Key indexed its address maps, with the
// runtime's bare messages).
func TestAmplifier_OutOfRange(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)
	one, err := capture.NewAmplifier([]capture.Packet{{Time: time.Unix(1, 0), Data: f, Link: capture.LinkEthernet}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := capture.NewAmplifier(nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"Packet(2) of 2", "packet 2 out of range [0, 2)", func() { one.Packet(2, nil) }},
		{"Packet(-1)", "packet -1 out of range [0, 2)", func() { one.Packet(-1, nil) }},
		{"Packet(0) of none", "packet 0 out of range [0, 0)", func() { empty.Packet(0, nil) }},
		{"Copy(2, 0)", "copy 2 out of range [0, 2)", func() { one.Copy(2, 0, nil) }},
		{"Copy(0, 1)", "packet 1 of the capture out of range [0, 1)", func() { one.Copy(0, 1, nil) }},
		{"Copy(1, -1)", "packet -1 of the capture out of range [0, 1)", func() { one.Copy(1, -1, nil) }},
		{"Copy(0, 0) of none", "packet 0 of the capture out of range [0, 0)", func() { empty.Copy(0, 0, nil) }},
		{"Key(2)", "copy 2 out of range [0, 2)", func() { one.Key(2, k) }},
		{"Key(-1)", "copy -1 out of range [0, 2)", func() { one.Key(-1, k) }},
		{"Key(5) of none", "copy 5 out of range [0, 3)", func() { empty.Key(5, k) }},
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			c.f()
			return "no panic"
		}()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q, want one naming %q", c.name, msg, c.want)
		}
	}
}

// TestAmplify_PrefixStructure: copies keep the low bits of every address
// and move its prefix, the top 16 bits of an IPv4 address while the /16s
// have room for the copies, the top 48 bits of an IPv6 one. The /16s have
// room for 65,536 copies of a capture using a single /16: the 65,535
// other /16s.
func TestAmplify_PrefixStructure(t *testing.T) {
	f4 := pkt.UDP4("10.1.2.3:1", "10.1.250.6:2", []byte("x"))
	f6 := pkt.UDP6("[2001:db8:1:2:3:4:5:6]:1", "[2001:db8:1:9:8:7:6:5]:2", []byte("x"))
	t0 := time.Unix(1700000000, 0)
	pkts := []capture.Packet{{Time: t0, Data: f4, Link: capture.LinkEthernet}, {Time: t0, Data: f6, Link: capture.LinkEthernet}}
	check := func(a *capture.Amplifier, c int) {
		t.Helper()
		for i, p := range pkts {
			cp := a.Copy(c, i, nil).Data
			ip, cip := p.Data[14:], cp[14:]
			addrs, keep := [2][2]int{{12, 16}, {16, 20}}, 2 // IPv4: bytes of each address; low bytes kept
			if ip[0]>>4 == 6 {
				addrs, keep = [2][2]int{{8, 24}, {24, 40}}, 10
			}
			for _, r := range addrs {
				orig, moved := ip[r[0]:r[1]], cip[r[0]:r[1]]
				n := len(orig) - keep
				if bytes.Equal(orig[:n], moved[:n]) || !bytes.Equal(orig[n:], moved[n:]) {
					t.Errorf("copy %d: address % x became % x; want the top %d bits moved, the low %d kept", c, orig, moved, 8*n, 8*keep)
				}
			}
		}
	}
	a, err := capture.NewAmplifier(pkts, 3)
	if err != nil {
		t.Fatal(err)
	}
	check(a, 1)
	check(a, 2)
	a, err = capture.NewAmplifier(pkts, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	check(a, 1<<16-1)
}

// TestAmplify_PrefixesWrap amplifies a capture using the lowest and the
// next-to-highest IPv4 /16s: the fresh /16s run past the top of the
// address space and wrap around to its bottom, where they must still skip
// the capture's own /16s.
func TestAmplify_PrefixesWrap(t *testing.T) {
	f := pkt.UDP4("0.0.0.1:1", "255.254.0.1:2", []byte("x"))
	checkAmplified(t, "wrap", []capture.Packet{{Time: time.Unix(1, 0), Data: f, Link: capture.LinkEthernet}}, 4)
}

// TestAmplify_OnePacketTimes: a capture of one packet (no duration, no
// gap) has its copies one microsecond apart, and copies keep the time's
// location.
func TestAmplify_OnePacketTimes(t *testing.T) {
	t0 := time.Date(2024, 3, 4, 5, 6, 7, 8, time.FixedZone("X", 3600))
	f := pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)
	out, err := capture.Amplify([]capture.Packet{{Time: t0, Data: f, Link: capture.LinkEthernet}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range out {
		if want := t0.Add(time.Duration(c) * time.Microsecond); !p.Time.Equal(want) || p.Time.Location() != t0.Location() {
			t.Errorf("copy %d at %v, want %v", c, p.Time, want)
		}
	}
}

// TestAmplify_LastCopyNanoseconds: copies of a one-packet capture are one
// microsecond apart, so the last of about 2^63/1000 copies is almost 2^63
// ns later; added to the packet's own nanoseconds, that offset passes an
// int64. When NewAmplifier accepts that many copies, the last copy's time
// must be the packet's plus copies-1 microseconds, not a wrapped one.
func TestAmplify_LastCopyNanoseconds(t *testing.T) {
	t0 := time.Unix(1700000000, 999_999_999).UTC()
	arp := pkt.Frame{EtherType: 0x0806, Payload: make([]byte, 28)}.Bytes() // no addresses to remap
	pkts := []capture.Packet{{Time: t0, Data: arp, Link: capture.LinkEthernet}}
	if strconv.IntSize == 32 {
		t.Skip("that many copies do not fit an int")
	}
	for _, copies := range []int64{math.MaxInt64 / 2 / 1000, math.MaxInt64 / 1000} {
		a, err := capture.NewAmplifier(pkts, int(copies))
		if err != nil {
			if copies == math.MaxInt64/2/1000 {
				t.Errorf("%d copies: %v", copies, err)
			}
			continue
		}
		got := a.Copy(int(copies-1), 0, nil).Time
		if want := t0.Add(time.Duration(copies-1) * time.Microsecond); !got.Equal(want) {
			t.Errorf("%d copies: the last at %v, want %v", copies, got, want)
		}
	}
}

// TestAmplifier_KeyUnusedPrefix: Amplifier.Key returns a key unchanged
// when one of its addresses lies in a prefix the capture never used,
// whichever the other.
func TestAmplifier_KeyUnusedPrefix(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1", "10.1.0.2:2", nil)
	a, err := capture.NewAmplifier([]capture.Packet{{Data: f, Link: capture.LinkEthernet}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []flow.Key{
		flow.MustKey("10.0.0.1", "192.168.0.1", 1, 2, flow.ProtoUDP),
		flow.MustKey("192.168.0.1", "10.1.0.2", 1, 2, flow.ProtoUDP),
		flow.MustKey("2001:db8::1", "2001:db8::2", 1, 2, flow.ProtoUDP),
	} {
		if got := a.Key(2, k); got != k {
			t.Errorf("Key(2, %v) = %v, want it unchanged", k, got)
		}
	}
}

// TestAmplify_DataCapacity: each packet Amplify returns has its length as
// capacity, so appending to one never overwrites the next.
func TestAmplify_DataCapacity(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1", "10.1.0.2:2", []byte("payload"))
	out, err := capture.Amplify([]capture.Packet{{Data: f, Link: capture.LinkEthernet}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	next := bytes.Clone(out[1].Data)
	_ = append(out[0].Data, bytes.Repeat([]byte{0xee}, 16)...)
	if !bytes.Equal(out[1].Data, next) || cap(out[0].Data) != len(out[0].Data) {
		t.Errorf("appending to copy 0 changed copy 1 (capacity %d, length %d)", cap(out[0].Data), len(out[0].Data))
	}
}

// TestAmplify_NotIPLeftAlone: frames that flow.Parse does not take as IP,
// an IPv4 header behind the IPv6 EtherType and an IPv4 packet behind more
// VLAN tags than flow.MaxVLANTags, are copied unchanged: they hold no IP
// addresses to move.
func TestAmplify_NotIPLeftAlone(t *testing.T) {
	v4 := pkt.UDP4("10.0.0.1:1", "10.1.0.2:2", make([]byte, 40))
	mismatch := bytes.Clone(v4)
	binary.BigEndian.PutUint16(mismatch[12:], 0x86DD)
	var tags []pkt.VLAN
	for i := range flow.MaxVLANTags + 1 {
		tags = append(tags, pkt.VLAN{ID: uint16(i + 1)})
	}
	tagged := pkt.Frame{VLANs: tags, IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.1.0.2")}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()
	for name, f := range map[string][]byte{"IPv4 behind 86dd": mismatch, "too many tags": tagged} {
		if _, err := flow.Parse(f); err == nil {
			t.Fatalf("%s: flow.Parse takes it", name)
		}
		out, err := capture.Amplify([]capture.Packet{{Data: f, Link: capture.LinkEthernet}}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out[1].Data, f) {
			t.Errorf("%s: copy 1 changed", name)
		}
	}
}

// TestAmplify_BareIPv6Header: a 40-byte IPv6 packet, header and nothing
// else, has its addresses moved like any other.
func TestAmplify_BareIPv6Header(t *testing.T) {
	f := pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8:1::2"), Protocol: 59}}.Bytes()[14:]
	if len(f) != 40 {
		t.Fatalf("the test built %d bytes", len(f))
	}
	out, err := capture.Amplify([]capture.Packet{{Data: f, Link: capture.LinkIPv6}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out[1].Data[8:24], f[8:24]) || bytes.Equal(out[1].Data[24:40], f[24:40]) {
		t.Errorf("copy 1 kept an address: % x", out[1].Data)
	}
}

// l4Sum6 returns the one's complement sum (folded, not complemented) of
// the pseudo-header and upper layer of an untagged Ethernet frame holding
// one IPv6 header, with the checksum field (at csum in the upper layer)
// counted as zero.
func l4Sum6(frame []byte, csum int) uint16 {
	ip := frame[14:]
	seg := bytes.Clone(ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:]))])
	seg[csum], seg[csum+1] = 0, 0
	b := append([]byte{}, ip[8:40]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(seg)))
	b = append(append(b, 0, 0, 0, ip[6]), seg...)
	return ^pkt.Checksum(b)
}

// TestAmplify_ComputedZero: a copy whose upper-layer checksum computes to
// zero carries what a sender computing it from scratch sends: zero for
// TCP (RFC 9293 has no special case), all ones for UDP-Lite (RFC 3828
// section 3.1, as for UDP).
func TestAmplify_ComputedZero(t *testing.T) {
	src, dst := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8:1::2")
	for _, c := range []struct {
		name string
		csum int
		want uint16
		make func(w uint16) []byte
	}{
		{"TCP", 16, 0, func(w uint16) []byte {
			return pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst}, TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.ACK}, Payload: binary.BigEndian.AppendUint16(nil, w)}.Bytes()
		}},
		{"UDP-Lite", 6, 0xffff, func(w uint16) []byte {
			hdr := []byte{0x9c, 0x40, 0, 53, 0, 0, 0, 0} // ports, coverage 0 (all), checksum
			f := pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst, Protocol: 136}, Payload: binary.BigEndian.AppendUint16(hdr, w)}.Bytes()
			binary.BigEndian.PutUint16(f[14+40+6:], ^l4Sum6(f, 6))
			return f
		}},
	} {
		a, err := capture.NewAmplifier([]capture.Packet{{Data: c.make(0), Link: capture.LinkEthernet}}, 2)
		if err != nil {
			t.Fatal(err)
		}
		// A 2-byte payload w adds w to the sum: choose it so that copy 1's
		// sum is all ones, its checksum computed from scratch zero.
		orig := c.make(^l4Sum6(a.Copy(1, 0, nil).Data, c.csum))
		if l4Sum6(orig, c.csum) == 0xffff {
			t.Fatalf("%s: the original's own checksum computes to zero", c.name)
		}
		a, err = capture.NewAmplifier([]capture.Packet{{Data: orig, Link: capture.LinkEthernet}}, 2)
		if err != nil {
			t.Fatal(err)
		}
		cp := a.Copy(1, 0, nil).Data
		if s := l4Sum6(cp, c.csum); s != 0xffff {
			t.Fatalf("%s: copy 1's sum is %#04x, the test meant 0xffff", c.name, s)
		}
		if got := binary.BigEndian.Uint16(cp[14+40+c.csum:]); got != c.want {
			t.Errorf("%s: copy 1's checksum is %#04x, want %#04x", c.name, got, c.want)
		}
	}
}

// TestAmplify_IPv6PayloadLengthZero: an IPv6 packet whose payload length
// field is 0 (a jumbogram, or a segment captured before the NIC split it)
// bounds its upper layer by the captured bytes alone: its UDP checksum,
// computed over the datagram the UDP length gives, is updated.
func TestAmplify_IPv6PayloadLengthZero(t *testing.T) {
	f := pkt.UDP6("[2001:db8::1]:1000", "[2001:db8:1::2]:53", []byte("jumbo"))
	binary.BigEndian.PutUint16(f[14+4:], 0)
	sum := func(f []byte) uint16 {
		ip := f[14:]
		seg := ip[40:]
		b := append([]byte{}, ip[8:40]...)
		b = binary.BigEndian.AppendUint32(b, uint32(binary.BigEndian.Uint16(seg[4:])))
		return pkt.Checksum(append(append(b, 0, 0, 0, flow.ProtoUDP), seg...))
	}
	if sum(f) != 0 {
		t.Fatal("the test built a wrong checksum")
	}
	out, err := capture.Amplify([]capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range out {
		if c > 0 && bytes.Equal(p.Data, f) {
			t.Fatalf("copy %d is unchanged", c)
		}
		if sum(p.Data) != 0 {
			t.Errorf("copy %d: wrong UDP checksum", c)
		}
	}
}

// TestAmplify_FreshPrefixOrder: the documented choice of fresh prefixes,
// in increasing order from just above the capture's highest, skipping its
// own, each copy taking the next ones: a capture of 10.1/16 and 10.3/16
// has copy 1 in 10.4/16 and 10.5/16 and copy 2 in 10.6/16 and 10.7/16
// (10.2/16 lies below the highest, so it is not used); IPv6 prefixes (top
// 48 bits) the same way.
func TestAmplify_FreshPrefixOrder(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	pkts := []capture.Packet{
		{Time: t0, Data: pkt.UDP4("10.3.7.7:1", "10.1.9.9:2", nil), Link: capture.LinkEthernet},
		{Time: t0, Data: pkt.UDP6("[2001:db8:5::1]:1", "[2001:db8:5::2]:2", nil), Link: capture.LinkEthernet},
	}
	a, err := capture.NewAmplifier(pkts, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c, i     int
		src, dst string
	}{
		{1, 0, "10.5.7.7", "10.4.9.9"}, // 10.1 -> 10.4, 10.3 -> 10.5
		{2, 0, "10.7.7.7", "10.6.9.9"},
		{1, 1, "2001:db8:6::1", "2001:db8:6::2"},
		{2, 1, "2001:db8:7::1", "2001:db8:7::2"},
	} {
		info, err := flow.Parse(a.Copy(tc.c, tc.i, nil).Data)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(info.Key.Src(), " ", info.Key.Dst()), tc.src+" "+tc.dst; got != want {
			t.Errorf("copy %d, packet %d: %s, want %s", tc.c, tc.i, got, want)
		}
	}
}
