package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestTwins_NoAllocs guards the per-packet Go twins of the kernel: Insert,
// PacketKey, PacketID and ParseKey never allocate, on frames of every
// protocol PacketID reads (TCP, UDP and ICMP over IPv4 and IPv6, and the
// cases of TestPacketID_Protocols).
func TestTwins_NoAllocs(t *testing.T) {
	frames := [][]byte{
		pkt.TCP4("10.0.0.1:40000", "10.0.0.2:443", 0x10, []byte("x")),       // 10.0.0.1:40000 > 10.0.0.2:443 tcp [.] "x"
		pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("query")),           // 10.0.0.1:5353 > 10.0.0.2:53 udp "query"
		pkt.ICMP4("10.0.0.1", "10.0.0.2", 8, 0, []byte{0, 1, 0, 2}),         // 10.0.0.1 > 10.0.0.2 icmp echo request
		pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", 0x02, nil),     // [2001:db8::1]:40000 > [2001:db8::2]:443 tcp [S]
		pkt.UDP6("[2001:db8::1]:5353", "[2001:db8::2]:53", []byte("query")), // [2001:db8::1]:5353 > [2001:db8::2]:53 udp "query"
		pkt.ICMP6("2001:db8::1", "2001:db8::2", 128, 0, []byte{0, 1, 0, 2}), // 2001:db8::1 > 2001:db8::2 icmpv6 echo request
	}
	for _, c := range packetIDCases() {
		frames = append(frames, c.frame)
	}
	infos := make([]flow.Info, len(frames))
	keys := make([][KeyLen]byte, len(frames))
	for i, f := range frames {
		info, err := flow.Parse(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		infos[i], keys[i] = info, PacketKey(f, info)
	}
	tb := iblt.MustNew(Options{Cells: 3000, Hashes: 3, Seed: 1}.Params())
	var (
		i, failed int
		id        uint64
		key       [KeyLen]byte
	)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Insert", func() {
			if !Insert(tb, frames[i%len(frames)]) {
				failed++
			}
		}},
		{"PacketKey", func() { key = PacketKey(frames[i%len(frames)], infos[i%len(frames)]) }},
		{"PacketID", func() { id = PacketID(frames[i%len(frames)], infos[i%len(frames)]) }},
		{"ParseKey", func() {
			if _, id, err := ParseKey(keys[i%len(frames)][:]); err != nil || id != binary.LittleEndian.Uint64(keys[i%len(frames)][40:]) {
				failed++
			}
		}},
	} {
		if n := testing.AllocsPerRun(1000, func() { c.f(); i++ }); n != 0 {
			t.Errorf("%s allocates %v times per packet", c.name, n)
		}
	}
	if failed != 0 {
		t.Errorf("%d Insert or ParseKey calls failed: the guarded paths are the successful ones", failed)
	}
	_, _ = id, key
}
