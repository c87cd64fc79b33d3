//go:build linux

package xdp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestKernel_OuterChecksumCarry: the outer IPv4 checksum is right when
// folding the 32-bit sum of the header once still leaves a carry, which
// only a second fold adds back: a few in 65536 headers, which ones
// depending on the byte order the words are added in. The test picks,
// through the model, inner identifications whose outer headers are such
// cases in each byte order (the outer ID follows the inner one when DF is
// clear), and the kernel must send what the model sends, with an outer
// header that checks.
func TestKernel_OuterChecksumCarry(t *testing.T) {
	p := load(t, Options{Seed: 11, Table: maglev.Params{Size: 251}})
	// Outer addresses of large words, so that the sum carries in either
	// byte order (with small ones it cannot in the host's).
	cfg := testConfig
	cfg.Src4 = netip.MustParseAddr("254.254.254.254")
	if err := p.lb.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := p.model.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.1"), 80, flow.ProtoTCP}, backends("253.253.253.253"))
	frame := func(id uint16) []byte {
		// 203.0.113.5:40000 > 198.51.100.1:80 TCP SYN, IPv4 ID id, DF clear
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("203.0.113.5"), Dst: pkt.Addr("198.51.100.1"), ID: id},
			TCP: &pkt.TCP{SrcPort: 40000, DstPort: 80, Flags: pkt.SYN}}.Bytes()
	}
	info, err := flow.Parse(frame(0))
	if err != nil {
		t.Fatal(err)
	}
	backend := netip.MustParseAddr("253.253.253.253")
	found, foundBE, foundLE := 0, false, false
	for id := 0; id < 1<<16; id++ {
		out, err := Encapsulate(frame(uint16(id)), info.Key.Hash(11), backend, cfg, DefaultMTU)
		if err != nil {
			t.Fatal(err)
		}
		h := slices.Clone(out[14 : 14+20])
		h[10], h[11] = 0, 0
		// The sum of the words read in either byte order: the kernel
		// adds them as loaded, in the host's order.
		var be, le uint32
		for i := 0; i < 20; i += 2 {
			be += uint32(binary.BigEndian.Uint16(h[i:]))
			le += uint32(binary.LittleEndian.Uint16(h[i:]))
		}
		carryBE, carryLE := be&0xffff+be>>16 > 0xffff, le&0xffff+le>>16 > 0xffff
		if !carryBE && !carryLE || found >= 4 && (foundBE || !carryBE) && (foundLE || !carryLE) {
			continue // one fold is enough, or such headers were tried
		}
		found++
		foundBE, foundLE = foundBE || carryBE, foundLE || carryLE
		f := frame(uint16(id))
		v, kout := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, _ := p.model.Process(f)
		if v != TX || mv != TX || !bytes.Equal(kout, mout) {
			t.Fatalf("inner ID %#04x: kernel %d sent\n%x\nmodel %d sent\n%x", id, v, kout, mv, mout)
		}
		// The header with its checksum sums to 0xffff (RFC 1071).
		var sum uint32
		for i := 14; i < 14+20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(kout[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		if sum != 0xffff {
			t.Fatalf("inner ID %#04x: outer header %x does not check (sum %#04x)", id, kout[14:34], sum)
		}
	}
	if !foundBE || !foundLE {
		t.Fatalf("no inner ID gives an outer header whose sum carries twice in both byte orders (big-endian %v, little-endian %v)", foundBE, foundLE)
	}
}

// TestKernel_OuterIDHighFragmentOffset: the outer identification of a
// fragment uses all 13 bits of the inner fragment offset, the highest
// (offsets from 32768 bytes) included, up to the last that fits a
// datagram of 65535 bytes: kernel and model send the same bytes, and the
// ID is the documented one.
func TestKernel_OuterIDHighFragmentOffset(t *testing.T) {
	const seed = 5
	p := load(t, Options{Seed: seed, Table: maglev.Params{Size: 251}})
	p.setVIP(t, VIP{netip.MustParseAddr("198.51.100.9"), 0, flow.ProtoUDP}, backends("10.1.0.2"))
	frag := func(off uint16, more bool) []byte { return udpFragment(0x5151, off, more, 16) }
	first, err := flow.Parse(frag(0, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []uint16{0, 0x1000, 0x1234, 0x1ff0} {
		f := frag(off, off != 0x1ff0)
		v, out := kerneltest.Run(t, p.lb.Program(), f)
		mv, mout, _ := p.model.Process(f)
		if v != TX || mv != TX || !bytes.Equal(out, mout) {
			t.Fatalf("fragment at offset %#x: kernel %d sent\n%x\nmodel %d sent\n%x", off, v, out, mv, mout)
		}
		want := 0x5151 + uint16(first.Key.Hash(seed)>>16) + off*idFragMul
		if got := binary.BigEndian.Uint16(out[14+4:]); got != want {
			t.Errorf("fragment at offset %#x: outer ID %#04x, want %#04x", off, got, want)
		}
	}
}
