package capture_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
)

func TestPacket_Ethernet(t *testing.T) {
	ip4 := []byte{0x45, 0, 0, 20, 1, 2, 3, 4}
	ip6 := []byte{0x60, 0, 0, 0, 0, 0, 59, 64}
	sll := func(proto uint16, payload []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], proto)
		return append(h, payload...)
	}
	sll2 := func(proto uint16, payload []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], proto)
		return append(h, payload...)
	}
	null := func(family uint32, payload []byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, family), payload...)
	}
	for _, tc := range []struct {
		name    string
		link    capture.LinkType
		data    []byte
		ok      bool
		etype   uint16
		payload []byte
	}{
		{"raw101 v4", capture.LinkRaw, ip4, true, 0x0800, ip4},
		{"raw101 v6", capture.LinkRaw, ip6, true, 0x86DD, ip6},
		{"raw12 v4", capture.LinkDLTRaw, ip4, true, 0x0800, ip4},
		{"raw101 not ip", capture.LinkRaw, []byte{0x12, 0}, false, 0, nil},
		{"raw101 empty", capture.LinkRaw, nil, false, 0, nil},
		{"ipv4 link", capture.LinkIPv4, ip4, true, 0x0800, ip4},
		{"ipv6 link", capture.LinkIPv6, ip6, true, 0x86DD, ip6},
		{"ipv6 link, bad version still declared", capture.LinkIPv6, ip4, true, 0x86DD, ip4},
		{"sll ipv4", capture.LinkLinuxSLL, sll(0x0800, ip4), true, 0x0800, ip4},
		{"sll arp", capture.LinkLinuxSLL, sll(0x0806, []byte{1, 2}), true, 0x0806, []byte{1, 2}},
		{"sll short", capture.LinkLinuxSLL, make([]byte, 15), false, 0, nil},
		{"sll2 ipv6", capture.LinkLinuxSLL2, sll2(0x86DD, ip6), true, 0x86DD, ip6},
		{"null v4", capture.LinkNull, null(2, ip4), true, 0x0800, ip4},
		{"null v6", capture.LinkNull, null(30, ip6), true, 0x86DD, ip6},
		{"null short", capture.LinkNull, []byte{2, 0}, false, 0, nil},
		{"unknown link", 147, ip4, false, 0, nil},
	} {
		p := capture.Packet{Data: tc.data, Link: tc.link}
		got, ok := p.Ethernet(nil)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		want := append(make([]byte, 12), byte(tc.etype>>8), byte(tc.etype))
		want = append(want, tc.payload...)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: frame % x, want % x", tc.name, got, want)
		}
	}
	// Ethernet is returned as is, buf untouched.
	eth := append(make([]byte, 12), 0x08, 0x00, 0x45)
	p := capture.Packet{Data: eth, Link: capture.LinkEthernet}
	buf := make([]byte, 64)
	got, ok := p.Ethernet(buf)
	if !ok || &got[0] != &eth[0] {
		t.Error("an Ethernet packet was copied")
	}
}

func TestPacket_EthernetDoesNotAllocate(t *testing.T) {
	p := capture.Packet{Data: append([]byte{0x45}, make([]byte, 99)...), Link: capture.LinkRaw}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		var ok bool
		buf, ok = p.Ethernet(buf)
		if !ok {
			t.Fatal("not converted")
		}
	})
	if allocs != 0 {
		t.Errorf("Ethernet with a large enough buffer allocates %.1f times, want 0", allocs)
	}
}

// TestPacket_EthernetLoop runs the loop of Packet.Ethernet's doc over
// packets of mixed link types: every frame is right and no packet's Data
// changes.
func TestPacket_EthernetLoop(t *testing.T) {
	ip := append([]byte{0x45}, make([]byte, 39)...)
	eth := append(make([]byte, 12), 0x08, 0x00)
	eth = append(eth, ip...)
	eth = append(eth, make([]byte, 100)...) // longer than any converted frame
	pkts := []capture.Packet{
		{Data: eth, Link: capture.LinkEthernet},
		{Data: ip, Link: capture.LinkRaw},
		{Data: bytes.Clone(eth), Link: capture.LinkEthernet},
		{Data: append(make([]byte, 4), ip...), Link: capture.LinkNull},
	}
	var orig [][]byte
	for _, p := range pkts {
		orig = append(orig, bytes.Clone(p.Data))
	}
	var buf []byte
	for range 2 {
		for i, p := range pkts {
			frame, ok := p.Ethernet(buf)
			if ok && p.Link != capture.LinkEthernet {
				buf = frame
			}
			if want, _ := (&capture.Packet{Data: orig[i], Link: p.Link}).Ethernet(nil); !ok || !bytes.Equal(frame, want) {
				t.Fatalf("packet %d: frame %x, want %x", i+1, frame, want)
			}
		}
	}
	for i, p := range pkts {
		if !bytes.Equal(p.Data, orig[i]) {
			t.Errorf("packet %d: Data changed by the loop", i+1)
		}
	}
}

// TestPacket_EthernetReusedBuffer converts into a buffer holding an older
// frame's bytes: the synthesized header's MAC addresses are zero all the
// same.
func TestPacket_EthernetReusedBuffer(t *testing.T) {
	ip4 := []byte{0x45, 0, 0, 20, 1, 2, 3, 4}
	buf := bytes.Repeat([]byte{0xff}, 64)
	p := capture.Packet{Data: ip4, Link: capture.LinkRaw}
	got, ok := p.Ethernet(buf)
	want := append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00}, ip4...)
	if !ok || !bytes.Equal(got, want) {
		t.Errorf("Ethernet into a used buffer: %x (%v), want %x", got, ok, want)
	}
}
