package xdp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// FuzzParseKey: ParseKey never panics, and it accepts exactly the packet
// keys that PacketKey writes: an accepted key, written back from what
// ParseKey returned, is the input byte for byte, so no two byte strings
// decode to one packet and no padding is silently dropped.
func FuzzParseKey(f *testing.F) {
	v4 := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoTCP)
	v6 := flow.KeyFrom16([16]byte{0: 0x20, 1: 0x01, 15: 1}, [16]byte{0: 0x20, 1: 0x01, 15: 2}, 53, 5353, flow.ProtoUDP)
	for _, k := range []flow.Key{v4, v6} {
		var b [KeyLen]byte
		copy(b[:], k.Bytes())
		b[37] = byte(k.Len())
		binary.LittleEndian.PutUint64(b[40:], 0x0102030405060708)
		f.Add(b[:])
		bad := b
		bad[38] = 1 // non-zero reserved byte
		f.Add(bad[:])
		bad = b
		bad[39] = 1 // the other reserved byte
		f.Add(bad[:])
	}
	f.Add(make([]byte, KeyLen))
	f.Add(make([]byte, KeyLen-1))

	f.Fuzz(func(t *testing.T, b []byte) {
		k, id, err := ParseKey(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(b) != KeyLen {
			t.Fatalf("accepted a %d-byte key", len(b))
		}
		var back [KeyLen]byte
		copy(back[:37], k.Bytes())
		back[37] = byte(k.Len())
		binary.LittleEndian.PutUint64(back[40:], id)
		if !bytes.Equal(back[:], b) {
			t.Fatalf("ParseKey(%x) = %v, %#x, which writes back as %x", b, k, id, back)
		}
	})
}

// FuzzPacketID: for any frame, PacketID and PacketKey never panic, whether
// given the frame's own parse result or a parse result that does not
// belong to it (offsets past the end, any protocol PacketID reads), and
// ParseKey inverts PacketKey.
func FuzzPacketID(f *testing.F) {
	for _, fr := range [][]byte{
		pkt.TCP4("10.0.0.1:1234", "10.0.0.2:80", 0x02, nil),
		pkt.UDP4("10.0.0.1:53", "10.0.0.2:53", []byte{1, 2, 3, 4, 5, 6, 7, 8}),
		pkt.UDP6("[2001:db8::1]:53", "[2001:db8::2]:53", []byte{1, 2, 3, 4}),
		{},
		make([]byte, 14),
	} {
		f.Add(fr, uint16(0), uint16(0))
	}
	for _, c := range packetIDCases() { // TCP, UDP, ESP, AH, SCTP, GRE, later fragments
		f.Add(c.frame, uint16(0), uint16(0))
	}
	f.Fuzz(func(t *testing.T, frame []byte, l3, l4 uint16) {
		info, err := flow.Parse(frame)
		if err == nil {
			id := PacketID(frame, info)
			k := PacketKey(frame, info)
			got, gotID, err := ParseKey(k[:])
			if err != nil {
				t.Fatalf("ParseKey(PacketKey) of %x: %v", frame, err)
			}
			if got != info.Key || gotID != id {
				t.Fatalf("ParseKey(PacketKey) = %v, %#x; want %v, %#x", got, gotID, info.Key, id)
			}
		}
		// A mismatched Info: the frame's key (or none) with any offsets.
		info.L3Offset, info.L4Offset = l3, l4
		for _, key := range []flow.Key{info.Key, udp4Key(), udp6Key(), keyOf(47), keyOf(50), keyOf(51), keyOf(132)} {
			info.Key = key
			for _, fr := range []flow.Fragment{flow.NotFragment, flow.LaterFragment} {
				info.Fragment = fr
				_ = PacketID(frame, info)
				_ = PacketKey(frame, info)
			}
		}
	})
}

func udp4Key() flow.Key {
	return flow.KeyFrom4([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 1, 2, flow.ProtoUDP)
}

// keyOf returns an IPv4 key of protocol proto, without ports.
func keyOf(proto uint8) flow.Key {
	return flow.KeyFrom4([4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}, 0, 0, proto)
}

func udp6Key() flow.Key {
	return flow.KeyFrom16([16]byte{0: 0xfe, 1: 0x80, 15: 1}, [16]byte{0: 0xfe, 1: 0x80, 15: 2}, 1, 2, flow.ProtoUDP)
}
