//go:build linux

package xdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// oddGen makes the seeded frames of TestKernel_OddFrames.
type oddGen struct {
	rng     *rand.Rand
	dsts4   []netip.Addr
	dsts6   []netip.Addr
	srcs4   []netip.Addr
	srcs6   []netip.Addr
	pending [][]byte // later fragments not sent yet
}

func (g *oddGen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	return b
}

func (g *oddGen) pick(as []netip.Addr) netip.Addr { return as[g.rng.IntN(len(as))] }

// port is a VIP port most of the time, so frames hit exact and all-ports
// VIPs, and a few source ports, so flows repeat (connection tracking).
func (g *oddGen) port(src bool) uint16 {
	if src {
		return uint16(40000 + g.rng.IntN(40))
	}
	ports := []uint16{80, 53, 443, 5000, 0}
	if g.rng.IntN(6) == 0 {
		return uint16(g.rng.UintN(1 << 16))
	}
	return ports[g.rng.IntN(len(ports))]
}

// payloadLen is short, empty, or brings the IP packet near the MTU
// (1500): within 48 bytes of the limits of IPv4 (1480) and IPv6 (1460)
// backends.
func (g *oddGen) payloadLen() int {
	switch g.rng.IntN(5) {
	case 0:
		return 0
	case 1:
		return 1400 + g.rng.IntN(96)
	default:
		return g.rng.IntN(64)
	}
}

// packet returns an unfragmented IP packet in a frame: IPv4 (options,
// DF set or clear, any ID) or IPv6 (sometimes with a destination-options
// header), carrying TCP, UDP, ICMP or another protocol's bytes, to a VIP
// address or another one, sometimes behind one or two VLAN tags.
func (g *oddGen) packet() pkt.Frame {
	var f pkt.Frame
	v6 := g.rng.IntN(3) == 0
	if v6 {
		f.IP6 = &pkt.IPv6{Src: g.pick(g.srcs6), Dst: g.pick(g.dsts6)}
		if g.rng.IntN(8) == 0 {
			f.IP6.Ext = []pkt.Ext{{Type: pkt.ExtDstOpts, Data: g.bytes(6)}}
		}
	} else {
		f.IP4 = &pkt.IPv4{Src: g.pick(g.srcs4), Dst: g.pick(g.dsts4), ID: uint16(g.rng.UintN(1 << 16))}
		if g.rng.IntN(2) == 0 {
			f.IP4.Flags = pkt.DF
		}
		if g.rng.IntN(6) == 0 {
			f.IP4.Options = g.bytes(4 * (1 + g.rng.IntN(10)))
		}
	}
	f.Payload = g.bytes(g.payloadLen())
	switch g.rng.IntN(8) {
	case 0, 1, 2:
		f.TCP = &pkt.TCP{SrcPort: g.port(true), DstPort: g.port(false), Flags: pkt.ACK}
	case 3, 4, 5:
		f.UDP = &pkt.UDP{SrcPort: g.port(true), DstPort: g.port(false)}
	case 6:
		if v6 {
			f.ICMPv6 = &pkt.ICMPv6{Type: 128, Rest: [4]byte{0, 1, 0, byte(g.rng.IntN(4))}}
		} else {
			f.ICMP = &pkt.ICMP{Type: 8, Rest: [4]byte{0, 1, 0, byte(g.rng.IntN(4))}}
		}
	case 7:
		protos := []uint8{47, 50, 132, 4, 41, 255}
		if v6 {
			f.IP6.Protocol = protos[g.rng.IntN(len(protos))]
		} else {
			f.IP4.Protocol = protos[g.rng.IntN(len(protos))]
		}
	}
	switch g.rng.IntN(16) {
	case 0:
		f.VLANs = []pkt.VLAN{{ID: 7}}
	case 1:
		f.VLANs = []pkt.VLAN{{TPID: 0x88a8, ID: 7}, {ID: 8}}
	}
	return f
}

// fragments splits f's IP payload (the transport header onwards) into 2
// to 4 fragments at 8-byte boundaries, with identification id: IPv4
// fragments keep f's header (options, DF, VLAN tags); IPv6 fragments get
// a fragment header first, and the first fragment keeps f's other
// extension headers after it. It returns nil if the payload is too short.
func (g *oddGen) fragments(f pkt.Frame, id uint32) [][]byte {
	full := f.Bytes()
	ip := full[14+4*len(f.VLANs):]
	var body []byte
	var proto uint8
	if f.IP4 != nil {
		body, proto = ip[4*int(ip[0]&0xf):], ip[9]
	} else {
		hl, next := 40, ip[6]
		for range f.IP6.Ext {
			next = ip[hl]
			hl += 8 * (int(ip[hl+1]) + 1)
		}
		body, proto = ip[hl:], next
	}
	n := 2 + g.rng.IntN(3)
	step := ((len(body)+n-1)/n + 7) &^ 7
	if step == 0 || step >= len(body) {
		return nil
	}
	var out [][]byte
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		more := end < len(body)
		c := pkt.Frame{VLANs: f.VLANs, Payload: body[off:end]}
		if f.IP4 != nil {
			h := *f.IP4
			h.ID, h.FragOffset, h.Protocol = uint16(id), uint16(off/8), proto
			if more {
				h.Flags |= pkt.MF
			}
			c.IP4 = &h
		} else {
			h := *f.IP6
			fh := pkt.Ext{Type: pkt.ExtFragment, FragOffset: uint16(off / 8), More: more, ID: id}
			h.Ext, h.Protocol = []pkt.Ext{fh}, proto
			if off == 0 {
				h.Ext = append(h.Ext, f.IP6.Ext...)
			} else if len(f.IP6.Ext) > 0 {
				h.Protocol = f.IP6.Ext[0].Type
			}
			c.IP6 = &h
		}
		out = append(out, c.Bytes())
	}
	return out
}

// next returns the next frame: a later fragment held back, or a new
// packet, whole or fragmented (its first fragment now, sometimes lost,
// the rest later, sometimes lost or repeated), or an orphan later
// fragment; then sometimes cut short, given a wrong IP length, padded or
// with random bytes changed.
func (g *oddGen) next() []byte {
	var frame []byte
	switch r := g.rng.IntN(10); {
	case r < 3 && len(g.pending) > 0:
		i := g.rng.IntN(len(g.pending))
		frame = g.pending[i]
		g.pending[i] = g.pending[len(g.pending)-1]
		g.pending = g.pending[:len(g.pending)-1]
	case r < 6:
		f := g.packet()
		id := uint32(g.rng.UintN(64)) // few IDs: entries of earlier datagrams get reused
		if g.rng.IntN(4) == 0 {
			id = g.rng.Uint32()
		}
		frags := g.fragments(f, id)
		if frags == nil {
			frame = f.Bytes()
			break
		}
		for _, later := range frags[1:] {
			if g.rng.IntN(10) == 0 {
				continue // lost
			}
			g.pending = append(g.pending, later)
			if g.rng.IntN(10) == 0 {
				g.pending = append(g.pending, later) // duplicated
			}
		}
		if g.rng.IntN(8) == 0 { // first fragment lost: the rest are orphans
			return g.next()
		}
		frame = frags[0]
	case r < 7: // orphan later fragment
		f := g.packet()
		f.TCP, f.UDP, f.ICMP, f.ICMPv6 = nil, nil, nil, nil
		off := uint16(1 + g.rng.IntN(200))
		if f.IP4 != nil {
			f.IP4.FragOffset, f.IP4.Protocol, f.IP4.ID = off, pkt.ProtoUDP, uint16(g.rng.UintN(64))
		} else {
			f.IP6.Ext = append([]pkt.Ext{{Type: pkt.ExtFragment, FragOffset: off, ID: uint32(g.rng.UintN(64))}}, f.IP6.Ext...)
		}
		frame = f.Bytes()
	default:
		frame = g.packet().Bytes()
	}
	frame = bytes.Clone(frame)
	if g.rng.IntN(12) == 0 && len(frame) > 15 {
		for range 1 + g.rng.IntN(3) {
			frame[14+g.rng.IntN(len(frame)-14)] = byte(g.rng.UintN(256))
		}
	}
	switch g.rng.IntN(12) {
	case 0: // cut short
		if len(frame) > 14 {
			frame = frame[:14+g.rng.IntN(len(frame)-14)]
		}
	case 1: // IP length changed
		if len(frame) > 20 && frame[12] == 0x08 {
			binary.BigEndian.PutUint16(frame[16:], uint16(g.rng.IntN(len(frame)+10)))
		} else if len(frame) > 20 && frame[12] == 0x86 {
			binary.BigEndian.PutUint16(frame[18:], uint16(g.rng.IntN(len(frame)+10)))
		}
	case 2, 3: // Ethernet padding
		frame = append(frame, g.bytes(1+g.rng.IntN(40))...)
	}
	return frame
}

// The VIPs of TestKernel_OddFrames and FuzzKernelFrames: exact and
// all-ports VIPs over IPv4 and IPv6 backends, and a drained one.
var (
	oddExact4  = VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}
	oddExact4u = VIP{netip.MustParseAddr("198.51.100.1"), 53, flow.ProtoUDP}
	oddAll4    = VIP{netip.MustParseAddr("198.51.100.9"), 0, flow.ProtoUDP}
	oddAll4i   = VIP{netip.MustParseAddr("198.51.100.9"), 0, flow.ProtoICMP}
	oddExact6  = VIP{netip.MustParseAddr("2001:db8::80"), 443, flow.ProtoTCP}
	oddAll6    = VIP{netip.MustParseAddr("2001:db8::90"), 0, flow.ProtoUDP}
	oddDrained = VIP{netip.MustParseAddr("198.51.100.2"), 80, flow.ProtoTCP}
)

// loadOdd loads a kernel and its model, with connection tracking, tables
// large enough that neither forgets an entry in a test's run, and the odd
// VIPs; and a generator of frames to them, seeded with seed.
func loadOdd(tb testing.TB, seed uint64) (pair, *oddGen) {
	tb.Helper()
	p := load(tb, Options{Seed: 0x0dd, Table: maglev.Params{Size: 251, Seed: 11}, ConnTrack: true, Conns: 1 << 18, Frags: 1 << 18})
	p.setVIP(tb, oddExact4, backends("10.1.0.1", "10.1.0.2", "10.1.0.3"))
	p.setVIP(tb, oddExact4u, backends("2001:db8:1::1", "2001:db8:1::2"))
	p.setVIP(tb, oddAll4, backends("10.3.0.1", "2001:db8:3::1", "10.1.0.1"))
	p.setVIP(tb, oddAll4i, backends("10.4.0.1"))
	p.setVIP(tb, oddExact6, backends("2001:db8:2::1", "2001:db8:2::2", "10.2.0.1"))
	p.setVIP(tb, oddAll6, backends("2001:db8:6::1", "2001:db8:6::2"))
	p.setVIP(tb, oddDrained, []Backend{{Addr: netip.MustParseAddr("10.9.0.1")}})
	g := &oddGen{
		rng:   rand.New(rand.NewPCG(seed, 4)),
		dsts4: []netip.Addr{oddExact4.Addr, oddAll4.Addr, oddDrained.Addr, pkt.Addr("192.0.2.77")},
		dsts6: []netip.Addr{oddExact6.Addr, oddAll6.Addr, pkt.Addr("2001:db8::77")},
	}
	for i := range 8 {
		g.srcs4 = append(g.srcs4, netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
		g.srcs6 = append(g.srcs6, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xc, 15: byte(i)}))
	}
	return p, g
}

// sameOutcome runs frame through kernel and model and returns a
// description of how they differ ("" when they agree): verdict, bytes
// sent, and a frame not sent must be left untouched.
func (p pair) sameOutcome(t testing.TB, frame []byte) (verdict uint32, diff string) {
	t.Helper()
	v, out := kerneltest.Run(t, p.lb.Program(), frame)
	mv, mout, _ := p.model.Process(frame)
	if v != mv || (v == TX && !bytes.Equal(out, mout)) || (v != TX && !bytes.Equal(out, frame)) {
		info, err := flow.Parse(frame)
		return v, fmt.Sprintf("frame %x\n(%v, fragment %v, id %#x, parse error %v): kernel %d, model %d\nkernel %x\nmodel  %x",
			frame, info.Key, info.Fragment, info.IPID, err, v, mv, out, mout)
	}
	return v, ""
}

// TestKernel_OddFrames runs 20,000 seeded frames aimed at the balancer's
// paths through the kernel and the model, with the same VIPs and state:
// exact, all-ports and (later) catch-all VIPs over IPv4 and IPv6 backends
// and a drained one; TCP, UDP, ICMP and other protocols; VLAN tags, IPv4
// options, DF set and clear; IPv4 and IPv6 fragments in and out of order,
// lost, repeated, orphaned, with reused identifications; repeated flows
// (connection tracking on); packets near the MTU; cut, mislabelled,
// padded and corrupted frames. A third of the way in a backend leaves a
// VIP and a more specific VIP arrives; two thirds in, the catch-all.
// Every verdict must agree, every sent frame byte for byte, frames not
// sent must be left untouched, and the counters and per-backend
// statistics must be equal at the end.
func TestKernel_OddFrames(t *testing.T) {
	p, g := loadOdd(t, 3)
	const n = 20000
	bad, tx, frames := 0, 0, 0
	for i := 0; i < n; i++ {
		switch i {
		case n / 3: // a backend leaves (its tracked flows move), a more specific VIP arrives
			p.setVIP(t, oddExact4, backends("10.1.0.1", "10.1.0.3"))
			p.setVIP(t, VIP{oddAll4.Addr, 5000, flow.ProtoUDP}, backends("10.5.0.1", "2001:db8:5::1"))
		case 2 * n / 3:
			p.setVIP(t, VIP{}, backends("10.7.0.1", "2001:db8:7::1"))
		}
		f := kerneltest.Clip(g.next())
		if len(f) < kerneltest.MinFrame {
			continue
		}
		frames++
		v, diff := p.sameOutcome(t, f)
		if v == TX {
			tx++
		}
		if diff != "" {
			if bad++; bad <= 5 {
				t.Errorf("frame %d: %s", i, diff)
			}
		}
	}
	ks, err := p.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	ms := p.model.Stats()
	if ks.Counters != ms.Counters {
		t.Errorf("counters\nkernel %+v\nmodel  %+v", ks.Counters, ms.Counters)
	}
	if !maps.Equal(ks.Backends, ms.Backends) {
		t.Errorf("backend statistics\nkernel %v\nmodel  %v", ks.Backends, ms.Backends)
	}
	c := ks.Counters
	t.Logf("%d frames: %d differ; kernel counters %+v", frames, bad, c)
	// The generator must reach every path it aims at, or the comparison
	// proves less than it claims.
	for name, x := range map[string]uint64{"PassParse": c.PassParse, "PassVLAN": c.PassVLAN, "PassNotVIP": c.PassNotVIP,
		"DropNoBackend": c.DropNoBackend, "DropTooBig": c.DropTooBig, "TX": c.TX, "ConnHit": c.ConnHit,
		"FragHit": c.FragHit, "PassFragMiss": c.PassFragMiss} {
		if x < 50 {
			t.Errorf("only %d frames counted in %s", x, name)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d frames differ, %d sent", bad, frames, tx)
	}
}

// FuzzKernelFrames runs frames of any bytes through the kernel and the
// model with the odd VIPs and connection tracking on, from seeds of
// TestKernel_OddFrames' generator: every verdict must agree, every frame
// sent byte for byte, a frame not sent must be left untouched, and the
// counters must stay equal. Kernel and model keep their state (tracked
// connections and fragments) from one input to the next, in the same
// order, so a failure can depend on inputs before it: the message holds
// the frame, and the inputs before it are in the fuzzer's log. The tables
// hold 2^18 entries, more flows than a run of 100,000 inputs makes, so
// neither side forgets one the other remembers.
func FuzzKernelFrames(f *testing.F) {
	p, g := loadOdd(f, 5)
	for range 64 {
		f.Add(g.next())
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		frame = kerneltest.Clip(frame)
		if len(frame) < kerneltest.MinFrame {
			return
		}
		if _, diff := p.sameOutcome(t, frame); diff != "" {
			t.Fatal(diff)
		}
		if k, m := kernelCounters(t, p.lb), p.model.Stats().Counters; k != m {
			t.Fatalf("frame %x: counters\nkernel %+v\nmodel  %+v", frame, k, m)
		}
	})
}
