//go:build linux

package xdp

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_OddFrames runs seeded random odd frames through the kernel
// and the Go digest, one at a time: GRE with any flags (optional fields
// claimed past the frame end, inner IPv4, IPv6 and other payloads, cut
// anywhere), ESP, AH and SCTP headers of 0 to 19 bytes, over IPv4 (with
// options and VLAN tags), IPv6 (with AH or a fragment header) and in later
// fragments; then cut short, given a wrong IP length, padded, or with
// random bytes changed. The tables must be equal cell for cell: PacketID
// and iblt_packet_id read the same fields of every frame.
func TestKernel_OddFrames(t *testing.T) {
	o := Options{Cells: 3, Hashes: 3, Seed: 0x5eed}
	k := loadKernel(t, o)
	rng := rand.New(rand.NewPCG(1, 2))
	// 10.1.0.1 > 10.1.0.2 icmp echo request id 1 seq 42, IPv4 ID 0x4444:
	// the packet some GRE frames carry
	echo := pkt.Frame{
		IP4:  &pkt.IPv4{Src: pkt.Addr("10.1.0.1"), Dst: pkt.Addr("10.1.0.2"), ID: 0x4444},
		ICMP: &pkt.ICMP{Type: 8, Rest: [4]byte{0, 1, 0, 42}}, Payload: []byte("ping"),
	}
	rb := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	flagsSet := []uint16{0, greC, greR, greK, greS, greC | greK, greC | greK | greS, greR | greK | greS, greK | greS, greS, greC | greR | greK | greS}
	types := []uint16{0x0800, 0x86dd, 0x6558, 0x22eb}
	bad, ok, ins := 0, 0, 0
	for n := 0; n < 20000; n++ {
		var payload []byte
		var proto uint8
		switch rng.IntN(5) {
		case 0, 1:
			proto = 47
			f := flagsSet[rng.IntN(len(flagsSet))]
			if rng.IntN(4) == 0 {
				f = uint16(rng.UintN(1 << 16))
			}
			ty := types[rng.IntN(len(types))]
			var body []byte
			if rng.IntN(2) == 0 {
				body = inner(echo)
			} else {
				body = rb(rng.IntN(80))
				if ty == 0x0800 && len(body) > 0 {
					body[0] = 0x40 | byte(rng.IntN(16))
				}
			}
			payload = append(be(f, ty), body...)
		case 2:
			proto = 50
			payload = rb(rng.IntN(16))
		case 3:
			proto = 51
			payload = rb(rng.IntN(20))
		case 4:
			proto = 132
			payload = rb(rng.IntN(16))
		}
		var frame []byte
		switch rng.IntN(6) {
		case 4:
			frame = pkt.Frame{VLANs: []pkt.VLAN{{ID: 5}}, IP4: &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2"), ID: 9, Options: rb(4 * rng.IntN(4)), Protocol: proto}, Payload: payload}.Bytes()
		case 5:
			frame = pkt.Frame{VLANs: []pkt.VLAN{{ID: 5}, {ID: 6}}, IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: proto, Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: uint16(rng.IntN(3)), ID: rng.Uint32()}}}, Payload: payload}.Bytes()
		case 0: // IPv4
			frame = ip4(proto, uint16(rng.UintN(1<<16)), payload)
		case 1: // IPv6
			frame = ip6(proto, payload)
		case 2: // IPv4 later fragment
			frame = pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("192.0.2.1"), Dst: pkt.Addr("192.0.2.2"), ID: 7, FragOffset: uint16(1 + rng.IntN(100)), Protocol: proto}, Payload: payload}.Bytes()
		case 3: // IPv6 AH then proto
			ah := pkt.Ext{Type: pkt.ExtAH, Data: rb(10)}
			frame = pkt.Frame{IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: proto, Ext: []pkt.Ext{ah}}, Payload: payload}.Bytes()
		}
		if rng.IntN(3) == 0 && len(frame) > 15 {
			for range 1 + rng.IntN(3) {
				frame[14+rng.IntN(len(frame)-14)] = byte(rng.UintN(256))
			}
		}
		switch rng.IntN(4) {
		case 0: // cut short
			if len(frame) > 14 {
				frame = frame[:14+rng.IntN(len(frame)-14)]
			}
		case 1: // length field changed
			if len(frame) > 20 {
				if frame[12] == 0x08 {
					binary.BigEndian.PutUint16(frame[16:], uint16(rng.IntN(len(frame)+10)))
				} else {
					binary.BigEndian.PutUint16(frame[18:], uint16(rng.IntN(len(frame)+10)))
				}
			}
		case 2: // padded
			frame = append(frame, rb(rng.IntN(8))...)
		}
		if len(frame) < kerneltest.MinFrame {
			continue
		}
		got, want := digestOne(t, k, o, frame)
		ok++
		if !want.IsEmpty() {
			ins++
		}
		if !got.Equal(want) {
			bad++
			info, perr := flow.Parse(frame)
			if bad <= 10 {
				t.Errorf("frame %x: kernel differs from Go (parse err %v, Go id %#x, info %+v)", frame, perr, PacketID(frame, info), info)
			}
		}
	}
	if bad > 0 || ins < ok/2 {
		t.Errorf("%d of %d frames differ, %d inserted", bad, ok, ins)
	}
}

// digestOne returns the kernel's digest of frame alone (from an emptied
// table) and the Go digest of the same frame.
func digestOne(tb testing.TB, k *Kernel, o Options, frame []byte) (got, want *iblt.Table) {
	tb.Helper()
	if err := k.Reset(); err != nil {
		tb.Fatal(err)
	}
	if _, err := k.Run(frame); err != nil {
		tb.Fatal(err)
	}
	got, err := k.Table()
	if err != nil {
		tb.Fatal(err)
	}
	want, _ = Digest(o, [][]byte{frame})
	return got, want
}
