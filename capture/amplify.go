package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	"github.com/dataplane-go/dataplane/flow"
)

// Amplifier replays a capture N times as if N networks of the same shape
// had been captured side by side: copy 0 is the capture unchanged; copy c
// has every IPv4 and IPv6 address of the outer IP header moved into
// prefixes that no other copy uses, checksums updated, and timestamps
// shifted by c times the capture's duration plus one mean inter-packet gap.
// Ports, protocols, payloads and the order of packets are kept, so the
// flows of N copies are exactly N times the flows of the capture, with the
// capture's per-flow structure.
//
// The address map of copy c is a bijection that keeps prefix structure:
// IPv4 addresses keep their low bits and have their prefix (the top 16
// bits, or the top 24 or all 32 when too many /16s are in use for N copies)
// swapped with a prefix that no packet of the capture uses and that no
// other copy receives; IPv6 addresses are treated the same way with their
// top 48 bits. Each copy is thus a product of disjoint transpositions of
// prefixes, each used prefix with its fresh one: a bijection of the
// address space that moves only the capture's prefixes and the copy's
// fresh ones (packets of the capture hold only the former). The fresh
// prefixes are handed out in increasing order from the one just above the
// capture's highest, wrapping around past the top of the address space
// and skipping the capture's own: copy 1 gets the first len(used) of them,
// copy 2 the next, and so on, each used prefix (in increasing order) its
// copy's next fresh one. A capture of 10.1.0.0/16 alone thus has copy c
// in 10.(1+c).0.0/16, so copies are predictable and stay near the
// capture's addresses.
//
// Checksums are updated incrementally (RFC 1624): the IPv4 header checksum,
// and the checksums whose pseudo-header holds the addresses, when their
// field is captured: TCP, UDP, DCCP and UDP-Lite, and over IPv6 ICMPv6,
// OSPFv3, PIM, VRRP and the Mobility Header. A UDP checksum of 0 (none:
// optional over IPv4, allowed for tunnels over IPv6 by RFC 6935) stays 0,
// and one that comes out as 0 is written as 0xffff. A checksum that was
// wrong in the capture stays wrong by the same amount. Addresses in
// tunnelled inner headers and ICMP error quotes are not changed.
//
// An Amplifier holds no copies: [Amplifier.Packet] builds one packet into
// a caller's buffer, so an amplified trace of any size can be streamed.
type Amplifier struct {
	pkts   []Packet
	info   []ampInfo
	copies int
	// Copy c is c*(stepSec s + stepNsec ns) later than the capture.
	stepSec, stepNsec int64
	v4                prefixMap
	v6                prefixMap
}

// ampInfo is what the amplifier learned about one packet.
type ampInfo struct {
	l3       int32 // offset of the outer IP header; -1 when not IP
	csum     int32 // offset of the upper-layer checksum to update; -1 none
	src, dst int32 // indexes of the address prefixes in the prefix map
	ver      uint8 // 4 or 6
	udp      bool  // UDP or UDP-Lite: a zero checksum stays; a computed zero is sent as all ones
	dstInSum bool  // the destination field is in the pseudo-header (false with an IPv6 routing header or IPv4 source route to follow)
}

// prefixMap maps each prefix used by the capture to a fresh prefix per
// copy. A prefix is the top bits of an address word (of 32 bits for IPv4,
// the first 64 bits for IPv6) read as an integer: the word shifted right.
type prefixMap struct {
	shift uint              // word width minus prefix length
	used  []uint64          // prefixes of the capture, sorted
	index map[uint64]uint32 // prefix -> index in used
	fresh []uint64          // copy c >= 1, prefix i: fresh[(c-1)*len(used)+i]
}

// NewAmplifier prepares copies copies of pkts. It returns an error when
// copies is below 1, when the amplified trace's packet count or its last
// copy's time offset would overflow (an int, int64 seconds), when the last
// copy's times would pass the last year a time.Time holds, or when the
// address space cannot hold that many disjoint copies of the capture's
// prefixes. The Amplifier keeps pkts and never modifies them.
func NewAmplifier(pkts []Packet, copies int) (*Amplifier, error) {
	if copies < 1 {
		return nil, fmt.Errorf("capture: amplify copies must be at least 1, got %d", copies)
	}
	if hi, lo := bits.Mul64(uint64(copies), uint64(len(pkts))); hi != 0 || lo > math.MaxInt {
		return nil, fmt.Errorf("capture: amplify copies %d of %d packets: the trace would hold more than %d packets", copies, len(pkts), math.MaxInt)
	}
	stepSec, stepNsec := timeStep(pkts)
	// Copy c starts c*step after the capture: c*step seconds and c*step
	// nanoseconds must each fit an int64 (the sum may exceed a
	// time.Duration; Copy adds it to the time in seconds and nanoseconds).
	for _, part := range []uint64{stepSec, stepNsec} {
		if hi, lo := bits.Mul64(uint64(copies-1), part); hi != 0 || lo > math.MaxInt64/2 {
			return nil, fmt.Errorf("capture: amplify copies %d of a capture whose copies are %d.%09ds apart: the last copy's time offset overflows", copies, stepSec, stepNsec)
		}
	}
	// The last copy's latest time must be one a time.Time holds: past
	// it, time.Unix wraps (a pcapng timestamp can come that close).
	if len(pkts) > 0 {
		latest := pkts[0].Time
		for _, p := range pkts[1:] {
			if p.Time.After(latest) {
				latest = p.Time
			}
		}
		c := int64(copies - 1)
		off := c*int64(stepSec) + (int64(latest.Nanosecond())+c*int64(stepNsec))/1e9
		if s := latest.Unix(); s > 0 && off > maxUnixSec-s {
			return nil, fmt.Errorf("capture: amplify copies %d of a capture whose copies are %d.%09ds apart: the last copy's times, from %v on, pass the last year a time.Time holds", copies, stepSec, stepNsec, latest)
		}
	}
	a := &Amplifier{pkts: pkts, info: make([]ampInfo, len(pkts)), copies: copies}
	var addrs4, addrs6 []uint64
	for i := range pkts {
		inf := examine(&pkts[i])
		a.info[i] = inf
		if inf.l3 < 0 {
			continue
		}
		d := pkts[i].Data[inf.l3:]
		if inf.ver == 4 {
			addrs4 = append(addrs4, uint64(binary.BigEndian.Uint32(d[12:])), uint64(binary.BigEndian.Uint32(d[16:])))
		} else {
			addrs6 = append(addrs6, binary.BigEndian.Uint64(d[8:]), binary.BigEndian.Uint64(d[24:]))
		}
	}
	var err error
	// IPv4: keep /16 structure when there is room, else /24, else whole
	// addresses. IPv6: the top 48 bits of the first 64.
	if a.v4, err = newPrefixMap(addrs4, 32, []uint{16, 24, 32}, copies); err != nil {
		return nil, err
	}
	if a.v6, err = newPrefixMap(addrs6, 64, []uint{48}, copies); err != nil {
		return nil, err
	}
	for i := range pkts {
		inf := &a.info[i]
		if inf.l3 < 0 {
			continue
		}
		d := pkts[i].Data[inf.l3:]
		if inf.ver == 4 {
			inf.src = int32(a.v4.index[a.v4.prefix(uint64(binary.BigEndian.Uint32(d[12:])))])
			inf.dst = int32(a.v4.index[a.v4.prefix(uint64(binary.BigEndian.Uint32(d[16:])))])
		} else {
			inf.src = int32(a.v6.index[a.v6.prefix(binary.BigEndian.Uint64(d[8:]))])
			inf.dst = int32(a.v6.index[a.v6.prefix(binary.BigEndian.Uint64(d[24:]))])
		}
	}
	a.stepSec, a.stepNsec = int64(stepSec), int64(stepNsec)
	return a, nil
}

// maxFresh bounds the table of fresh prefixes (copies times prefixes in
// use): 32 MiB.
const maxFresh = 1 << 22

// newPrefixMap chooses the first prefix length in lens (bits of a width-bit
// word) for which copies-1 fresh sets of prefixes fit beside the used ones.
func newPrefixMap(addrs []uint64, width uint, lens []uint, copies int) (prefixMap, error) {
	for _, plen := range lens {
		shift := width - plen
		m := prefixMap{shift: shift, index: map[uint64]uint32{}}
		for _, x := range addrs {
			p := x >> shift
			if _, ok := m.index[p]; !ok {
				m.index[p] = 0
				m.used = append(m.used, p)
			}
		}
		slices.Sort(m.used)
		for i, p := range m.used {
			m.index[p] = uint32(i)
		}
		space := uint64(1) << plen // plen < 64 here
		hi, need := bits.Mul64(uint64(copies-1), uint64(len(m.used)))
		if hi != 0 || need > maxFresh {
			break // finer prefixes only need more
		}
		if need > space-uint64(len(m.used)) {
			continue
		}
		m.fresh = make([]uint64, 0, need)
		// Fresh prefixes in increasing order from just above the highest
		// used one, wrapping around and skipping used ones: the copies'
		// prefixes keep the capture's order within each copy.
		next := uint64(0)
		if len(m.used) > 0 {
			next = (m.used[len(m.used)-1] + 1) & (space - 1)
		}
		for uint64(len(m.fresh)) < need {
			if _, ok := m.index[next]; !ok {
				m.fresh = append(m.fresh, next)
			}
			next = (next + 1) & (space - 1)
		}
		return m, nil
	}
	return prefixMap{}, fmt.Errorf("capture: amplify copies %d: the capture uses too many IPv%d prefixes for that many disjoint copies (copies times prefixes at most %d)", copies, map[uint]int{32: 4, 64: 6}[width], maxFresh)
}

// prefix returns the prefix of a word.
func (m *prefixMap) prefix(x uint64) uint64 { return x >> m.shift }

// mapWord returns word x (whose prefix has index i) in copy c >= 1.
func (m *prefixMap) mapWord(x uint64, i int32, c int) uint64 {
	p := m.fresh[(c-1)*len(m.used)+int(i)]
	low := x & (uint64(1)<<m.shift - 1)
	return p<<m.shift | low
}

// timeStep returns the capture's duration plus one mean inter-packet gap
// (1 µs when that is zero), in seconds and nanoseconds below 1e9; the
// seconds saturate at math.MaxUint64. The duration can exceed a
// time.Duration (a packet with the zero Time, year 1, beside captured
// ones), so it is not computed as one.
func timeStep(pkts []Packet) (sec, nsec uint64) {
	if len(pkts) == 0 {
		return 0, 1000
	}
	lo, hi := pkts[0].Time, pkts[0].Time
	for _, p := range pkts[1:] {
		if p.Time.Before(lo) {
			lo = p.Time
		}
		if p.Time.After(hi) {
			hi = p.Time
		}
	}
	// The duration hi-lo in seconds (below 2^64, as both are int64) and
	// nanoseconds, then in nanoseconds as a 128-bit number (dhi, dlo).
	dsec := uint64(hi.Unix()) - uint64(lo.Unix())
	dns := int64(hi.Nanosecond()) - int64(lo.Nanosecond())
	if dns < 0 {
		dsec, dns = dsec-1, dns+1e9
	}
	dhi, dlo := bits.Mul64(dsec, 1e9)
	var carry uint64
	dlo, carry = bits.Add64(dlo, uint64(dns), 0)
	dhi += carry
	// The mean gap, duration/(n-1) rounded down: at most the duration,
	// so below 2^64 seconds, and its high word below 1e9.
	ghi, glo := uint64(0), uint64(1000)
	if n := uint64(len(pkts) - 1); n > 0 {
		qlo, _ := bits.Div64(dhi%n, dlo, n)
		if qhi := dhi / n; qhi != 0 || qlo != 0 {
			ghi, glo = qhi, qlo
		}
	}
	gsec, gns := bits.Div64(ghi, glo, 1e9)
	nsec = uint64(dns) + gns
	var up uint64
	if nsec >= 1e9 {
		nsec, up = nsec-1e9, 1
	}
	sec, carry = bits.Add64(dsec, gsec, up)
	if carry != 0 {
		sec = math.MaxUint64
	}
	return sec, nsec
}

// copyTime returns t moved to copy c: c*step later. The offset can exceed
// a time.Duration (copies of a capture spanning years), so its seconds and
// nanoseconds are added apart; NewAmplifier checked that each fits.
func (a *Amplifier) copyTime(t time.Time, c int) time.Time {
	if c == 0 {
		return t
	}
	sec := int64(c) * a.stepSec
	nsec := int64(c) * a.stepNsec
	return time.Unix(t.Unix()+sec, int64(t.Nanosecond())+nsec).In(t.Location())
}

// Copies returns the number of copies.
func (a *Amplifier) Copies() int { return a.copies }

// Len returns the number of packets of the amplified trace.
func (a *Amplifier) Len() int { return a.copies * len(a.pkts) }

// Packet returns packet i of the amplified trace (copy i/n of packet i%n,
// n being the length of the capture), its Data written into buf (reused
// when its capacity suffices; Data never aliases the capture). It panics
// when i is out of range, like a slice index.
func (a *Amplifier) Packet(i int, buf []byte) Packet {
	if i < 0 || i >= a.Len() {
		panic(fmt.Sprintf("capture: amplified packet %d out of range [0, %d)", i, a.Len()))
	}
	n := len(a.pkts)
	return a.Copy(i/n, i%n, buf)
}

// Copy returns copy c of packet i of the capture, as [Amplifier.Packet].
// It panics when c is out of range [0, Copies()) or i out of range
// [0, n), n being the length of the capture, like a slice index.
func (a *Amplifier) Copy(c, i int, buf []byte) Packet {
	if c < 0 || c >= a.copies {
		panic(fmt.Sprintf("capture: amplifier copy %d out of range [0, %d)", c, a.copies))
	}
	if uint(i) >= uint(len(a.pkts)) {
		panic(fmt.Sprintf("capture: amplifier packet %d of the capture out of range [0, %d)", i, len(a.pkts)))
	}
	p := a.pkts[i]
	buf = append(buf[:0], p.Data...)
	out := Packet{Time: a.copyTime(p.Time, c), Data: buf, WireLen: p.WireLen, Link: p.Link}
	inf := &a.info[i]
	if c == 0 || inf.l3 < 0 {
		return out
	}
	d := buf[inf.l3:]
	var sum, sumIP uint32 // one's complement: sum of ~old + new words
	if inf.ver == 4 {
		for k, idx := range [2]int32{inf.src, inf.dst} {
			f := d[12+4*k : 16+4*k]
			old := binary.BigEndian.Uint32(f)
			nw := uint32(a.v4.mapWord(uint64(old), idx, c))
			binary.BigEndian.PutUint32(f, nw)
			s := (^old>>16)&0xffff + ^old&0xffff + nw>>16 + nw&0xffff
			sumIP += s
			if k == 0 || inf.dstInSum {
				sum += s
			}
		}
		binary.BigEndian.PutUint16(d[10:], adjust(binary.BigEndian.Uint16(d[10:]), sumIP))
	} else {
		for k, idx := range [2]int32{inf.src, inf.dst} {
			f := d[8+16*k : 16+16*k]
			old := binary.BigEndian.Uint64(f)
			nw := a.v6.mapWord(old, idx, c)
			binary.BigEndian.PutUint64(f, nw)
			if k == 0 || inf.dstInSum {
				for s := 0; s < 64; s += 16 {
					sum += uint32(^old>>s)&0xffff + uint32(nw>>s)&0xffff
				}
			}
		}
	}
	if inf.csum >= 0 {
		f := buf[inf.csum:]
		old := binary.BigEndian.Uint16(f)
		if !(inf.udp && old == 0) {
			nw := adjust(old, sum)
			if inf.udp && nw == 0 {
				// RFC 768 and RFC 8200 section 8.1: a computed zero is
				// sent as all ones (over IPv6 a zero is discarded).
				nw = 0xffff
			}
			binary.BigEndian.PutUint16(f, nw)
		}
	}
	return out
}

// adjust applies RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), where sum holds
// the sum of ~m + m' over the changed words.
func adjust(hc uint16, sum uint32) uint16 {
	s := uint32(^hc) + sum
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// Key returns the flow key k (of a packet of the capture) as it appears in
// copy c: its addresses mapped like the packet's. A key with an address in
// a prefix the capture never used is returned unchanged. It panics when c
// is out of range, as [Amplifier.Copy] does.
func (a *Amplifier) Key(c int, k flow.Key) flow.Key {
	if c < 0 || c >= a.copies {
		panic(fmt.Sprintf("capture: amplifier copy %d out of range [0, %d)", c, a.copies))
	}
	if c == 0 || !k.IsValid() {
		return k
	}
	b, n := k.Array()
	if n == flow.KeyLen4 {
		for off := 0; off < 8; off += 4 {
			x := uint64(binary.BigEndian.Uint32(b[off:]))
			i, ok := a.v4.index[a.v4.prefix(x)]
			if !ok {
				return k
			}
			binary.BigEndian.PutUint32(b[off:], uint32(a.v4.mapWord(x, int32(i), c)))
		}
	} else {
		for off := 0; off < 32; off += 16 {
			x := binary.BigEndian.Uint64(b[off:])
			i, ok := a.v6.index[a.v6.prefix(x)]
			if !ok {
				return k
			}
			binary.BigEndian.PutUint64(b[off:], a.v6.mapWord(x, int32(i), c))
		}
	}
	out, _ := flow.KeyFromBytes(b[:n])
	return out
}

// Amplify returns n copies of pkts made by an [Amplifier]: copy 0 first,
// then copy 1, and so on. It holds n copies of every packet in memory; use
// an Amplifier to stream large traces. Besides NewAmplifier's errors, it
// returns one, before allocating the copies (NewAmplifier's per-packet
// tables are made by then), when the copies' data or their []Packet would
// take more bytes than an int holds.
func Amplify(pkts []Packet, n int) ([]Packet, error) {
	a, err := NewAmplifier(pkts, n)
	if err != nil {
		return nil, err
	}
	// In uint64, saturating: Data slices may share memory, so their sum
	// is not bounded by the address space, and size*n wrapped an int (on
	// 32-bit, 1 MiB of packets times 2048 copies made a negative capacity).
	var size uint64
	for _, p := range pkts {
		var carry uint64
		if size, carry = bits.Add64(size, uint64(len(p.Data)), 0); carry != 0 {
			size = math.MaxUint64
		}
	}
	dhi, data := bits.Mul64(size, uint64(n))
	phi, hdrs := bits.Mul64(uint64(a.Len()), uint64(unsafe.Sizeof(Packet{})))
	if dhi != 0 || phi != 0 || data > math.MaxInt || hdrs > math.MaxInt {
		return nil, fmt.Errorf("capture: amplify copies %d of %d packets of %d bytes: the trace's data (%.4g bytes) or its []Packet (%.4g bytes) would exceed an int (%d); stream the copies with an Amplifier",
			n, len(pkts), size, float64(size)*float64(n), float64(a.Len())*float64(unsafe.Sizeof(Packet{})), math.MaxInt)
	}
	out := make([]Packet, a.Len())
	arena := make([]byte, 0, int(data))
	for i := range out {
		p := a.Packet(i, arena[len(arena):])
		arena = arena[:len(arena)+len(p.Data)]
		p.Data = p.Data[:len(p.Data):len(p.Data)]
		out[i] = p
	}
	return out, nil
}

// Upper-layer protocols besides TCP and UDP whose checksum, at byte 6 of
// their header, covers the same pseudo-header as TCP's, addresses
// included.
const (
	protoDCCP    = 33  // RFC 4340 section 9.1
	protoUDPLite = 136 // RFC 3828 section 3.1
)

// ip6Checksum gives, by protocol, the offset of the checksum field of
// the other upper layers whose checksum covers the IPv6 pseudo-header
// (RFC 8200 section 8.1): 0 for none. Over IPv4 they are left alone (no
// pseudo-header, or for VRRPv3 one that implementations disagree on).
var ip6Checksum = [...]uint8{
	flow.ProtoICMPv6: 2,  // RFC 4443 section 2.3
	89:               12, // OSPFv3, RFC 5340 section A.3.1
	103:              2,  // PIM, RFC 7761 section 4.9
	112:              6,  // VRRPv3, RFC 5798 section 5.2.8
	135:              4,  // Mobility Header, RFC 6275 section 6.1.1
}

// examine finds the outer IP header of a packet and the upper-layer
// checksum that covers its addresses. It accepts every IP header from
// which flow.Parse (after [Packet.Ethernet]) would take a key, so every
// keyed packet has its addresses remapped. It also accepts some that
// flow.Parse refuses: any IPv4 header of 20 bytes or more with IHL at
// least 5, and any 40-byte IPv6 header, whatever follows. Their addresses
// are remapped too, and only the upper-layer checksum is left alone, but
// for a TCP header cut after its checksum field.
func examine(p *Packet) ampInfo {
	inf := ampInfo{l3: -1, csum: -1, dstInSum: true}
	d := p.Data
	l3, ver := -1, 0
	switch p.Link {
	case LinkEthernet:
		l3, ver = ethernetL3(d)
	case LinkRaw, LinkDLTRaw:
		l3 = 0
		if len(d) > 0 {
			ver = int(d[0] >> 4)
		}
	case LinkIPv4:
		l3, ver = 0, 4
	case LinkIPv6:
		l3, ver = 0, 6
	case LinkNull:
		if len(d) > 4 {
			l3, ver = 4, int(d[4]>>4)
		}
	case LinkLinuxSLL, LinkLinuxSLL2:
		// The protocol field is the EtherType that Packet.Ethernet puts in
		// its frame, VLAN tags (put back by libpcap) included.
		off, et := 16, 14
		if p.Link == LinkLinuxSLL2 {
			off, et = 20, 0
		}
		if len(d) >= off {
			l3, ver = taggedL3(d, off, binary.BigEndian.Uint16(d[et:]))
		}
	}
	if l3 < 0 || l3 >= len(d) || int(d[l3]>>4) != ver {
		return inf
	}
	ip := d[l3:]
	switch {
	case ver == 4 && len(ip) >= 20 && ip[0]&0x0f >= 5:
	case ver == 6 && len(ip) >= 40:
	default:
		return inf
	}
	inf.l3, inf.ver = int32(l3), uint8(ver)
	info, err := flow.ParseIP(ip)
	if errors.Is(err, flow.ErrTruncated) {
		// A TCP header cut after its checksum field (18 or 19 of its 20
		// bytes captured) is refused by flow.ParseIP, but the field is
		// there and must follow the addresses. Parsing again with two
		// zero bytes appended finds it: every header before the TCP one
		// lies in captured bytes, and the check below keeps only a
		// checksum field that was captured.
		if pinfo, perr := flow.ParseIP(append(slices.Clone(ip), 0, 0)); perr == nil && pinfo.Key.Proto() == flow.ProtoTCP {
			info, err = pinfo, nil
		}
	}
	if err != nil || info.Fragment == flow.LaterFragment {
		return inf
	}
	l4 := l3 + int(info.L4Offset)
	off := -1
	switch proto := info.Key.Proto(); {
	case proto == flow.ProtoTCP:
		off = l4 + 16
	case proto == flow.ProtoUDP:
		off, inf.udp = l4+6, true
	case proto == protoDCCP:
		off = l4 + 6
	case proto == protoUDPLite:
		off, inf.udp = l4+6, true // a computed zero is sent as all ones (RFC 3828)
	case ver == 6 && int(proto) < len(ip6Checksum) && ip6Checksum[proto] > 0:
		off = l4 + int(ip6Checksum[proto])
	}
	// The field must be captured and inside the IP packet (flow.ParseIP
	// checks the header length of TCP, UDP and ICMPv6 only).
	end := len(d)
	if ver == 4 {
		end = min(end, l3+int(binary.BigEndian.Uint16(ip[2:])))
	} else if plen := int(binary.BigEndian.Uint16(ip[4:])); plen != 0 {
		end = min(end, l3+40+plen)
	}
	if off >= 0 && off+2 <= end {
		inf.csum = int32(off)
	}
	if ver == 6 {
		inf.dstInSum = !activeRouting(ip)
	} else {
		inf.dstInSum = !activeSourceRoute(ip)
	}
	return inf
}

// activeSourceRoute reports whether an IPv4 header has a loose or strict
// source route option with addresses left (its pointer not past its
// length): the upper-layer checksum then uses the route's final
// destination (RFC 9293 section 3.1), not the destination field, which
// holds the next hop.
func activeSourceRoute(ip []byte) bool {
	opts := ip[20:min(len(ip), int(ip[0]&0x0f)*4)]
	for len(opts) > 0 {
		switch opts[0] {
		case 0: // end of options
			return false
		case 1: // no-op
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return false
		}
		if n := opts[1]; (opts[0] == 131 || opts[0] == 137) && n >= 7 && opts[2] <= n {
			return true
		}
		opts = opts[opts[1]:]
	}
	return false
}

// ethernetL3 returns the offset of the IP header of an Ethernet frame and
// its IP version from the EtherType, skipping VLAN tags as flow.Parse does;
// -1 when the frame does not carry IP.
func ethernetL3(d []byte) (int, int) {
	if len(d) < 14 {
		return -1, 0
	}
	return taggedL3(d, 14, binary.BigEndian.Uint16(d[12:]))
}

// taggedL3 is ethernetL3 from EtherType et, whose payload starts at off.
func taggedL3(d []byte, off int, et uint16) (int, int) {
	for tags := 0; et == 0x8100 || et == 0x88A8 || et == 0x9100; tags++ {
		if tags == flow.MaxVLANTags || len(d) < off+4 {
			return -1, 0
		}
		et = binary.BigEndian.Uint16(d[off+2:])
		off += 4
	}
	switch et {
	case etherIPv4:
		return off, 4
	case etherIPv6:
		return off, 6
	}
	return -1, 0
}

// activeRouting reports whether an IPv6 packet has a routing header with
// segments left: its upper-layer checksum then uses the final destination
// from the routing header (RFC 8200 section 8.1), not the destination
// field, which the amplifier must leave out of the checksum update.
func activeRouting(ip []byte) bool {
	nh, off := ip[6], 40
	for range flow.MaxExtHeaders {
		switch nh {
		case 0, 60, 51, 44:
		case 43:
			return len(ip) >= off+4 && ip[off+3] > 0
		default:
			return false
		}
		if len(ip) < off+2 {
			return false
		}
		size := (int(ip[off+1]) + 1) * 8
		switch nh {
		case 51:
			size = (int(ip[off+1]) + 2) * 4
		case 44:
			size = 8
		}
		nh, off = ip[off], off+size
	}
	return false
}
