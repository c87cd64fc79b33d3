package capture_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
)

// fcsFrames returns frames as a capture holds them when each ends in a
// frame check sequence of fcs bytes (marked 0xfc), cut to three captured
// lengths: the whole frame, all but half the FCS, and a snapshot that ends
// before the FCS. want is what a Reader that knows the FCS length must
// return: the frame without the FCS bytes captured, and a wire length
// without the FCS.
func fcsFrames(fcs int) (recs, want []capture.Packet) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, body := range []int{60, 61, 1500} {
		frame := make([]byte, body+fcs)
		for j := range body {
			frame[j] = byte(i + j)
		}
		for j := body; j < len(frame); j++ {
			frame[j] = 0xfc
		}
		for k, caplen := range []int{len(frame), len(frame) - fcs/2, body - 10} {
			ts := t0.Add(time.Duration(3*i+k) * time.Millisecond)
			recs = append(recs, capture.Packet{Time: ts, Data: frame[:caplen], WireLen: len(frame), Link: capture.LinkEthernet})
			want = append(want, capture.Packet{Time: ts, Data: frame[:min(caplen, body)], WireLen: body, Link: capture.LinkEthernet})
		}
	}
	return recs, want
}

// TestReader_PcapFCS reads pcap files whose link-type field declares an
// FCS length (bit 26 set, the length in 16-bit units in the top four bits):
// the FCS is taken off every frame. With bit 26 clear the top bits mean
// nothing and the frames are returned as stored.
func TestReader_PcapFCS(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{true, false} {
			prec := time.Nanosecond
			if !nano {
				prec = time.Microsecond
			}
			for _, fcs := range []int{2, 4, 30} {
				recs, want := fcsFrames(fcs)
				link := capture.LinkType(1<<26 | uint32(fcs/2)<<28 | uint32(capture.LinkEthernet))
				got, err := readAll(t, pcapBytes(bo, nano, 65535, link, recs))
				if err != nil {
					t.Fatalf("%v, nano %v, FCS %d: %v", bo, nano, fcs, err)
				}
				equalPackets(t, got, want, prec)

				// The same length bits without bit 26: the length is unknown.
				link &^= 1 << 26
				got, err = readAll(t, pcapBytes(bo, nano, 65535, link, recs))
				if err != nil {
					t.Fatalf("%v, nano %v, FCS %d, no bit 26: %v", bo, nano, fcs, err)
				}
				equalPackets(t, got, recs, prec)
			}
		}
	}
}

// TestReader_FCSShortRecords takes a 4-byte FCS off records whose lengths
// are off: a wire length below the captured one counts as the captured
// one (the FCS is then the last captured bytes), and a record shorter than
// its FCS is all FCS, an empty frame of wire length 0, not a wire length
// wrapped below zero.
func TestReader_FCSShortRecords(t *testing.T) {
	t0 := time.Unix(1700000000, 0).UTC()
	frame := make([]byte, 64)
	for i := range frame {
		frame[i] = byte(i + 1)
	}
	recs := []capture.Packet{
		{Time: t0, Data: frame, WireLen: 10, Link: capture.LinkEthernet},    // wire below captured
		{Time: t0, Data: frame[:3], WireLen: 3, Link: capture.LinkEthernet}, // shorter than the FCS
		{Time: t0, Data: frame[:4], WireLen: 4, Link: capture.LinkEthernet}, // only the FCS
	}
	want := []capture.Packet{
		{Time: t0, Data: frame[:60], WireLen: 60, Link: capture.LinkEthernet},
		{Time: t0, Data: []byte{}, WireLen: 0, Link: capture.LinkEthernet},
		{Time: t0, Data: []byte{}, WireLen: 0, Link: capture.LinkEthernet},
	}
	link := capture.LinkType(1<<26 | 2<<28 | uint32(capture.LinkEthernet))
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		got, err := readAll(t, pcapBytes(bo, true, 65535, link, recs))
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		equalPackets(t, got, want, time.Nanosecond)
	}
}

// ngIDBOpts encodes an Ethernet interface with nanosecond timestamps and
// the given extra options (already encoded) before opt_endofopt.
func ngIDBOpts(bo order, opts []byte) []byte {
	body := bo.AppendUint16(nil, uint16(capture.LinkEthernet))
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 0) // no snapshot limit
	body = bo.AppendUint16(body, 9) // if_tsresol: 10^-9
	body = bo.AppendUint16(body, 1)
	body = append(body, 9, 0, 0, 0)
	body = append(body, opts...)
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, 1, body)
}

// fcslen encodes an if_fcslen option of the given number of bits.
func fcslen(bo order, bits byte) []byte {
	o := bo.AppendUint16(nil, 13)
	o = bo.AppendUint16(o, 1)
	return append(o, bits, 0, 0, 0)
}

// TestReader_PcapngFCS reads interfaces with an if_fcslen option (in bits,
// pcapng draft section 4.2): enhanced, obsolete and simple packet blocks
// of an interface whose frames end in a 4-byte FCS lose it; those of an
// interface without the option, or with a length that is not a whole
// number of bytes (4 bits, 36 bits), are returned as stored.
func TestReader_PcapngFCS(t *testing.T) {
	recs, want := fcsFrames(4)
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		b := ngSHB(bo)
		b = append(b, ngIDBOpts(bo, fcslen(bo, 32))...) // 0: 4-byte FCS
		b = append(b, ngIDBOpts(bo, nil)...)            // 1: none said
		b = append(b, ngIDBOpts(bo, fcslen(bo, 4))...)  // 2: 4 bits, ignored
		b = append(b, ngIDBOpts(bo, fcslen(bo, 36))...) // 3: 4.5 bytes, ignored
		var exp []capture.Packet
		for i, p := range recs {
			ns := uint64(p.Time.UnixNano())
			b = append(b, ngEPB(bo, 0, ns, p, i%2 == 1)...)
			exp = append(exp, want[i])
			b = append(b, ngEPB(bo, 1, ns, p, false)...)
			exp = append(exp, p)
			b = append(b, ngEPB(bo, 2, ns, p, false)...)
			exp = append(exp, p)
			b = append(b, ngEPB(bo, 3, ns, p, false)...)
			exp = append(exp, p)
		}
		// A simple packet block of interface 0 holding a whole frame.
		p, w := recs[0], want[0]
		spb := bo.AppendUint32(nil, uint32(p.WireLen))
		spb = append(spb, p.Data...)
		b = append(b, ngBlock(bo, 3, spb)...)
		w.Time = time.Unix(0, 0).UTC()
		exp = append(exp, w)

		got, err := readAll(t, b)
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		equalPackets(t, got, exp, time.Nanosecond)
	}
}

// TestReader_FCSNextIntoDoesNotAllocate checks that taking the FCS off
// keeps NextInto's promise: a buffer passed back is reused.
func TestReader_FCSNextIntoDoesNotAllocate(t *testing.T) {
	recs, _ := fcsFrames(4)
	for len(recs) < 200 {
		recs = append(recs, recs...)
	}
	link := capture.LinkType(1<<26 | 2<<28 | uint32(capture.LinkEthernet))
	b := pcapBytes(binary.LittleEndian, true, 65535, link, recs)
	r, err := capture.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		p, err := r.NextInto(buf)
		if err != nil {
			t.Fatal(err)
		}
		buf = p.Data[:0]
	})
	if allocs != 0 {
		t.Errorf("NextInto allocated %v times per packet", allocs)
	}
}
