package capture_test

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

// TestReader_HugeWireLen: a record's original length is read as WireLen
// exactly when an int holds it, and as math.MaxInt otherwise, in pcap and
// in pcapng enhanced, obsolete and simple packet blocks. On a 32-bit
// platform (GOARCH=386) an original length of 2^31 or more became the
// captured length (8 bytes here), the max of a negative int(wire) and
// len(Data). On a 64-bit platform every uint32 fits, and the test checks
// the exact lengths.
func TestReader_HugeWireLen(t *testing.T) {
	le := binary.LittleEndian
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, wire := range []uint32{math.MaxInt32, math.MaxInt32 + 1, 0x80000008, math.MaxUint32} {
		want := int(min(uint64(wire), math.MaxInt))

		// pcap: file header, one record.
		pcap := le.AppendUint32(nil, 0xa1b2c3d4)
		pcap = le.AppendUint16(pcap, 2)
		pcap = le.AppendUint16(pcap, 4)
		pcap = le.AppendUint32(pcap, 0)
		pcap = le.AppendUint32(pcap, 0)
		pcap = le.AppendUint32(pcap, 65535)
		pcap = le.AppendUint32(pcap, uint32(capture.LinkEthernet))
		pcap = le.AppendUint32(pcap, 1)
		pcap = le.AppendUint32(pcap, 0)
		pcap = le.AppendUint32(pcap, uint32(len(data)))
		pcap = le.AppendUint32(pcap, wire)
		pcap = append(pcap, data...)

		// pcapng: section, interface, then one packet block of each kind.
		ng := append(ngSHB(le), ngIDB(le, capture.LinkEthernet, 0, 0)...)
		for _, typ := range []uint32{6, 2} { // enhanced, obsolete
			body := le.AppendUint32(nil, 0) // interface 0 (and, obsolete, no drops)
			body = le.AppendUint32(body, 0)
			body = le.AppendUint32(body, 1)
			body = le.AppendUint32(body, uint32(len(data)))
			body = le.AppendUint32(body, wire)
			body = append(body, data...)
			ng = append(ng, ngBlock(le, typ, body)...)
		}
		ng = append(ng, ngBlock(le, 3, append(le.AppendUint32(nil, wire), data...))...) // simple

		for _, in := range []struct {
			name string
			b    []byte
			n    int
		}{{"pcap", pcap, 1}, {"pcapng", ng, 3}} {
			pkts, err := readAll(t, in.b)
			if err != nil || len(pkts) != in.n {
				t.Fatalf("%s, original length %d: %d packets, %v; want %d", in.name, wire, len(pkts), err, in.n)
			}
			for i, p := range pkts {
				if len(p.Data) != len(data) || p.WireLen != want {
					t.Errorf("%s packet %d, original length %d: %d bytes, WireLen %d; want %d and %d", in.name, i+1, wire, len(p.Data), p.WireLen, len(data), want)
				}
			}
		}
	}
}

// TestGenerate_SizesSumPastInt: flow sizes whose sum exceeds an int give
// an error, not a wrapped total. Two flows of a Pareto distribution up
// to 2^31-1 packets draw, with seed 4900, 226,935,127 and 2,127,126,063
// packets: on a 32-bit platform their int sum wrapped to -1,940,906,106,
// passed the check against MaxGenPackets and made make panic ("cap out
// of range"); on a 64-bit one the sum exceeds MaxGenPackets, as it says.
// Scaled to Packets, such sizes gave every flow a wrapped share.
func TestGenerate_SizesSumPastInt(t *testing.T) {
	d, err := capture.Pareto(0.001, 1, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	_, err = capture.Generate(capture.GenConfig{Flows: 2, FlowSizes: d, Seed: 4900})
	if err == nil || !strings.Contains(err.Error(), "exceed 268435456 packets") {
		t.Errorf("2 flows of %v, seed 4900: %v, want an error: they exceed MaxGenPackets", d, err)
	}
	// Scaled to 1,000 packets, the two flows and a third of 1,332,016,819
	// packets (3,686,078,009 in all, wrapping to -608,889,287 in 32 bits)
	// keep their proportions, rounded by largest remainder: 62, 577 and
	// 361 packets. A wrapped total gave each flow a negative share and
	// then about a third of the packets.
	pkts, err := capture.Generate(capture.GenConfig{Flows: 3, Packets: 1000, FlowSizes: d, Seed: 4900})
	if err != nil {
		t.Fatal(err)
	}
	count := map[flow.Key]int{}
	for _, p := range pkts {
		if info, err := flow.Parse(p.Data); err == nil {
			count[info.Key]++
		}
	}
	var sizes []int
	for _, n := range count {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{62, 361, 577}) {
		t.Errorf("scaled to 1000 packets: flows of %v packets, want [62 361 577]", sizes)
	}
}

// TestGenerate_PacketsPastInt: on a 32-bit platform a trace of more than
// math.MaxInt bytes of Packets (40 each, so 53,687,091 packets at most)
// is refused by Validate and Generate before allocating; before, Validate
// accepted up to MaxGenPackets (2^28) and Generate panicked in make ("cap
// out of range"). On a 64-bit platform MaxGenPackets is valid (and only
// validated here: it is gigabytes).
func TestGenerate_PacketsPastInt(t *testing.T) {
	most := min(capture.MaxGenPackets, math.MaxInt/int(unsafe.Sizeof(capture.Packet{})))
	if strconv.IntSize == 32 && most != 53_687_091 {
		t.Errorf("32-bit limit %d packets, the documentation says 53,687,091", most)
	}
	ok := capture.GenConfig{Flows: 1, Packets: most}
	if err := ok.Validate(); err != nil {
		t.Errorf("%d packets: %v", most, err)
	}
	for _, n := range []int{capture.MaxGenPackets + 1, capture.MaxGenPackets, most + 1} {
		cfg := capture.GenConfig{Flows: 1, Packets: n}
		if n <= most {
			continue
		}
		want := "packets must be at most " + strconv.Itoa(most) // on a 32-bit platform
		if n > capture.MaxGenPackets {
			want = "packets must be 0 or in [flows, 268435456]"
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate with %d packets: %v, want an error containing %q", n, err, want)
		}
		if _, err := capture.Generate(cfg); err == nil {
			t.Errorf("Generate with %d packets: no error", n)
		}
	}
}

// TestAmplify_TracePastInt: Amplify refuses, before allocating, a trace
// whose data or []Packet would exceed an int. On a 32-bit platform 1 MiB
// of packets times 2,048 copies is 2^31 bytes, which wrapped to a negative
// capacity (make panicked), and 2^27 copies of a 1-byte packet need 5 GiB
// of Packets (make panicked too); on a 64-bit platform 2^43 copies of 1
// MiB are 2^63 bytes, and 2^48 copies of 1,000 packets need more than
// 2^63 bytes of Packets, for which make panicked ("len out of range").
// Sizes an int holds are valid and too large to build in a test.
func TestAmplify_TracePastInt(t *testing.T) {
	arp := func(n int) []byte {
		b := make([]byte, n)
		if n >= 14 {
			b[12], b[13] = 0x08, 0x06 // not IP: no prefixes to remap
		}
		return b
	}
	mib := []capture.Packet{{Data: arp(1 << 20), Link: capture.LinkEthernet}}
	small := []capture.Packet{{Data: arp(1), Link: capture.LinkEthernet}}
	var thousand []capture.Packet
	for range 1000 {
		thousand = append(thousand, capture.Packet{Data: small[0].Data, Link: capture.LinkEthernet, Time: time.Unix(0, 0)})
	}
	psize := uint64(unsafe.Sizeof(capture.Packet{}))
	for _, c := range []struct {
		name   string
		pkts   []capture.Packet
		copies int
	}{
		{"1MiB x 2048", mib, 2048},
		{"1MiB x 2^22", mib, 1 << 22},
		{"1B x 2^27", small, 1 << 27},
		{"1MiB x 2^43", mib, 1 << min(43, strconv.IntSize-2)},
		{"1000 x 1B x 2^48", thousand, 1 << min(48, strconv.IntSize-2)},
	} {
		var data uint64
		for _, p := range c.pkts {
			data += uint64(len(p.Data))
		}
		n := uint64(c.copies)
		fits := data*n/n == data && data*n <= math.MaxInt
		m := n * uint64(len(c.pkts))
		fits = fits && m*psize/psize == m && m*psize <= math.MaxInt
		if fits {
			continue // valid, and gigabytes
		}
		if _, err := capture.NewAmplifier(c.pkts, c.copies); err != nil {
			continue // refused already (packet count or time offset)
		}
		if out, err := capture.Amplify(c.pkts, c.copies); err == nil || !strings.Contains(err.Error(), "copies") {
			t.Errorf("%s: Amplify gave %d packets, %v; want an error naming the copies", c.name, len(out), err)
		}
	}
}
