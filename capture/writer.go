package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Writer writes packets as a pcap file with nanosecond timestamps in
// little-endian byte order and a snapshot length of [MaxRecordLen]. A pcap
// file has one link type, given to [NewWriter]. Writes are buffered: call
// [Writer.Flush] at the end. The zero Writer is not valid; use [NewWriter]:
// it has no output, and WritePacket and Flush return an error saying so.
// A Writer is not safe for concurrent use.
type Writer struct {
	w    *bufio.Writer
	link LinkType
	n    int
	hdr  [pcapRecordLen]byte
}

// NewWriter writes a pcap file header for the link type to w and returns
// a Writer of packets of that link type. A nil w is an error.
func NewWriter(w io.Writer, link LinkType) (*Writer, error) {
	if w == nil {
		return nil, fmt.Errorf("capture: NewWriter needs an io.Writer, got nil")
	}
	if link > 0xffff {
		return nil, fmt.Errorf("capture: pcap link type must be below 65536, got %d", link)
	}
	bw := bufio.NewWriterSize(w, bufSize)
	var h [pcapHeaderLen]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapNano)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], MaxRecordLen)
	le.PutUint32(h[20:], uint32(link))
	if _, err := bw.Write(h[:]); err != nil {
		return nil, fmt.Errorf("capture: write header: %w", err)
	}
	return &Writer{w: bw, link: link}, nil
}

// WritePacket appends one packet. It returns an error when the packet's
// link type differs from the file's; when a [LinkNull] packet of 4 bytes
// or more does not start with a BSD loopback header, an address family
// (2, 7, 16, 23, 24, 28 or 30, in either byte order) followed for IPv4 (2)
// and IPv6 (24, 28, 30) by a packet of that version, since a Packet whose
// Link was left zero is most often an Ethernet frame; when Data is longer
// than [MaxRecordLen]; when
// WireLen is above what pcap can hold (2^32-1); or when Time is outside the
// range pcap can hold (1970 to 2106). The zero Time is written as the
// Unix epoch, and a WireLen below len(Data) (0 in a Packet literal that
// leaves it out) as len(Data).
func (w *Writer) WritePacket(p Packet) error {
	if w.w == nil {
		return errZeroWriter
	}
	if p.Time.IsZero() {
		p.Time = time.Unix(0, 0)
	}
	w.n++
	if p.Link != w.link {
		return fmt.Errorf("capture: packet %d has link type %v, the pcap file %v (one link type per file)", w.n, p.Link, w.link)
	}
	if p.Link == LinkNull && len(p.Data) >= 4 && !loopbackHeader(p.Data) {
		return fmt.Errorf("capture: packet %d has link type null (BSD loopback, the zero LinkType) but does not start with a loopback header (an address family 2, 7, 16, 23, 24, 28 or 30 in either byte order, then for 2 an IPv4 and for 24, 28, 30 an IPv6 packet): % x; set Packet.Link (LinkEthernet for an Ethernet frame)", w.n, p.Data[:min(len(p.Data), 5)])
	}
	if len(p.Data) > MaxRecordLen {
		return fmt.Errorf("capture: packet %d has %d bytes, at most %d can be written", w.n, len(p.Data), MaxRecordLen)
	}
	sec := p.Time.Unix()
	if sec < 0 || sec > 0xffffffff {
		return fmt.Errorf("capture: packet %d has time %v, outside pcap's range (1970 to 2106)", w.n, p.Time)
	}
	wire := max(p.WireLen, len(p.Data))
	if int64(wire) > 0xffffffff { // int64: an int may be 32 bits
		return fmt.Errorf("capture: packet %d has wire length %d, above pcap's %d", w.n, wire, uint32(0xffffffff))
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(sec))
	le.PutUint32(w.hdr[4:], uint32(p.Time.Nanosecond()))
	le.PutUint32(w.hdr[8:], uint32(len(p.Data)))
	le.PutUint32(w.hdr[12:], uint32(wire))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("capture: write packet %d: %w", w.n, err)
	}
	if _, err := w.w.Write(p.Data); err != nil {
		return fmt.Errorf("capture: write packet %d: %w", w.n, err)
	}
	return nil
}

// loopbackHeader reports whether b (4 bytes or more) starts as a BSD
// loopback record: a 4-byte address family in host byte order of either
// kind, one of the BSD numbers libpcap knows (IPv4 2, OSI 7, AppleTalk 16,
// IPX 23; IPv6 24 on NetBSD and OpenBSD, 28 on FreeBSD, 30 on Darwin), and
// for IPv4 and IPv6, a packet of that IP version after it (when there is a
// byte after it). The version check is what tells most Ethernet frames
// apart: a locally administered MAC address such as 02:00:00:00:00:01
// starts with family 2.
func loopbackHeader(b []byte) bool {
	af := binary.LittleEndian.Uint32(b)
	if af > 0xff {
		af = binary.BigEndian.Uint32(b)
	}
	version := byte(0)
	switch af {
	case 7, 16, 23:
		return true
	case 2:
		version = 4
	case 24, 28, 30:
		version = 6
	default:
		return false
	}
	return len(b) == 4 || b[4]>>4 == version
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.w == nil {
		return errZeroWriter
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("capture: flush: %w", err)
	}
	return nil
}

// Write writes pkts to w as one pcap file (see [Writer]) with the link
// type of the first packet (Ethernet when pkts is empty).
func Write(w io.Writer, pkts []Packet) error {
	link := LinkEthernet
	if len(pkts) > 0 {
		link = pkts[0].Link
	}
	pw, err := NewWriter(w, link)
	if err != nil {
		return err
	}
	for _, p := range pkts {
		if err := pw.WritePacket(p); err != nil {
			return err
		}
	}
	return pw.Flush()
}

// WriteFile writes pkts to a new file at path with [Write],
// gzip-compressed when the name ends in ".gz".
func WriteFile(path string, pkts []Packet) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("capture: %w", cerr)
		}
	}()
	if !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return Write(f, pkts)
	}
	zw := gzip.NewWriter(f)
	if err := Write(zw, pkts); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}
