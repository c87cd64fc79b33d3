// Tests written in a mutation-testing campaign: each guards a behaviour that a mutant of the package survived the other tests with.

package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
)

// ngRaw encodes a pcapng block whose length field is blen, whatever its
// body: type, blen, body, blen (no padding added), so that a test can
// declare lengths ngBlock would never write.
func ngRaw(bo order, typ, blen uint32, body []byte) []byte {
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, blen)
	b = append(b, body...)
	return bo.AppendUint32(b, blen)
}

// wantRecordErr checks that err is a *RecordError wrapping target.
func wantRecordErr(t *testing.T, err, target error, what string) *capture.RecordError {
	t.Helper()
	var re *capture.RecordError
	if !errors.As(err, &re) || !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want a *RecordError matching %v", what, err, target)
	}
	return re
}

// TestReader_PcapLinkTypeAbove255 guards that a pcap link type is the
// whole low 16 bits of the header field, not its low byte (Linux cooked
// v2 is 276).
func TestReader_PcapLinkTypeAbove255(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		p := testPackets(1, capture.LinkLinuxSLL2)
		r, err := capture.NewReader(bytes.NewReader(pcapBytes(bo, true, 65535, capture.LinkLinuxSLL2, p)))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.LinkType(); got != capture.LinkLinuxSLL2 {
			t.Errorf("%v: LinkType %v, want %v", bo, got, capture.LinkLinuxSLL2)
		}
		got, err := r.Next()
		if err != nil || got.Link != capture.LinkLinuxSLL2 {
			t.Errorf("%v: packet link %v (err %v), want %v", bo, got.Link, err, capture.LinkLinuxSLL2)
		}
	}
}

// TestReader_PcapngShortBlockLength guards that a block declaring fewer
// than 12 bytes (the type, length and trailer alone take 12) is corrupt,
// even of a type the Reader would skip.
func TestReader_PcapngShortBlockLength(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// An unknown block type (0x0bad) that declares 8 bytes: just its
		// type and length, and nothing follows.
		b := append(ngSHB(bo), bo.AppendUint32(bo.AppendUint32(nil, 0x0bad), 8)...)
		_, err := readAll(t, b)
		wantRecordErr(t, err, capture.ErrCorrupt, "block of length 8")
	}
}

// TestReader_PcapngBlockLengthNotMultipleOf4 guards that a block length
// that is even but not a multiple of 4 is corrupt.
func TestReader_PcapngBlockLengthNotMultipleOf4(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// Unknown block type, length 14: 8 header + 2 body + 4 trailer.
		b := append(ngSHB(bo), ngRaw(bo, 0x0bad, 14, []byte{0, 0})...)
		_, err := readAll(t, b)
		wantRecordErr(t, err, capture.ErrCorrupt, "block of length 14")
	}
}

// shbBody is a section header body: byte-order magic, version
// major.minor, section length -1.
func shbBody(bo order, major uint16) []byte {
	body := bo.AppendUint32(nil, 0x1A2B3C4D)
	body = bo.AppendUint16(body, major)
	body = bo.AppendUint16(body, 0)
	return bo.AppendUint64(body, ^uint64(0))
}

// TestReader_PcapngSectionHeaderLength guards that a section header
// declaring less than 28 bytes, or a length not a multiple of 4, is
// corrupt.
func TestReader_PcapngSectionHeaderLength(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// Length 24: type, length, the 16 fixed bytes, and a trailer of
		// 24 after them (no room for it within the declared length).
		short := ngRaw(bo, 0x0A0D0D0A, 24, shbBody(bo, 1))
		_, err := capture.NewReader(bytes.NewReader(short))
		wantRecordErr(t, err, capture.ErrCorrupt, "section header of length 24")
		// Length 30: 8 + 16 fixed bytes + 2 more + 4 trailer.
		odd := ngRaw(bo, 0x0A0D0D0A, 30, append(shbBody(bo, 1), 0, 0))
		_, err = capture.NewReader(bytes.NewReader(odd))
		wantRecordErr(t, err, capture.ErrCorrupt, "section header of length 30")
	}
}

// TestReader_PcapngVersionZero guards that only pcapng major version 1 is
// accepted: 0 is refused as well as 2.
func TestReader_PcapngVersionZero(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		for _, major := range []uint16{0, 2} {
			b := ngRaw(bo, 0x0A0D0D0A, 28, shbBody(bo, major))
			_, err := capture.NewReader(bytes.NewReader(b))
			wantRecordErr(t, err, capture.ErrFormat, "pcapng version")
		}
	}
}

// TestReader_PcapngShortInterfaceBlock guards that an interface block
// declaring less than 20 bytes (8 header + 8 fixed + 4 trailer) is
// corrupt rather than read.
func TestReader_PcapngShortInterfaceBlock(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// Length 16: header 8, link type/reserved/snaplen 8 would need 20
		// with the trailer.
		fixed := bo.AppendUint16(nil, uint16(capture.LinkEthernet))
		fixed = bo.AppendUint16(fixed, 0)
		fixed = bo.AppendUint32(fixed, 0)
		b := append(ngSHB(bo), ngRaw(bo, 1, 16, fixed)...)
		_, err := readAll(t, b)
		wantRecordErr(t, err, capture.ErrCorrupt, "interface block of length 16")
	}
}

// TestReader_PcapngEndOfOptionsEndsInterfaceOptions guards that
// opt_endofopt (code 0) ends an interface's options: an if_tsresol after
// it is not applied.
func TestReader_PcapngEndOfOptionsEndsInterfaceOptions(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// opt_endofopt, then if_tsresol 10^-9 that must be ignored, so
		// the resolution stays the default 10^-6.
		opts := append(ngOpt(bo, 0, nil), ngOpt(bo, 9, []byte{9})...)
		p := capture.Packet{Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet}
		b := append(ngSHB(bo), ngIDBRaw(bo, opts)...)
		b = append(b, ngEPB(bo, 0, 1500000, p, false)...)
		got, err := readAll(t, b)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v: %d packets, error %v", bo, len(got), err)
		}
		// 1,500,000 microseconds after the epoch.
		if want := time.Unix(1, 500000000).UTC(); !got[0].Time.Equal(want) {
			t.Errorf("%v: time %v, want %v (if_tsresol after opt_endofopt applied?)", bo, got[0].Time, want)
		}
	}
}

// TestReader_PcapngTsresolBeyondLimits guards that if_tsresol 10^-20 and
// 2^-64 are corrupt: neither unit count fits a uint64 (10^20 > 2^64-1).
func TestReader_PcapngTsresolBeyondLimits(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		for _, e := range []byte{20, 0x80 | 64} {
			p := capture.Packet{Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet}
			b := append(ngSHB(bo), ngIDBRaw(bo, ngOpt(bo, 9, []byte{e}))...)
			b = append(b, ngEPB(bo, 0, 12345, p, false)...)
			_, err := readAll(t, b)
			wantRecordErr(t, err, capture.ErrCorrupt, "if_tsresol "+strconv.Itoa(int(e)))
		}
	}
}

// epbFixed is an enhanced packet block's 20 fixed bytes: interface,
// timestamp 0, captured and original lengths.
func epbFixed(bo order, ifid, caplen, wire uint32) []byte {
	b := bo.AppendUint32(nil, ifid)
	b = bo.AppendUint64(b, 0)
	b = bo.AppendUint32(b, caplen)
	return bo.AppendUint32(b, wire)
}

// TestReader_PcapngShortPacketBlock guards that an enhanced packet block
// declaring 28 bytes (8 header + 20 fixed, no room for its 4-byte
// trailer within the 32 it needs) is corrupt.
func TestReader_PcapngShortPacketBlock(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
		b = append(b, ngRaw(bo, 6, 28, epbFixed(bo, 0, 0, 0))...)
		_, err := readAll(t, b)
		wantRecordErr(t, err, capture.ErrCorrupt, "packet block of length 28")
	}
}

// TestReader_PcapngPacketOfUndescribedInterface guards that a packet
// naming interface n when only n interfaces (0 to n-1) are described is
// corrupt.
func TestReader_PcapngPacketOfUndescribedInterface(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		p := capture.Packet{Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet}
		b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
		for _, obsolete := range []bool{false, true} {
			_, err := readAll(t, append(slices.Clone(b), ngEPB(bo, 1, 0, p, obsolete)...))
			re := wantRecordErr(t, err, capture.ErrCorrupt, "packet of interface 1 of 1")
			if re.Record != 1 {
				t.Errorf("record %d, want 1", re.Record)
			}
		}
	}
}

// TestReader_PcapngCaplenLimits guards an enhanced packet block's
// captured length checks: above MaxRecordLen is corrupt even when the
// block holds it, and a captured length reaching past the block's data
// (into its trailer) is corrupt.
func TestReader_PcapngCaplenLimits(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		hdr := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
		n := capture.MaxRecordLen + 1
		big := ngBlock(bo, 6, append(epbFixed(bo, 0, uint32(n), uint32(n)), make([]byte, n)...))
		_, err := readAll(t, append(slices.Clone(hdr), big...))
		re := wantRecordErr(t, err, capture.ErrCorrupt, "captured length MaxRecordLen+1")
		if !strings.Contains(re.Reason, "exceeds the maximum") {
			t.Errorf("reason %q, want one saying the maximum is exceeded", re.Reason)
		}
		// A block of 32 bytes holds no data; it claims 4 bytes.
		past := ngRaw(bo, 6, 32, epbFixed(bo, 0, 4, 4))
		_, err = readAll(t, append(slices.Clone(hdr), past...))
		re = wantRecordErr(t, err, capture.ErrCorrupt, "captured length past the block")
		if !strings.Contains(re.Reason, "does not fit") {
			t.Errorf("reason %q, want one saying the data does not fit", re.Reason)
		}
	}
}

// epbWithOpts encodes an enhanced packet block of interface 0 at time 0
// holding data, followed by the given (encoded) options.
func epbWithOpts(bo order, data []byte, opts []byte) []byte {
	p := capture.Packet{Data: data, WireLen: len(data)}
	body := ngPacketFields(bo, bo.AppendUint32(nil, 0), 0, p)
	return ngBlock(bo, 6, append(body, opts...))
}

// TestReader_PcapngEPBFlagsIgnoredAfterEndOfOptions guards that an
// epb_flags option after opt_endofopt, or one whose length is not 4
// bytes, is not applied: the frame keeps its last 4 bytes.
func TestReader_PcapngEPBFlagsIgnoredAfterEndOfOptions(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		data := make([]byte, 64)
		for i := range data {
			data[i] = byte(i)
		}
		flags := bo.AppendUint32(nil, 4<<5) // an FCS of 4 bytes
		cases := map[string][]byte{
			"after opt_endofopt": append(ngOpt(bo, 0, nil), ngOpt(bo, 2, flags)...),
			"8 bytes long":       append(ngOpt(bo, 2, append(flags, 0, 0, 0, 0)), ngOpt(bo, 0, nil)...),
		}
		for name, opts := range cases {
			b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
			got, err := readAll(t, append(b, epbWithOpts(bo, data, opts)...))
			if err != nil || len(got) != 1 {
				t.Fatalf("%v %s: %d packets, error %v", bo, name, len(got), err)
			}
			if !bytes.Equal(got[0].Data, data) || got[0].WireLen != len(data) {
				t.Errorf("%v epb_flags %s: %d bytes, wire %d; want the whole %d (flags ignored)", bo, name, len(got[0].Data), got[0].WireLen, len(data))
			}
		}
	}
}

// TestReader_PcapngShortSimplePacketBlock guards that a simple packet
// block declaring 12 bytes (no room for its original-length field within
// the 16 it needs) is corrupt, not read as a packet cut short.
func TestReader_PcapngShortSimplePacketBlock(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
		_, err := readAll(t, append(b, ngRaw(bo, 3, 12, nil)...))
		wantRecordErr(t, err, capture.ErrCorrupt, "simple packet block of length 12")
	}
}
