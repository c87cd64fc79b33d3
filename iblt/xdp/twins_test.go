package xdp

import (
	"encoding/binary"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// TestLost_Twins pins what the package doc says about twins, with IPv6
// OSPF packets (a protocol whose header PacketID does not read: every
// packet of the flow has identifier 0): losing one lists it, losing two
// leaves the listing incomplete while the other lost packets still list
// exactly, and with an extra packet downstream a twin residue can list
// that packet as lost with a wrong byte count.
func TestLost_Twins(t *testing.T) {
	ospf := func(seq uint32) []byte {
		payload := make([]byte, 24)
		binary.BigEndian.PutUint32(payload[20:], seq) // differs, unread
		// [2001:db8::1] > [2001:db8::2] ospf, 24 bytes
		return pkt.Frame{
			IP6:     &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: 89},
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
		frames = append(frames, ospf(seq))
	}
	i0, _ := flow.Parse(frames[0])
	i1, _ := flow.Parse(frames[1])
	if PacketKey(frames[0], i0) != PacketKey(frames[1], i1) {
		t.Fatal("OSPF packets 1 and 2 are not twins; update the package doc")
	}
	o := Options{Cells: 60, Hashes: 3, Seed: 1}
	up, _ := Digest(o, append(frames, udp(1)))
	down, _ := Digest(o, frames[1:]) // OSPF 1 and the UDP packet lost
	lost, extra, err := Lost(up, down)
	if err != nil || len(lost) != 2 || len(extra) != 0 {
		t.Errorf("one OSPF twin and one UDP packet lost: listed %+v and %+v, err %v", lost, extra, err)
	}
	down, _ = Digest(o, frames[2:]) // OSPF 1 and 2, and the UDP packet lost
	lost, extra, err = Lost(up, down)
	ui, _ := flow.Parse(udp(1))
	if !errors.Is(err, iblt.ErrDecodeIncomplete) || len(extra) != 0 || len(lost) != 1 || lost[0].Flow != ui.Key || lost[0].Bytes != uint64(len(udp(1))) {
		t.Errorf("two OSPF twins and one UDP packet lost: listed %+v and %+v, err %v; want the UDP packet and ErrDecodeIncomplete", lost, extra, err)
	}
	// Two twins lost and one extra packet seen downstream only, sharing a
	// cell with them in this small table: the extra packet is listed as
	// lost, with twice the OSPF length minus its own as byte count.
	o = Options{Cells: 9, Hashes: 3, Seed: 7}
	up, _ = Digest(o, frames[:2])
	down, _ = Digest(o, [][]byte{udp(1)})
	lost, extra, err = Lost(up, down)
	if !errors.Is(err, iblt.ErrDecodeIncomplete) || len(extra) != 0 || len(lost) != 1 || lost[0].Flow != ui.Key || lost[0].Bytes != 2*uint64(len(frames[0]))-uint64(len(udp(1))) {
		t.Errorf("two OSPF twins lost, one extra UDP packet: listed %+v and %+v, err %v; want the extra packet as lost with a wrong byte count", lost, extra, err)
	}
}

// TestLost_ESP: packets of one ESP flow over IPv6 differ in their
// sequence numbers, so two of them lost are listed exactly, beside a lost
// UDP packet.
func TestLost_ESP(t *testing.T) {
	var frames [][]byte
	for seq := uint32(1); seq <= 10; seq++ {
		// [2001:db8::1] > [2001:db8::2] esp spi 0x1000 seq <seq>
		frames = append(frames, ip6(50, be(uint32(0x1000), seq, "sixteen bytes...")))
	}
	// [2001:db8::3]:1 > [2001:db8::4]:53 udp "hello world!"
	udp := pkt.UDP6("[2001:db8::3]:1", "[2001:db8::4]:53", []byte("hello world!"))
	o := Options{Cells: 60, Hashes: 3, Seed: 1}
	up, _ := Digest(o, append(frames, udp))
	down, _ := Digest(o, append(append([][]byte{}, frames[:3]...), frames[5:]...)) // ESP 4 and 5, and the UDP packet lost
	lost, extra, err := Lost(up, down)
	if err != nil || len(lost) != 3 || len(extra) != 0 {
		t.Fatalf("two ESP packets and one UDP packet lost: listed %+v and %+v, err %v", lost, extra, err)
	}
	want := map[uint64]bool{4<<32 | 0x1000<<16: true, 5<<32 | 0x1000<<16: true}
	esp, _ := flow.Parse(frames[0])
	for _, p := range lost {
		if p.Flow == esp.Key && want[p.ID] && p.Bytes == uint64(len(frames[0])) {
			delete(want, p.ID)
		}
	}
	if len(want) != 0 {
		t.Errorf("listed %+v: ESP packets with IDs %v missing", lost, want)
	}
}

// captureTwins lists, per shared capture, the packets that have a twin
// (flow and identifier equal to another packet's of the capture) and how
// many of them are IP packets byte for byte equal to another (the floor
// no identifier can go below). Captures not listed have no twins.
//
// Past those, the twins are retransmissions that repeat every field the
// identifier reads (none of them a checksum, which offload rewrites):
// TCP segments resent with the same sequence and acknowledgment numbers,
// flags and window but another length; DHCPv6 Solicits resent with the
// same transaction ID, differing only in their Elapsed Time option; SCTP
// HEARTBEATs, whose first chunk value bytes are the Heartbeat Info
// parameter's type and length.
var captureTwins = map[string]struct{ twins, identical int }{
	"ndpi-alexa-app.pcapng":                   {40, 30}, // 5 TCP segments resent longer, same sequence and ack
	"ndpi-gnutella-p2p.pcap":                  {59, 52}, // 7 DHCPv6 Solicits resent with one transaction ID
	"pcapplusplus-example-http-browsing.pcap": {2, 2},
	"pcapplusplus-tls2-browsing-ipv6.pcap":    {10, 9}, // a TCP segment resent shorter
	"ustc-tfc2016-tinba-malware.pcap":         {37, 5}, // 32 DHCPv6 Solicits resent with one transaction ID
	"gre-sample_zeek.pcap":                    {2, 2},
	"icmpv6-mix_zeek.pcap":                    {26, 14},     // repeated ICMPv6 differing outside checksum and bytes 4-7
	"ipv4-fragments-mixed_pcapplusplus.pcap":  {1439, 1433}, // 6 SCTP HEARTBEATs
	"ipv6-fragmented-dns_zeek.pcap":           {2, 2},
	"linktype-linux-sll_pcapplusplus.pcap":    {2, 2},
	"vlan-pcp-dei_zeek.pcapng":                {9, 9}, // one IP packet under different VLAN tags
}

// TestPacketID_CaptureTwins measures twins on every shared capture and
// pins the figures the package doc quotes: past byte-identical IP packets,
// only a few retransmissions are twins. ESP, GRE and later fragments
// (ipv6-esp, gre-in-gre, gre-sample, ipv4-fragments-dns,
// ipv4-fragments-mixed) get identifiers of their own, and SCTP packets
// but for a few HEARTBEATs.
func TestPacketID_CaptureTwins(t *testing.T) {
	type pktKey struct {
		flow flow.Key
		id   uint64
	}
	found := map[string]bool{}
	for _, path := range traffic.Files(t) {
		name := filepath.Base(path)
		ids := map[pktKey]int{}
		packets := map[string]int{}
		n := 0
		for _, f := range traffic.Frames(t, path) {
			info, err := flow.Parse(f)
			if err != nil {
				continue
			}
			n++
			ids[pktKey{info.Key, PacketID(f, info)}]++
			packets[string(f[info.L3Offset:])]++
		}
		var twins, identical int
		for _, c := range ids {
			if c > 1 {
				twins += c
			}
		}
		for _, c := range packets {
			if c > 1 {
				identical += c
			}
		}
		want, listed := captureTwins[name]
		found[name] = listed
		if twins != want.twins || identical != want.identical {
			t.Errorf("%s: %d of %d packets are twins, %d identical IP packets; want %d and %d", name, twins, n, identical, want.twins, want.identical)
		}
		if twins > 0 {
			t.Logf("%s: %d of %d packets are twins, %d of them identical IP packets", name, twins, n, identical)
		}
	}
	for name := range captureTwins {
		if !found[name] {
			t.Errorf("capture %s not found", name)
		}
	}
}

// Lost names a nil table, up or down, in its error (a nil up panicked in
// Clone, a nil down was "the table given is nil"); Insert into a nil
// table inserts nothing, as into the zero Table (it panicked).
func TestLost_NilTables(t *testing.T) {
	o, err := OptionsFor(10, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Digest(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		up, down *iblt.Table
		want     string
	}{
		{"Lost(nil, t)", nil, tb, "iblt kernel: Lost of a nil up table"},
		{"Lost(t, nil)", tb, nil, "iblt kernel: Lost of a nil down table"},
		{"Lost(nil, nil)", nil, nil, "iblt kernel: Lost of a nil up table"},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panics: %v", tc.name, r)
				}
			}()
			lost, extra, err := Lost(tc.up, tc.down)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || lost != nil || extra != nil {
				t.Errorf("%s: %v, %v, %v; want no packets and %q", tc.name, lost, extra, err, tc.want)
			}
		}()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Insert(nil, frame) panics: %v", r)
			}
		}()
		if Insert(nil, pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)) {
			t.Error("Insert(nil, frame): true")
		}
	}()
}

// TestLost_IPv6FragmentsAndDupACKs: the losses that a loss makes next to
// it. A 5000-byte IPv6 datagram of zeros is cut into fragments of which
// the middle ones have equal lengths and equal last bytes (they differed
// only in their offset, which the identifier did not read), and a lost
// segment makes the receiver send duplicate ACKs over IPv6, which differ
// only in their SACK blocks (IPv6 has no identification). Losing two of
// each is listed exactly, fragment for fragment and ACK for ACK.
func TestLost_IPv6FragmentsAndDupACKs(t *testing.T) {
	var frames [][]byte
	const chunk = 1448 // fragment data, a multiple of 8
	data := make([]byte, 5000)
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		// [2001:db8::1] > [2001:db8::2] frag id 0x1234 offset off, 1448 zero bytes (the last fewer)
		frames = append(frames, pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"), Protocol: pkt.ProtoUDP,
				Ext: []pkt.Ext{{Type: pkt.ExtFragment, FragOffset: uint16(off / 8), More: end < len(data), ID: 0x1234}}},
			Payload: data[off:end],
		}.Bytes())
	}
	for _, right := range []uint32{0x5000, 0x6000, 0x7000} {
		// [2001:db8::2]:443 > [2001:db8::1]:40000 tcp ack 0x1000 win 500 [.], sack 0x2000 to right
		frames = append(frames, pkt.Frame{
			IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::2"), Dst: pkt.Addr("2001:db8::1")},
			TCP: &pkt.TCP{SrcPort: 443, DstPort: 40000, Seq: 1, Ack: 0x1000, Flags: pkt.ACK, Window: 500,
				Options: be([]byte{1, 1, 5, 10}, uint32(0x2000), right)},
		}.Bytes())
	}
	// fragments 1 and 2 (the middle ones) and the last two ACKs are lost
	up, err := Digest(Options{Cells: 30, Hashes: 3, Seed: 1}, frames)
	if err != nil {
		t.Fatal(err)
	}
	kept := [][]byte{frames[0], frames[3], frames[4]}
	down, _ := Digest(Options{Cells: 30, Hashes: 3, Seed: 1}, kept)
	lost, extra, err := Lost(up, down)
	if err != nil || len(extra) != 0 || len(lost) != 4 {
		t.Fatalf("listed %d lost, %d extra, err %v; want the 4 lost packets", len(lost), len(extra), err)
	}
	want := map[uint64]bool{}
	for _, f := range [][]byte{frames[1], frames[2], frames[5], frames[6]} {
		want[id(t, f)] = true
	}
	for _, p := range lost {
		if !want[p.ID] {
			t.Errorf("listed %+v, not one of the lost packets", p)
		}
		delete(want, p.ID)
	}
	if len(want) != 0 {
		t.Errorf("lost packets with identifiers %v not listed", slices.Collect(maps.Keys(want)))
	}
}
