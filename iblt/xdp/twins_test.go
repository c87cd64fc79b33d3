package xdp

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestLost_Twins pins what the package doc says about twins, with IPv6 ESP
// packets (no identifier field: every packet of the flow has identifier
// 0): losing one lists it, losing two leaves the listing incomplete while
// the other lost packets still list exactly, and with an extra packet
// downstream a twin residue can list that packet as lost with a wrong
// byte count.
func TestLost_Twins(t *testing.T) {
	esp := func(seq uint32) []byte {
		payload := make([]byte, 24)
		binary.BigEndian.PutUint32(payload[0:], 0x1000) // SPI
		binary.BigEndian.PutUint32(payload[4:], seq)    // ESP sequence number
		// [2001:db8::1] > [2001:db8::2] esp spi 0x1000 seq <seq>
		return pkt.Frame{
			IP6:     &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: 50},
			Payload: payload,
		}.Bytes()
	}
	udp := func(port uint16) []byte {
		// [2001:db8::3]:<port> > [2001:db8::4]:53 udp "hello world!"
		return pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::3"), Dst: pkt.Addr("2001:db8::4")},
			UDP: &pkt.UDP{SrcPort: port, DstPort: 53}, Payload: []byte("hello world!"),
		}.Bytes()
	}
	var frames [][]byte
	for seq := uint32(1); seq <= 10; seq++ {
		frames = append(frames, esp(seq))
	}
	i0, _ := flow.Parse(frames[0])
	i1, _ := flow.Parse(frames[1])
	if PacketKey(frames[0], i0) != PacketKey(frames[1], i1) {
		t.Fatal("ESP packets 1 and 2 are not twins; update the package doc")
	}
	o := Options{Cells: 60, Hashes: 3, Seed: 1}
	up, _ := Digest(o, append(frames, udp(1)))
	down, _ := Digest(o, frames[1:]) // ESP 1 and the UDP packet lost
	lost, extra, err := Lost(up, down)
	if err != nil || len(lost) != 2 || len(extra) != 0 {
		t.Errorf("one ESP twin and one UDP packet lost: listed %+v and %+v, err %v", lost, extra, err)
	}
	down, _ = Digest(o, frames[2:]) // ESP 1 and 2, and the UDP packet lost
	lost, extra, err = Lost(up, down)
	ui, _ := flow.Parse(udp(1))
	if !errors.Is(err, iblt.ErrDecodeIncomplete) || len(extra) != 0 || len(lost) != 1 || lost[0].Flow != ui.Key || lost[0].Bytes != uint64(len(udp(1))) {
		t.Errorf("two ESP twins and one UDP packet lost: listed %+v and %+v, err %v; want the UDP packet and ErrDecodeIncomplete", lost, extra, err)
	}
	// Two twins lost and one extra packet seen downstream only, sharing a
	// cell with them in this small table: the extra packet is listed as
	// lost, with twice the ESP length minus its own as byte count.
	o = Options{Cells: 9, Hashes: 3, Seed: 1}
	up, _ = Digest(o, frames[:2])
	down, _ = Digest(o, [][]byte{udp(1)})
	lost, extra, err = Lost(up, down)
	if !errors.Is(err, iblt.ErrDecodeIncomplete) || len(extra) != 0 || len(lost) != 1 || lost[0].Flow != ui.Key || lost[0].Bytes != 2*uint64(len(frames[0]))-uint64(len(udp(1))) {
		t.Errorf("two ESP twins lost, one extra UDP packet: listed %+v and %+v, err %v; want the extra packet as lost with a wrong byte count", lost, extra, err)
	}
}
