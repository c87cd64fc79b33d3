package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

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

// TestReader_PcapngTrailerLongerThanHeader guards that a block whose
// trailing length exceeds its leading one is corrupt, not only one whose
// trailing length is smaller.
func TestReader_PcapngTrailerLongerThanHeader(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		idb := ngIDB(bo, capture.LinkEthernet, 0, 0)
		// Raise the trailer (the last 4 bytes) by 4 over the header's length.
		bo.PutUint32(idb[len(idb)-4:], bo.Uint32(idb[4:])+4)
		_, err := readAll(t, append(ngSHB(bo), idb...))
		re := wantRecordErr(t, err, capture.ErrCorrupt, "trailer above header length")
		if !strings.Contains(re.Reason, "differs") || re.Offset != int64(len(ngSHB(bo))) {
			t.Errorf("reason %q at offset %d, want a trailer mismatch at offset %d", re.Reason, re.Offset, len(ngSHB(bo)))
		}
	}
}

// TestReader_TruncatedAtFieldBoundary guards that a capture ending inside
// a record, exactly where a field starts (no byte of it left), is
// truncated and not a clean end of file.
func TestReader_TruncatedAtFieldBoundary(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// pcap: a record header saying 60 bytes, then nothing.
		p := capture.Packet{Data: make([]byte, 60), WireLen: 60}
		b := pcapBytes(bo, false, 65535, capture.LinkEthernet, []capture.Packet{p})
		_, err := readAll(t, b[:24+16])
		re := wantRecordErr(t, err, capture.ErrTruncated, "pcap record without data")
		if re.Record != 1 || re.Offset != 24 {
			t.Errorf("pcap: record %d at offset %d, want record 1 at offset 24", re.Record, re.Offset)
		}
		// pcapng: an interface block without its 4-byte trailer.
		shb := ngSHB(bo)
		idb := ngIDB(bo, capture.LinkEthernet, 0, 0)
		_, err = readAll(t, append(slices.Clone(shb), idb[:len(idb)-4]...))
		re = wantRecordErr(t, err, capture.ErrTruncated, "pcapng block without trailer")
		if re.Offset != int64(len(shb)) {
			t.Errorf("pcapng: offset %d, want %d", re.Offset, len(shb))
		}
	}
}

// TestReadFile_FewAllocations guards ReadFile's documented memory use:
// packet data shares large blocks (one allocation per MiB), so reading
// thousands of packets allocates far fewer times than once per packet.
func TestReadFile_FewAllocations(t *testing.T) {
	const n = 4000
	pkts := make([]capture.Packet, n)
	for i := range pkts {
		d := make([]byte, 1000)
		d[0] = byte(i)
		pkts[i] = capture.Packet{Time: time.Unix(int64(i), 0), Data: d, WireLen: len(d), Link: capture.LinkEthernet}
	}
	path := filepath.Join(t.TempDir(), "a.pcap")
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1, func() {
		got, err := capture.ReadFile(path)
		if err != nil || len(got) != n {
			t.Fatalf("%d packets, error %v", len(got), err)
		}
	})
	// About 4 MB of data: 4 arena blocks, plus the []Packet growth and
	// the Reader's buffers; n/10 leaves a wide margin below one per packet.
	if allocs > n/10 {
		t.Errorf("ReadFile of %d packets allocated %v times, want at most %d", n, allocs, n/10)
	}
}

// TestRecordError_NoRecordPart guards the documented message format
// "capture: FILE: record N at offset O: ERR: REASON" without its zero
// parts: a Record of 0 (an error in the file header) names no record.
func TestRecordError_NoRecordPart(t *testing.T) {
	e := &capture.RecordError{File: "x.pcap", Record: 0, Offset: 0, Reason: "why", Err: capture.ErrFormat}
	if got, want := e.Error(), "capture: x.pcap: "+capture.ErrFormat.Error()+": why"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.Record, e.Offset = 3, 40
	if got, want := e.Error(), "capture: x.pcap: record 3 at offset 40: "+capture.ErrFormat.Error()+": why"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestWriter_LastPcapSecond guards pcap's time range: the last second a
// 32-bit unsigned field holds (2106-02-07T06:28:15Z) is written, the next
// is refused.
func TestWriter_LastPcapSecond(t *testing.T) {
	const last = int64(1)<<32 - 1
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	p := capture.Packet{Time: time.Unix(last, 5), Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet}
	if err := w.WritePacket(p); err != nil {
		t.Fatalf("time %v: %v, want it written", p.Time.UTC(), err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, b.Bytes())
	if err != nil || len(got) != 1 || !got[0].Time.Equal(p.Time) {
		t.Fatalf("read back %v (error %v), want one packet at %v", got, err, p.Time)
	}
	p.Time = time.Unix(last+1, 0)
	if err := w.WritePacket(p); err == nil {
		t.Errorf("time %v written, want it refused", p.Time.UTC())
	}
}

// TestAmplifier_CopiesFillingAPrefixSpace guards the choice of prefix
// length: when the copies need as many fresh /16 prefixes as there are
// /16s (65,536 for 65,537 copies of one /16), only 65,535 of which are
// unused, a finer prefix is taken, and every copy has its own addresses.
func TestAmplifier_CopiesFillingAPrefixSpace(t *testing.T) {
	// Raw IPv4, 10.0.0.1 -> 10.0.0.2 (one /16), UDP 1234 -> 5678.
	ip := []byte{
		0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x16, 0x2e, 0, 8, 0, 0,
	}
	pkts := []capture.Packet{{Time: time.Unix(1, 0), Data: ip, WireLen: len(ip), Link: capture.LinkIPv4}}
	const copies = 1<<16 + 1
	done := make(chan struct{})
	var a *capture.Amplifier
	var err error
	go func() { a, err = capture.NewAmplifier(pkts, copies); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("NewAmplifier did not return within 10 s")
	}
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[[8]byte]int, copies)
	var buf []byte
	for c := range copies {
		p := a.Copy(c, 0, buf)
		buf = p.Data
		var k [8]byte
		copy(k[:], p.Data[12:20])
		if prev, dup := seen[k]; dup {
			t.Fatalf("copies %d and %d have the same addresses % x", prev, c, k)
		}
		seen[k] = c
	}
}

// TestAmplifier_ActiveRoutingAfterAH guards the walk over IPv6 extension
// headers to a routing header: an authentication header's length counts
// 4-byte units less two (RFC 4302), so a routing header with segments
// left after it is found, and the UDP checksum of a copy then leaves the
// changed (not final) destination out.
func TestAmplifier_ActiveRoutingAfterAH(t *testing.T) {
	// AH: 22 data bytes after next-header and length, 24 in all (length
	// field 4); routing header type 4 with 1 segment left, 8 bytes. The
	// payload is zeros, so that a walk misreading the AH's length meets
	// no nonzero "segments left" byte.
	src, dst := pkt.Addr("2001:db8::1"), pkt.Addr("2001:db8:2::2")
	frame := pkt.Frame{IP6: &pkt.IPv6{Src: src, Dst: dst, Ext: []pkt.Ext{
		{Type: pkt.ExtAH, Data: make([]byte, 22)},
		{Type: pkt.ExtRouting, Data: []byte{4, 1, 0, 0, 0, 0}},
	}}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: make([]byte, 8)}.Bytes()
	const l4 = 14 + 40 + 24 + 8
	if frame[14+6] != pkt.ExtAH || frame[14+40+1] != 4 || frame[14+40+24] != 17 {
		t.Fatalf("frame not laid out as intended: % x", frame)
	}
	a, err := capture.NewAmplifier([]capture.Packet{{Time: time.Unix(1, 0), Data: frame, WireLen: len(frame), Link: capture.LinkEthernet}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Copy(1, 0, nil).Data
	if bytes.Equal(c[14+8:14+40], frame[14+8:14+40]) {
		t.Fatal("copy 1 has the original addresses")
	}
	// The builder summed the header's destination as the final one; the
	// copy's checksum must cover its new source and that same final
	// destination (the original header's), computed here from scratch.
	seg := bytes.Clone(c[l4:])
	seg[6], seg[7] = 0, 0
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	add(c[14+8 : 14+24])      // new source
	add(frame[14+24 : 14+40]) // original (final) destination
	add([]byte{0, 0, byte(len(seg) >> 8), byte(len(seg)), 0, 0, 0, 17})
	add(seg)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	want := ^uint16(s)
	if want == 0 {
		want = 0xffff
	}
	if got := binary.BigEndian.Uint16(c[l4+6:]); got != want {
		t.Errorf("copy 1 UDP checksum %#04x, want %#04x (destination left out behind an active routing header)", got, want)
	}
}

// TestGenerate_TCPSequenceNumbers guards TCP sequence numbers in
// generated flows: a SYN consumes one (RFC 9293 section 3.4), and every
// later segment's number is the previous one's plus its payload length.
func TestGenerate_TCPSequenceNumbers(t *testing.T) {
	pkts, err := capture.Generate(capture.GenConfig{Flows: 20, Packets: 200, UDPShare: 0, IPv6Share: 0, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	type state struct{ next uint32 }
	flows := map[[12]byte]*state{}
	for i, p := range pkts {
		d := p.Data
		// Ethernet 14, IPv4 without options 20, then TCP.
		if len(d) < 54 || d[12] != 0x08 || d[13] != 0 || d[14] != 0x45 || d[23] != 6 {
			t.Fatalf("packet %d: not Ethernet/IPv4/TCP: % x", i+1, d[:min(len(d), 54)])
		}
		var k [12]byte
		copy(k[:], d[26:38]) // addresses and ports
		tcp := d[34:]
		seq := binary.BigEndian.Uint32(tcp[4:])
		payload := int(binary.BigEndian.Uint16(d[16:])) - 20 - int(tcp[12]>>4)*4
		st := flows[k]
		if st == nil {
			if tcp[13]&0x02 == 0 {
				t.Fatalf("packet %d: a flow's first packet is not a SYN", i+1)
			}
			flows[k] = &state{next: seq + 1} // the SYN takes one number
			continue
		}
		if seq != st.next {
			t.Fatalf("packet %d: sequence %d, want %d", i+1, seq, st.next)
		}
		st.next = seq + uint32(payload)
	}
	if len(flows) != 20 {
		t.Errorf("%d flows, want 20", len(flows))
	}
}

// TestAmplifier_ShortIHLCopiedVerbatim guards that an IPv4 header whose
// length field (IHL) is below 5 words is not taken as IP: its copies keep
// every byte, addresses included.
func TestAmplifier_ShortIHLCopiedVerbatim(t *testing.T) {
	// Raw IPv4 with IHL 4 (0x44), 10.0.0.1 -> 10.1.0.2, UDP behind it.
	ip := []byte{
		0x44, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 1, 0, 2,
		0x04, 0xd2, 0x16, 0x2e, 0, 8, 0, 0,
	}
	a, err := capture.NewAmplifier([]capture.Packet{{Time: time.Unix(1, 0), Data: ip, WireLen: len(ip), Link: capture.LinkIPv4}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c := 1; c < 3; c++ {
		if got := a.Copy(c, 0, nil).Data; !bytes.Equal(got, ip) {
			t.Errorf("copy %d: % x, want the packet unchanged % x", c, got, ip)
		}
	}
}

// TestGenConfig_FlowsLimit guards GenConfig.Validate's documented flow
// range [1, MaxGenFlows]: MaxGenFlows+1 is refused.
func TestGenConfig_FlowsLimit(t *testing.T) {
	c := capture.GenConfig{Flows: capture.MaxGenFlows + 1}
	if err := c.Validate(); err == nil {
		t.Errorf("Flows %d accepted, want an error", c.Flows)
	}
	c.Flows = capture.MaxGenFlows
	if err := c.Validate(); err != nil {
		t.Errorf("Flows %d: %v, want it accepted", c.Flows, err)
	}
}

// dccp4Sum is the DCCP checksum (RFC 4340 section 9.1, CsCov 0: the
// whole packet) of the raw IPv4 packet ip with a 20-byte header: the
// one's complement of the one's-complement sum of the pseudo-header
// (addresses, zero, protocol 33, length) and the DCCP packet with its
// checksum field (bytes 6 and 7) taken as zero.
func dccp4Sum(ip []byte) uint16 {
	seg := bytes.Clone(ip[20:])
	seg[6], seg[7] = 0, 0
	var s uint32
	for _, b := range [][]byte{ip[12:20], {0, 33, byte(len(seg) >> 8), byte(len(seg))}, seg} {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// TestAmplifier_DCCPChecksum guards the DCCP checksum's place, bytes 6
// and 7 of the header (RFC 4340 section 5.1): a copy with new addresses
// keeps a valid checksum there and its other header bytes unchanged.
func TestAmplifier_DCCPChecksum(t *testing.T) {
	// IPv4 10.0.0.1 -> 10.1.0.2, protocol 33; DCCP: ports 1234 -> 5678,
	// data offset 4 words, CCVal/CsCov 0, checksum, type 2 (Data) with
	// X = 1, reserved, 48-bit sequence number 1.
	ip := []byte{
		0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, 33, 0, 0, 10, 0, 0, 1, 10, 1, 0, 2,
		0x04, 0xd2, 0x16, 0x2e, 4, 0, 0, 0, 2<<1 | 1, 0, 0, 0, 0, 0, 0, 1,
	}
	binary.BigEndian.PutUint16(ip[26:], dccp4Sum(ip))
	a, err := capture.NewAmplifier([]capture.Packet{{Time: time.Unix(1, 0), Data: ip, WireLen: len(ip), Link: capture.LinkIPv4}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Copy(1, 0, nil).Data
	if bytes.Equal(c[12:20], ip[12:20]) {
		t.Fatal("copy 1 has the original addresses")
	}
	if !bytes.Equal(c[20:26], ip[20:26]) || !bytes.Equal(c[28:], ip[28:]) {
		t.Errorf("copy 1 DCCP header % x, want % x but for the checksum", c[20:], ip[20:])
	}
	if got, want := binary.BigEndian.Uint16(c[26:]), dccp4Sum(c); got != want {
		t.Errorf("copy 1 DCCP checksum %#04x, want %#04x", got, want)
	}
}
