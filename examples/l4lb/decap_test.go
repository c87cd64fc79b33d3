//go:build linux

package main

import (
	"bytes"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestDecap_OuterFragments: the decap program stands in for an ipip
// device, which reassembles a fragmented outer packet before it strips
// the outer header. The load balancer sends inner packets without DF with
// an outer DF clear too, so a router on the way may fragment the outer
// packet. Each outer fragment must then go to the stack untouched: with
// its outer header stripped, a first fragment would become a cut inner
// packet, and a later fragment would turn bytes of the inner payload into
// a packet header.
func TestDecap_OuterFragments(t *testing.T) {
	kerneltest.Require(t)
	var objs decapObjects
	if err := loadDecapObjects(&objs, nil); err != nil {
		t.Fatal(err)
	}
	defer objs.Close()

	// The inner packet, 203.0.113.5:5353 > 10.200.100.1:7000 UDP.
	inner := pkt.UDP4("203.0.113.5:5353", "10.200.100.1:7000", make([]byte, 64))[14:]
	outer := func(flags uint8, off uint16, payload []byte) []byte {
		return pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.200.2.2"), Dst: pkt.Addr("10.200.11.2"), ID: 7,
			Flags: flags, FragOffset: off, Protocol: 4}, Payload: payload}.Bytes()
	}

	// A whole outer packet loses its outer header.
	whole := outer(0, 0, inner)
	v, out := kerneltest.Run(t, objs.XdpDecap, whole)
	if v != 2 || !bytes.Equal(out[14:], inner) || !bytes.Equal(out[:12], whole[:12]) {
		t.Fatalf("whole outer packet: verdict %d, frame %x; want XDP_PASS with the inner packet", v, out)
	}

	for _, c := range []struct {
		name  string
		frame []byte
	}{
		{"first outer fragment", outer(pkt.MF, 0, inner[:48])},
		// The payload of a later fragment: here bytes that happen to read
		// as an IPv4 header.
		{"later outer fragment", outer(0, 6, inner[48:])},
		{"later outer fragment, IPv4-looking payload", outer(0, 6, inner)},
	} {
		v, out := kerneltest.Run(t, objs.XdpDecap, c.frame)
		if v != 2 || !bytes.Equal(out, c.frame) {
			t.Errorf("%s: verdict %d, frame\n%x\nwant XDP_PASS, untouched\n%x", c.name, v, out, c.frame)
		}
	}
}
