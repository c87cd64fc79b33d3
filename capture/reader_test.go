package capture_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// trafficDir returns DATAPLANE_TRAFFIC_DIR or skips (traffic.Dir).
func trafficDir(tb testing.TB) string {
	tb.Helper()
	return traffic.Dir(tb)
}

// readmeCounts parses the packet counts of the README beside the captures:
// every table row naming a file, with the column headed "packets".
func readmeCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatalf("README of the captures: %v", err)
	}
	defer f.Close()
	counts := map[string]int{}
	col := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			col = -1
			continue
		}
		cells := strings.Split(line, "|")
		if strings.TrimSpace(cells[1]) == "file" {
			col = -1
			for i, c := range cells {
				if strings.TrimSpace(c) == "packets" {
					col = i
				}
			}
			continue
		}
		if col < 0 || col >= len(cells) || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := filepath.Base(strings.Trim(strings.TrimSpace(cells[1]), "`"))
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(cells[col]), ",", ""))
		if err != nil {
			t.Fatalf("README row %q: packets %q: %v", name, cells[col], err)
		}
		counts[name] = n
	}
	return counts
}

func TestReadFile_SharedCaptures(t *testing.T) {
	dir := trafficDir(t)
	want := readmeCounts(t, dir)
	// A few counts checked by hand, so a README parse that finds nothing
	// cannot make this test pass.
	for name, n := range map[string]int{
		"ndpi-gnutella-p2p.pcap":                 3905,
		"ustc-tfc2016-tinba-malware.pcap":        22000,
		"zeek-echo-connections-loopback.pcap.gz": 82582,
		"linktype-linux-sll_pcapplusplus.pcap":   518,
	} {
		if want[name] != n {
			t.Fatalf("README gives %s %d packets, want %d", name, want[name], n)
		}
	}
	files, err := capture.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("Files found %d captures, the README lists %d", len(files), len(want))
	}
	for _, path := range files {
		pkts, err := capture.ReadFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		name := filepath.Base(path)
		n, ok := want[name]
		if !ok {
			t.Errorf("%s: not in the README", name)
		}
		if len(pkts) != n {
			t.Errorf("%s: %d packets, README says %d", name, len(pkts), n)
		}
		for i, p := range pkts {
			if p.WireLen < len(p.Data) || len(p.Data) > capture.MaxRecordLen {
				t.Fatalf("%s: packet %d: %d bytes captured, %d on the wire", name, i+1, len(p.Data), p.WireLen)
			}
		}
	}
}

func TestReadFile_CaplenExceedsSnaplen(t *testing.T) {
	// The header says snaplen 1, the record 8 bytes: the record wins.
	path := filepath.Join(trafficDir(t), "robustness", "trunc-caplen-exceeds-snaplen_zeek.pcap")
	pkts, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 1 || len(pkts[0].Data) != 8 || pkts[0].WireLen != 78 {
		t.Fatalf("got %d packets, first %d/%d bytes, want 1 packet of 8/78", len(pkts), len(pkts[0].Data), pkts[0].WireLen)
	}
}

// testPackets returns n packets of varied lengths and times.
func testPackets(n int, link capture.LinkType) []capture.Packet {
	pkts := make([]capture.Packet, n)
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for i := range pkts {
		d := make([]byte, 14+(i*37)%1500)
		for j := range d {
			d[j] = byte(i*7 + j)
		}
		pkts[i] = capture.Packet{
			Time:    t0.Add(time.Duration(i) * 1234567 * time.Nanosecond),
			Data:    d,
			WireLen: len(d) + i%3*100,
			Link:    link,
		}
	}
	return pkts
}

func equalPackets(t *testing.T, got, want []capture.Packet, prec time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time.Truncate(prec)) || !bytes.Equal(g.Data, w.Data) || g.WireLen != w.WireLen || g.Link != w.Link {
			t.Fatalf("packet %d: got %v %d/%d %v, want %v %d/%d %v", i+1,
				g.Time, len(g.Data), g.WireLen, g.Link, w.Time.Truncate(prec), len(w.Data), w.WireLen, w.Link)
		}
	}
}

func readAll(t *testing.T, b []byte) ([]capture.Packet, error) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out []capture.Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

func TestWrite_RoundTrip(t *testing.T) {
	for _, link := range []capture.LinkType{capture.LinkEthernet, capture.LinkRaw, capture.LinkLinuxSLL} {
		want := testPackets(300, link)
		var buf bytes.Buffer
		if err := capture.Write(&buf, want); err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		equalPackets(t, got, want, time.Nanosecond)
	}
	// Through a gzip file.
	want := testPackets(100, capture.LinkEthernet)
	path := filepath.Join(t.TempDir(), "t.pcap.gz")
	if err := capture.WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalPackets(t, got, want, time.Nanosecond)
	raw, _ := os.ReadFile(path)
	if raw[0] != 0x1f || raw[1] != 0x8b {
		t.Fatalf("WriteFile of a .gz name did not compress")
	}
}

func TestWriter_Errors(t *testing.T) {
	w, err := capture.NewWriter(io.Discard, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	ok := capture.Packet{Time: time.Unix(1, 0), Data: make([]byte, 60), Link: capture.LinkEthernet}
	for _, tc := range []struct {
		name string
		p    capture.Packet
		msg  string
	}{
		{"link", capture.Packet{Time: ok.Time, Link: capture.LinkRaw}, "link type"},
		{"long", capture.Packet{Time: ok.Time, Data: make([]byte, capture.MaxRecordLen+1), Link: capture.LinkEthernet}, "at most"},
		{"before 1970", capture.Packet{Time: time.Unix(-1, 0), Link: capture.LinkEthernet}, "range"},
	} {
		if err := w.WritePacket(tc.p); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.msg)
		}
	}
	if err := w.WritePacket(ok); err != nil {
		t.Fatal(err)
	}
	if strconv.IntSize == 64 {
		// A wire length pcap cannot hold is refused, not written as
		// 2^32-1; 2^32-1 itself is written and read back exactly.
		huge := uint64(1) << 32
		p := capture.Packet{Time: ok.Time, Data: ok.Data, WireLen: int(huge), Link: capture.LinkEthernet}
		if err := w.WritePacket(p); err == nil || !strings.Contains(err.Error(), "wire length 4294967296") {
			t.Errorf("WireLen 2^32: error %v, want one naming the wire length", err)
		}
		var b bytes.Buffer
		p.WireLen = int(huge - 1)
		if err := capture.Write(&b, []capture.Packet{p}); err != nil {
			t.Fatalf("WireLen 2^32-1: %v", err)
		}
		got, err := readAll(t, b.Bytes())
		if err != nil || len(got) != 1 || got[0].WireLen != p.WireLen {
			t.Errorf("WireLen 2^32-1 read back as %v (%v)", got, err)
		}
	}
	if _, err := capture.NewWriter(io.Discard, 1<<16); err == nil {
		t.Error("NewWriter accepted link type 65536")
	}
}

// TestWriter_LoopbackHeader: the zero Link is LinkNull, so an Ethernet
// frame whose Link was left out would be written as a loopback record
// that reads back as no Ethernet frame. WritePacket refuses a LinkNull
// record of 4 bytes or more unless it starts with a BSD address family
// (libpcap's list), in either byte order, followed for the IP families by
// a packet of their version; it writes the others.
func TestWriter_LoopbackHeader(t *testing.T) {
	eth := pkt.TCP4("10.0.0.1:1", "10.0.0.2:2", 0, nil) // MAC 02:00:00:00:00:02 starts like family 2
	ip4, ip6 := eth[14:], pkt.TCP6("[2001:db8::1]:1", "[2001:db8::2]:2", 0, nil)[14:]
	w, err := capture.NewWriter(io.Discard, capture.LinkNull)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		af      uint32
		payload []byte
	}{{2, ip4}, {24, ip6}, {28, ip6}, {30, ip6}, {7, eth}, {16, eth}, {23, eth}, {2, nil}, {30, nil}} {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			d := append(bo.AppendUint32(nil, c.af), c.payload...)
			if err := w.WritePacket(capture.Packet{Data: d, Link: capture.LinkNull}); err != nil {
				t.Errorf("family %d (%v), %d-byte payload: %v", c.af, bo, len(c.payload), err)
			}
		}
	}
	for _, d := range [][]byte{nil, {0xff, 0, 0}} { // too short to judge
		if err := w.WritePacket(capture.Packet{Data: d, Link: capture.LinkNull}); err != nil {
			t.Errorf("%d-byte record: %v", len(d), err)
		}
	}
	le := func(af uint32, payload []byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, af), payload...)
	}
	bad := [][]byte{
		eth, {0xff, 0xff, 0xff, 0xff}, {0, 0, 0, 0}, {3, 0, 0, 0}, {0, 0, 0, 31}, {2, 0, 0, 2}, {0, 2, 0, 0},
		le(2, ip6), le(24, ip4), le(28, ip4), le(30, ip4),
	}
	for _, d := range bad {
		err := w.WritePacket(capture.Packet{Data: d})
		if err == nil || !strings.Contains(err.Error(), "does not start with a loopback header") || !strings.Contains(err.Error(), "LinkEthernet") {
			t.Errorf("record % x: error %v, want one naming the header and LinkEthernet", d[:min(len(d), 5)], err)
		}
	}
	var b bytes.Buffer
	if err := capture.Write(&b, []capture.Packet{{Data: eth}}); err == nil || !strings.Contains(err.Error(), "packet 1 has link type null") {
		t.Errorf("Write of an Ethernet frame without Link: %v, want a refusal of packet 1", err)
	}
}

// pcapBytes encodes packets as pcap by hand in either byte order and
// timestamp precision, independently of capture.Writer.
func pcapBytes(bo order, nano bool, snap uint32, link capture.LinkType, pkts []capture.Packet) []byte {
	var b []byte
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b = bo.AppendUint32(b, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, snap)
	b = bo.AppendUint32(b, uint32(link))
	for _, p := range pkts {
		frac := uint32(p.Time.Nanosecond())
		if !nano {
			frac /= 1000
		}
		b = bo.AppendUint32(b, uint32(p.Time.Unix()))
		b = bo.AppendUint32(b, frac)
		b = bo.AppendUint32(b, uint32(len(p.Data)))
		b = bo.AppendUint32(b, uint32(p.WireLen))
		b = append(b, p.Data...)
	}
	return b
}

// ngBlock encodes one pcapng block: type, length, body padded to 4 bytes,
// length again.
func ngBlock(bo order, typ uint32, body []byte) []byte {
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, n)
	b = append(b, body...)
	b = append(b, make([]byte, pad)...)
	return bo.AppendUint32(b, n)
}

func ngSHB(bo order) []byte {
	body := bo.AppendUint32(nil, 0x1A2B3C4D)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	// An option (shb_userappl) that the reader must skip.
	body = bo.AppendUint16(body, 4)
	body = bo.AppendUint16(body, 5)
	body = append(body, "test\x00\x00\x00\x00"...)
	body = bo.AppendUint32(body, 0) // opt_endofopt
	return ngBlock(bo, 0x0A0D0D0A, body)
}

// ngIDB encodes an interface with a timestamp resolution option (0 for
// none) and a timestamp offset in seconds.
func ngIDB(bo order, link capture.LinkType, tsresol byte, tsoffset int64) []byte {
	body := bo.AppendUint16(nil, uint16(link))
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 65535)
	body = bo.AppendUint16(body, 2) // if_name
	body = bo.AppendUint16(body, 3)
	body = append(body, "eth\x00"...)
	if tsresol != 0 {
		body = bo.AppendUint16(body, 9)
		body = bo.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
	}
	if tsoffset != 0 {
		body = bo.AppendUint16(body, 14)
		body = bo.AppendUint16(body, 8)
		body = bo.AppendUint64(body, uint64(tsoffset))
	}
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, 1, body)
}

// ngPacketFields appends the fields that enhanced and obsolete packet
// blocks share after the interface: timestamp (high, low), captured and
// original lengths, and the data padded to 4 bytes.
func ngPacketFields(bo order, body []byte, ts uint64, p capture.Packet) []byte {
	body = bo.AppendUint32(body, uint32(ts>>32))
	body = bo.AppendUint32(body, uint32(ts))
	body = bo.AppendUint32(body, uint32(len(p.Data)))
	body = bo.AppendUint32(body, uint32(p.WireLen))
	body = append(body, p.Data...)
	return append(body, make([]byte, (4-len(p.Data)%4)%4)...)
}

func ngEPB(bo order, ifid uint32, ts uint64, p capture.Packet, obsolete bool) []byte {
	var body []byte
	if obsolete {
		body = bo.AppendUint16(nil, uint16(ifid))
		body = bo.AppendUint16(body, 0)
	} else {
		body = bo.AppendUint32(nil, ifid)
	}
	body = ngPacketFields(bo, body, ts, p)
	body = bo.AppendUint16(body, 1) // opt_comment
	body = bo.AppendUint16(body, 2)
	body = append(body, "hi\x00\x00"...)
	body = bo.AppendUint32(body, 0)
	typ := uint32(6)
	if obsolete {
		typ = 2
	}
	return ngBlock(bo, typ, body)
}

func TestReader_Formats(t *testing.T) {
	pkts := testPackets(50, capture.LinkEthernet)
	type tc struct {
		name string
		b    []byte
		want []capture.Packet
		prec time.Duration
	}
	var cases []tc
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		cases = append(cases,
			tc{"pcap-micro-" + bo.String(), pcapBytes(bo, false, 65535, capture.LinkEthernet, pkts), pkts, time.Microsecond},
			tc{"pcap-nano-" + bo.String(), pcapBytes(bo, true, 65535, capture.LinkEthernet, pkts), pkts, time.Nanosecond},
		)
		// pcapng: two interfaces of different link types and resolutions,
		// an unknown block, enhanced, obsolete and simple packet blocks,
		// then a second section that resets the interfaces.
		var b []byte
		var want []capture.Packet
		b = append(b, ngSHB(bo)...)
		b = append(b, ngIDB(bo, capture.LinkEthernet, 9, 0)...)             // ns
		b = append(b, ngIDB(bo, capture.LinkRaw, 0x80|20, 1000)...)         // 2^-20 s, +1000 s
		b = append(b, ngBlock(bo, 0x0BAD, []byte("unknown block body"))...) // skipped
		for i, p := range pkts[:20] {
			if i%2 == 0 {
				ns := uint64(p.Time.UnixNano())
				b = append(b, ngEPB(bo, 0, ns, p, i%4 == 2)...)
				want = append(want, p)
			} else {
				ts := uint64(p.Time.Unix()-1000)<<20 | uint64(p.Time.Nanosecond())<<20/1e9
				q := p
				q.Link = capture.LinkRaw
				q.Time = time.Unix(p.Time.Unix(), int64((uint64(p.Time.Nanosecond())<<20/1e9)*1e9>>20)).UTC()
				b = append(b, ngEPB(bo, 1, ts, q, false)...)
				want = append(want, q)
			}
		}
		b = append(b, ngSHB(bo)...)
		b = append(b, ngIDB(bo, capture.LinkLinuxSLL, 0, 0)...) // µs
		for _, p := range pkts[20:30] {
			q := p
			q.Link = capture.LinkLinuxSLL
			q.Time = p.Time.Truncate(time.Microsecond)
			b = append(b, ngEPB(bo, 0, uint64(q.Time.UnixMicro()), q, false)...)
			want = append(want, q)
		}
		// A simple packet block: no timestamp, interface 0.
		spb := bo.AppendUint32(nil, uint32(pkts[30].WireLen))
		spb = append(spb, pkts[30].Data...)
		b = append(b, ngBlock(bo, 3, spb)...)
		q := pkts[30]
		q.Link, q.Time = capture.LinkLinuxSLL, time.Unix(0, 0).UTC()
		want = append(want, q) // WireLen == len(Data): no padding captured
		cases = append(cases, tc{"pcapng-" + bo.String(), b, want, time.Nanosecond})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				b := c.b
				if gz {
					var zb bytes.Buffer
					zw := gzip.NewWriter(&zb)
					zw.Write(b)
					zw.Close()
					b = zb.Bytes()
				}
				got, err := readAll(t, b)
				if err != nil {
					t.Fatalf("gzip %v: %v", gz, err)
				}
				equalPackets(t, got, c.want, c.prec)
			}
		})
	}
}

// TestReader_SimplePacketSnaplen reads simple packet blocks cut by the
// interface's snapshot length: the block's data field is padded to 4
// bytes, so the captured length is the smaller of the original length and
// the snapshot length (pcapng draft, section 4.4), never the padded field.
func TestReader_SimplePacketSnaplen(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		data := make([]byte, 62)
		for i := range data {
			data[i] = byte(i + 1)
		}
		for _, c := range []struct {
			name      string
			snap      uint32
			wire      int
			wantBytes int
		}{
			{"cut at snaplen 62 of 100", 62, 100, 62}, // 62 bytes + 2 of padding
			{"whole 61-byte packet", 0, 61, 61},       // snaplen 0: no limit
			{"whole packet below snaplen", 65535, 61, 61},
		} {
			idb := bo.AppendUint16(nil, uint16(capture.LinkEthernet))
			idb = bo.AppendUint16(idb, 0)
			idb = bo.AppendUint32(idb, c.snap)
			b := append(ngSHB(bo), ngBlock(bo, 1, idb)...)
			spb := bo.AppendUint32(nil, uint32(c.wire))
			spb = append(spb, data[:c.wantBytes]...)
			b = append(b, ngBlock(bo, 3, spb)...)
			got, err := readAll(t, b)
			if err != nil {
				t.Fatalf("%s %v: %v", c.name, bo, err)
			}
			if len(got) != 1 || !bytes.Equal(got[0].Data, data[:c.wantBytes]) || got[0].WireLen != c.wire {
				t.Fatalf("%s %v: got %d packets, first %x (wire %d); want %x (wire %d)", c.name, bo, len(got), got[0].Data, got[0].WireLen, data[:c.wantBytes], c.wire)
			}
		}
	}
}

// writeTrace writes n packets to a pcap file and returns its path and
// bytes, with the offset where each record starts.
func writeTrace(t *testing.T, n int) (string, []byte, []int) {
	t.Helper()
	pkts := testPackets(n, capture.LinkEthernet)
	var buf bytes.Buffer
	if err := capture.Write(&buf, pkts); err != nil {
		t.Fatal(err)
	}
	offs := []int{24}
	for _, p := range pkts {
		offs = append(offs, offs[len(offs)-1]+16+len(p.Data))
	}
	return filepath.Join(t.TempDir(), "trace.pcap"), buf.Bytes(), offs
}

func TestReadFile_Damaged(t *testing.T) {
	path, b, offs := writeTrace(t, 40)
	type tc struct {
		name    string
		b       []byte
		n       int   // packets delivered before the error
		sent    error // sentinel
		message string
	}
	flip := func(off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	cases := []tc{
		{"cut in record header", b[:offs[17]+5], 17, capture.ErrTruncated, "record 18 at offset " + strconv.Itoa(offs[17]) + ": truncated: record header needs 16 bytes, 5 left"},
		{"cut in record data", b[:offs[30]+16+3], 30, capture.ErrTruncated, "record 31 at offset " + strconv.Itoa(offs[30]) + ": truncated: packet data needs"},
		{"cut in file header", b[:10], 0, capture.ErrTruncated, "truncated: pcap file header needs 24 bytes, 10 left"},
		{"empty", nil, 0, capture.ErrTruncated, "truncated: file header needs 4 bytes, 0 left"},
		{"caplen absurd", flip(offs[5]+8, 0xfffffff0), 5, capture.ErrCorrupt, "record 6 at offset " + strconv.Itoa(offs[5]) + ": corrupt: captured length 4294967280 exceeds the maximum 262144"},
		{"caplen past the end", flip(offs[39]+8, 5000), 39, capture.ErrTruncated, "record 40"},
		{"bad magic", flip(0, 0x12345678), 0, capture.ErrFormat, "unknown magic number 0x78563412 (pcap a1b2c3d4 or a1b23c4d in either byte order, pcapng 0a0d0d0a, or gzip 1f8b accepted)"},
		{"bad version", flip(4, 7), 0, capture.ErrFormat, "pcap version 7.0"},
		{"archaic version 1", flip(4, 1), 0, capture.ErrFormat, "pcap version 1.0"}, // refused by libpcap too
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, c.b, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := capture.ReadFile(path)
			if err == nil {
				t.Fatalf("no error, %d packets", len(got))
			}
			if len(got) != c.n {
				t.Errorf("%d packets delivered before the error, want %d", len(got), c.n)
			}
			if !errors.Is(err, c.sent) {
				t.Errorf("error %v does not match %v", err, c.sent)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, c.message)
			}
			var re *capture.RecordError
			if !errors.As(err, &re) || re.File != path || (c.n > 0 && re.Record != c.n+1) {
				t.Errorf("error %#v: want a RecordError of %s, record %d", err, path, c.n+1)
			}
			// The packets delivered are intact.
			want := testPackets(40, capture.LinkEthernet)[:len(got)]
			equalPackets(t, got, want, time.Nanosecond)
		})
	}
	// A truncated gzip stream.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b)
	zw.Close()
	gzpath := path + ".gz"
	if err := os.WriteFile(gzpath, zb.Bytes()[:zb.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := capture.ReadFile(gzpath)
	if !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), gzpath) || len(got) == 0 || len(got) >= 40 {
		t.Errorf("half a gzip file: %d packets, error %v; want some packets and a truncation error naming the file", len(got), err)
	}
	// Errors are sticky.
	r, err := capture.NewReader(bytes.NewReader(b[:offs[3]+2]))
	if err != nil {
		t.Fatal(err)
	}
	var first error
	for i := 0; i < 6; i++ {
		_, err := r.Next()
		if i == 3 {
			first = err
		}
		if i >= 3 && err != first {
			t.Fatalf("call %d: error %v, want the sticky %v", i+1, err, first)
		}
	}
}

func TestReader_DamagedPcapng(t *testing.T) {
	var bo order = binary.LittleEndian
	p := testPackets(1, capture.LinkEthernet)[0]
	good := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
	epb := ngEPB(bo, 0, 1, p, false)
	for _, c := range []struct {
		name string
		b    []byte
		sent error
		msg  string
	}{
		{"trailer mismatch", append(bytes.Clone(good), append(epb[:len(epb)-4], 1, 0, 0, 0)...), capture.ErrCorrupt, "block trailer length 1 differs"},
		{"unknown interface", append(bytes.Clone(good), ngEPB(bo, 3, 1, p, false)...), capture.ErrCorrupt, "packet of interface 3, but 1 described"},
		{"odd block length", append(bytes.Clone(good), 6, 0, 0, 0, 13, 0, 0, 0), capture.ErrCorrupt, "length 13"},
		{"cut block", append(bytes.Clone(good), epb[:30]...), capture.ErrTruncated, "record 1 at offset"},
		{"bad byte-order magic", func() []byte {
			shb := ngSHB(bo)
			bo.PutUint32(shb[8:], 0x12345678)
			return shb
		}(), capture.ErrFormat, "pcapng byte-order magic 0x78563412 (1a2b3c4d in either byte order expected)"},
		{"spb first", append(ngSHB(bo), ngBlock(bo, 3, []byte{4, 0, 0, 0, 1, 2, 3, 4})...), capture.ErrCorrupt, "before any interface"},
		{"caplen beyond block", func() []byte {
			e := bytes.Clone(epb)
			bo.PutUint32(e[20:], 4000)
			return append(bytes.Clone(good), e...)
		}(), capture.ErrCorrupt, "does not fit"},
	} {
		_, err := readAll(t, c.b)
		if !errors.Is(err, c.sent) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %v saying %q", c.name, err, c.sent, c.msg)
		}
	}
}

// TestReader_LinkType checks Reader.LinkType: the file header's for pcap,
// the first interface's for pcapng, Ethernet before any interface.
func TestReader_LinkType(t *testing.T) {
	var bo order = binary.LittleEndian
	for _, c := range []struct {
		name string
		b    []byte
		want capture.LinkType
	}{
		{"pcap", pcapBytes(bo, false, 65535, capture.LinkLinuxSLL, nil), capture.LinkLinuxSLL},
		{"pcapng before any interface", ngSHB(bo), capture.LinkEthernet},
		{"pcapng", append(append(ngSHB(bo), ngIDB(bo, capture.LinkRaw, 0, 0)...), ngIDB(bo, capture.LinkNull, 0, 0)...), capture.LinkRaw},
	} {
		r, err := capture.NewReader(bytes.NewReader(c.b))
		if err != nil {
			t.Fatal(err)
		}
		r.Next() // reads the interfaces, if any, then ends
		if got := r.LinkType(); got != c.want {
			t.Errorf("%s: LinkType %v, want %v", c.name, got, c.want)
		}
	}
}

// TestReader_TruncatedGzip cuts a gzip file inside its header: the error
// says truncated, like any other cut.
func TestReader_TruncatedGzip(t *testing.T) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(pcapBytes(binary.LittleEndian, false, 65535, capture.LinkEthernet, testPackets(2, capture.LinkEthernet)))
	zw.Close()
	for _, n := range []int{2, 5, 9} {
		_, err := capture.NewReader(bytes.NewReader(zb.Bytes()[:n]))
		if !errors.Is(err, capture.ErrTruncated) || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "gzip header") {
			t.Errorf("gzip cut after %d bytes: error %v, want %v naming the gzip header", n, err, capture.ErrTruncated)
		}
	}
}

// TestReader_InterfaceBomb reads a small gzip file that inflates to
// 200,000 interface description blocks: the reader must refuse them past
// its interface limit instead of keeping every one.
func TestReader_InterfaceBomb(t *testing.T) {
	var bo order = binary.LittleEndian
	idb := ngBlock(bo, 1, []byte{1, 0, 0, 0, 0, 0, 0, 0}) // Ethernet, no snaplen, no options
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(ngSHB(bo))
	zw.Write(bytes.Repeat(idb, 200_000))
	zw.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAll(t, zb.Bytes())
	runtime.ReadMemStats(&after)
	if !errors.Is(err, capture.ErrCorrupt) || !strings.Contains(err.Error(), "interfaces") {
		t.Errorf("%d-byte file of 200,000 interfaces: error %v, want %v about interfaces", zb.Len(), err, capture.ErrCorrupt)
	}
	// 65,536 interfaces of 24 bytes, allocated about five times over as the
	// slice grows by a quarter at a time, and the gzip and bufio state.
	if d := after.TotalAlloc - before.TotalAlloc; d > 12<<20 {
		t.Errorf("reading a %d-byte file allocated %d bytes", zb.Len(), d)
	}
}

// TestReader_NextIntoDoesNotAllocate: past the first packet (before which
// a pcapng Reader reads the interface block), NextInto into a buffer that
// holds every packet allocates nothing. It counts every allocation of the
// loop: testing.AllocsPerRun's integer average hides anything below one
// per packet. Gzip input is left out: compress/flate allocates the
// decoding tables of most compressed blocks of a real trace (not of this
// regular one), as the Reader's documentation says.
func TestReader_NextIntoDoesNotAllocate(t *testing.T) {
	pkts := testPackets(400, capture.LinkEthernet)
	var bo order = binary.LittleEndian
	ng := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 0, 0)...)
	for _, p := range pkts {
		ng = append(ng, ngEPB(bo, 0, uint64(p.Time.UnixMicro()), p, false)...)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for name, b := range map[string][]byte{
		"pcap":   pcapBytes(bo, true, 65535, capture.LinkEthernet, pkts),
		"pcapng": ng,
	} {
		r, err := capture.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		if _, err := r.NextInto(buf); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 300 {
			p, err := r.NextInto(buf)
			if err != nil {
				t.Fatal(err)
			}
			buf = p.Data
		}
		runtime.ReadMemStats(&after)
		if n := after.Mallocs - before.Mallocs; n != 0 {
			t.Errorf("%s: NextInto allocated %d times in 300 packets, want 0", name, n)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.pcap", "a/c.PCAPNG", "a/d.pcap.gz", "a/e/f.cap", "notes.txt", "x.pcap.zip"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	os.Symlink(filepath.Join(dir, "b.pcap"), filepath.Join(dir, "link.pcap"))
	os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "dirlink.pcap")) // a link to a directory is not a capture
	got, err := capture.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(dir, g)
		rel = append(rel, filepath.ToSlash(r))
	}
	if want := "a/c.PCAPNG a/d.pcap.gz a/e/f.cap b.pcap link.pcap"; strings.Join(rel, " ") != want {
		t.Errorf("Files = %v, want %s", rel, want)
	}
	if _, err := capture.Files(filepath.Join(dir, "b.pcap")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Files of a file: %v", err)
	}
	if _, err := capture.Files(filepath.Join(dir, "missing")); err == nil {
		t.Error("Files of a missing directory: no error")
	}
}

// TestFiles_SymlinkedRoot: Files of a symbolic link to a directory lists
// the captures of that directory, under the link's path, as os.Stat and
// every other directory argument suggest. It used to return none and no
// error: filepath.WalkDir does not descend into a root that is a link.
func TestFiles_SymlinkedRoot(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	for _, name := range []string{"a.pcap", "sub/b.pcapng"} {
		p := filepath.Join(real, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	got, err := capture.Files(link)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(link, "a.pcap"), filepath.Join(link, "sub", "b.pcapng")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Files(%s) = %v, want %v", link, got, want)
	}
}

// TestReader_PcapngTimeOutOfRange: a pcapng timestamp (offset included)
// beyond the years a time.Time holds is a RecordError wrapping ErrCorrupt,
// after the packets before it; it used to wrap into a time centuries or
// eons away. A large time that fits is read as it is.
func TestReader_PcapngTimeOutOfRange(t *testing.T) {
	p := capture.Packet{Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet}
	bo := binary.LittleEndian
	for _, c := range []struct {
		name     string
		tsresol  byte
		offset   int64
		bad      uint64
		okTime   uint64
		wantUnix int64
	}{
		{"1 unit per second", 0x80, 0, 1 << 63, 1e12, 1e12},
		{"nanoseconds, large offset", 9, math.MaxInt64 - 62135596800 - 100, 200e9, 50e9, math.MaxInt64 - 62135596800 - 50},
	} {
		b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, c.tsresol, c.offset)...)
		b = append(b, ngEPB(bo, 0, c.okTime, p, false)...)
		b = append(b, ngEPB(bo, 0, c.bad, p, false)...)
		got, err := readAll(t, b)
		var re *capture.RecordError
		if !errors.As(err, &re) || !errors.Is(err, capture.ErrCorrupt) || re.Record != 2 || !strings.Contains(err.Error(), "timestamp") {
			t.Errorf("%s: %v, want a RecordError for record 2 naming the timestamp", c.name, err)
		}
		if len(got) != 1 || got[0].Time.Unix() != c.wantUnix {
			t.Errorf("%s: %d packets before the error (%v); want 1 at %d s", c.name, len(got), got, c.wantUnix)
		}
	}
}

// TestOpen_Directory: a directory given to Open or ReadFile is refused as
// not a capture, with a pointer to Files; it used to fail in the first read
// with "is a directory: file header", an I/O error matching no sentinel.
func TestOpen_Directory(t *testing.T) {
	dir := t.TempDir()
	if r, err := capture.Open(dir); err == nil {
		r.Close()
		t.Fatal("Open of a directory: no error")
	} else if !errors.Is(err, capture.ErrFormat) || !strings.Contains(err.Error(), "Files") {
		t.Errorf("Open of a directory: %v, want ErrFormat and a pointer to Files", err)
	}
	if _, err := capture.ReadFile(dir); !errors.Is(err, capture.ErrFormat) {
		t.Errorf("ReadFile of a directory: %v, want ErrFormat", err)
	}
}

// ngIDBRaw encodes an Ethernet interface block with the given options
// (already encoded, opt_endofopt included or not) as its whole body after
// the link type, reserved field and snapshot length.
func ngIDBRaw(bo order, opts []byte) []byte {
	body := bo.AppendUint16(nil, uint16(capture.LinkEthernet))
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, 1, append(body, opts...))
}

// ngOpt encodes one option, its value padded to 4 bytes.
func ngOpt(bo order, code uint16, v []byte) []byte {
	o := bo.AppendUint16(nil, code)
	o = bo.AppendUint16(o, uint16(len(v)))
	o = append(o, v...)
	return append(o, make([]byte, (4-len(v)%4)%4)...)
}

// TestReader_PcapngInterfaceOptions reads interface options at the edges
// of what the pcapng draft allows (section 4.2): an option list ending
// without opt_endofopt (the block's end ends it), the finest binary
// resolution 2^-63, negative if_tsoffsets (one of -2^62 s, whose distance
// to the last second a time.Time holds exceeds an int64), and options
// longer than the
// part of them the Reader parses, which it skips to the block's trailer.
func TestReader_PcapngInterfaceOptions(t *testing.T) {
	p := capture.Packet{Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, WireLen: 14, Link: capture.LinkEthernet}
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		i8 := func(v int64) []byte { return bo.AppendUint64(nil, uint64(v)) }
		long := ngOpt(bo, 3, bytes.Repeat([]byte{'d'}, 65000)) // if_description
		long = append(long, ngOpt(bo, 3, bytes.Repeat([]byte{'e'}, 2000))...)
		for _, c := range []struct {
			name string
			opts []byte
			ts   uint64
			want time.Time
		}{
			{"if_tsresol last, no opt_endofopt", ngOpt(bo, 9, []byte{9}), 1_500_000_000_123, time.Unix(1500, 123)},
			{"if_tsresol 2^-63", append(ngOpt(bo, 9, []byte{0x80 | 63}), 0, 0, 0, 0), 3 << 62, time.Unix(1, 5e8)},
			{"if_tsoffset last, no opt_endofopt", append(ngOpt(bo, 9, []byte{9}), ngOpt(bo, 14, i8(1000))...), 2000e9 + 7, time.Unix(3000, 7)},
			{"negative if_tsoffset", append(append(ngOpt(bo, 9, []byte{9}), ngOpt(bo, 14, i8(-1000))...), 0, 0, 0, 0), 2000e9 + 7, time.Unix(1000, 7)},
			{"if_tsoffset of -2^62 s", append(append(ngOpt(bo, 9, []byte{9}), ngOpt(bo, 14, i8(-1<<62))...), 0, 0, 0, 0), 5e9, time.Unix(5-1<<62, 0)},
			{"options past the parsed part", append(long, 0, 0, 0, 0), 5e6, time.Unix(5, 0)}, // µs: the default
		} {
			b := append(ngSHB(bo), ngIDBRaw(bo, c.opts)...)
			b = append(b, ngEPB(bo, 0, c.ts, p, false)...)
			b = append(b, ngEPB(bo, 0, c.ts, p, true)...)
			got, err := readAll(t, b)
			if err != nil {
				t.Fatalf("%s %v: %v", c.name, bo, err)
			}
			q := p
			q.Time = c.want.UTC()
			equalPackets(t, got, []capture.Packet{q, q}, time.Nanosecond)
		}
	}
}

// TestReader_ObsoletePacketDrops reads an obsolete packet block whose
// 16-bit drops count, after its 16-bit interface number, is not zero: the
// packet belongs to the interface the first 16 bits name.
func TestReader_ObsoletePacketDrops(t *testing.T) {
	p := testPackets(1, capture.LinkRaw)[0]
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		b := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 9, 0)...)
		b = append(b, ngIDB(bo, capture.LinkRaw, 9, 0)...)
		opb := ngEPB(bo, 1, uint64(p.Time.UnixNano()), p, true)
		bo.PutUint16(opb[10:], 7) // 7 packets dropped
		got, err := readAll(t, append(b, opb...))
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		equalPackets(t, got, []capture.Packet{p}, time.Nanosecond)
	}
}

// TestReader_InterfaceLimit: a section may describe exactly 65,536
// interfaces, the obsolete packet block's 16-bit interface numbers; the
// 65,537th is corruption.
func TestReader_InterfaceLimit(t *testing.T) {
	var bo order = binary.LittleEndian
	idb := ngBlock(bo, 1, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	p := testPackets(1, capture.LinkEthernet)[0]
	b := append(ngSHB(bo), bytes.Repeat(idb, 1<<16)...)
	got, err := readAll(t, append(bytes.Clone(b), ngEPB(bo, 1<<16-1, uint64(p.Time.UnixMicro()), p, true)...))
	if err != nil || len(got) != 1 {
		t.Fatalf("65,536 interfaces, a packet of the last: %d packets, %v", len(got), err)
	}
	_, err = readAll(t, append(b, idb...))
	if !errors.Is(err, capture.ErrCorrupt) || !strings.Contains(err.Error(), "interfaces") {
		t.Errorf("65,537 interfaces: %v, want %v about interfaces", err, capture.ErrCorrupt)
	}
}

// TestReader_MaxRecordLen: a record of exactly MaxRecordLen bytes is
// written and read back, in pcap and in a pcapng enhanced packet block;
// one byte more is refused by the Reader.
func TestReader_MaxRecordLen(t *testing.T) {
	data := make([]byte, capture.MaxRecordLen)
	for i := range data {
		data[i] = byte(i * 7)
	}
	p := capture.Packet{Time: time.Unix(1, 0).UTC(), Data: data, WireLen: len(data), Link: capture.LinkEthernet}
	var buf bytes.Buffer
	if err := capture.Write(&buf, []capture.Packet{p}); err != nil {
		t.Fatalf("writing %d bytes: %v", len(data), err)
	}
	got, err := readAll(t, buf.Bytes())
	if err != nil {
		t.Fatalf("reading %d bytes: %v", len(data), err)
	}
	equalPackets(t, got, []capture.Packet{p}, time.Nanosecond)

	var bo order = binary.LittleEndian
	ng := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 9, 0)...)
	got, err = readAll(t, append(ng, ngEPB(bo, 0, 1e9, p, false)...))
	if err != nil {
		t.Fatalf("pcapng, %d bytes: %v", len(data), err)
	}
	equalPackets(t, got, []capture.Packet{p}, time.Nanosecond)

	p.Data = append(data, 0)
	_, err = readAll(t, pcapBytes(bo, true, 65535, capture.LinkEthernet, []capture.Packet{p}))
	if !errors.Is(err, capture.ErrCorrupt) {
		t.Errorf("pcap record of MaxRecordLen+1 bytes: %v, want %v", err, capture.ErrCorrupt)
	}
}

// TestReader_WireLenBelowCaplen: a record whose original length is below
// its captured length (a writer's mistake) has WireLen len(Data), as the
// Packet type promises, in pcap and pcapng.
func TestReader_WireLenBelowCaplen(t *testing.T) {
	p := testPackets(1, capture.LinkEthernet)[0]
	want := p
	p.WireLen = 5
	var bo order = binary.BigEndian
	ng := append(ngSHB(bo), ngIDB(bo, capture.LinkEthernet, 9, 0)...)
	ng = append(ng, ngEPB(bo, 0, uint64(p.Time.UnixNano()), p, false)...)
	for name, b := range map[string][]byte{"pcap": pcapBytes(bo, true, 65535, capture.LinkEthernet, []capture.Packet{p}), "pcapng": ng} {
		got, err := readAll(t, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		equalPackets(t, got, []capture.Packet{want}, time.Nanosecond)
	}
}

// TestReadFile_Arena reads packets that fill ReadFile's shared blocks of
// memory exactly (2 KiB packets, 512 to a MiB): every packet keeps its own
// bytes, and each Data has its length as capacity, so appending to one
// never overwrites the next.
func TestReadFile_Arena(t *testing.T) {
	pkts := make([]capture.Packet, 1100)
	t0 := time.Unix(1e9, 0).UTC()
	for i := range pkts {
		d := make([]byte, 2048)
		for j := range d {
			d[j] = byte(i*13 + j)
		}
		binary.BigEndian.PutUint32(d, uint32(i))
		pkts[i] = capture.Packet{Time: t0.Add(time.Duration(i)), Data: d, WireLen: len(d), Link: capture.LinkEthernet}
	}
	path := filepath.Join(t.TempDir(), "arena.pcap")
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	got, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalPackets(t, got, pkts, time.Nanosecond)
	for i := range got[:len(got)-1] {
		if c := cap(got[i].Data); c != len(got[i].Data) {
			t.Fatalf("packet %d: capacity %d, length %d", i+1, c, len(got[i].Data))
		}
	}
	_ = append(got[0].Data, 0xee, 0xee, 0xee, 0xee)
	equalPackets(t, got, pkts, time.Nanosecond)
}

// TestWriter_Bytes checks the Writer's output field by field against
// pcap-savefile(5): a little-endian file header with the nanosecond magic,
// version 2.4, snapshot length MaxRecordLen and the link type (up to
// 65,535, the 16 bits pcap has for it), then per packet its seconds,
// nanoseconds, captured and original lengths. The zero Time is written as
// the Unix epoch, and a WireLen below len(Data) as len(Data).
func TestWriter_Bytes(t *testing.T) {
	le := binary.LittleEndian
	for _, link := range []capture.LinkType{capture.LinkEthernet, 0xffff} {
		data := []byte{1, 2, 3, 4, 5}
		pkts := []capture.Packet{
			{Time: time.Unix(1700000000, 123456789), Data: data, WireLen: 1500, Link: link},
			{Data: data, Link: link}, // zero Time, no WireLen
		}
		var b bytes.Buffer
		if err := capture.Write(&b, pkts); err != nil {
			t.Fatalf("link %d: %v", link, err)
		}
		var want []byte
		want = le.AppendUint32(want, 0xa1b23c4d)
		want = le.AppendUint16(want, 2)
		want = le.AppendUint16(want, 4)
		want = le.AppendUint32(want, 0) // thiszone
		want = le.AppendUint32(want, 0) // sigfigs
		want = le.AppendUint32(want, 256<<10)
		want = le.AppendUint32(want, uint32(link))
		for _, r := range [][4]uint32{{1700000000, 123456789, 5, 1500}, {0, 0, 5, 5}} {
			for _, v := range r {
				want = le.AppendUint32(want, v)
			}
			want = append(want, data...)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("link %d: wrote\n%x, want\n%x", link, b.Bytes(), want)
		}
	}
}
